import { z } from "zod";
import type { PolicyType } from "../../db/client.ts";
import { requireAdmin } from "../access.ts";
import type { ServiceContext } from "../context.ts";
import { ConflictError, NotFoundError } from "../errors.ts";
import { transition } from "../transition.ts";
import { nonEmptyText, optionalText, parseInput } from "../validation.ts";
import { policyScopes, policyTypes } from "./catalog.service.ts";

const addInput = z.object({
  type: z.enum(policyTypes),
  scope: z
    .enum(policyScopes)
    .nullish()
    .transform((value) => value ?? "EXCHANGE"),
  name: nonEmptyText(256),
  description: optionalText(1024),
  members: z.array(nonEmptyText(256)).max(500, "must list at most 500 entries").nullish(),
});

/** What a role or role group may contain. */
const memberType: Record<PolicyType, PolicyType | null> = { TASK: null, ROLE: "TASK", ROLE_GROUP: "ROLE" };

/** Adds a task, role or role group, so an integrator can govern its own tasks. */
export async function addCatalogEntry(ctx: ServiceContext, rawInput: unknown) {
  requireAdmin(ctx);
  const input = parseInput(addInput, rawInput);
  return transition(ctx, async ({ tx, audit, effect }) => {
    const childType = memberType[input.type];
    const names = [...new Set(input.members ?? [])];
    if (!childType && names.length > 0) throw new ConflictError("members: a task has no members");
    const children = childType
      ? await tx.catalogEntry.findMany({
          where: { organizationId: ctx.organizationId, type: childType, name: { in: names } },
        })
      : [];
    const missing = names.find((name) => !children.some((child) => child.name === name));
    if (missing) throw new NotFoundError("members", `${childType?.toLowerCase()} "${missing}" in the catalog`);
    const existing = await tx.catalogEntry.findFirst({
      where: { organizationId: ctx.organizationId, type: input.type, name: input.name },
    });
    if (existing) throw new ConflictError(`name: the catalog already has a ${input.type} named ${input.name}`);
    const entry = await tx.catalogEntry.create({
      data: {
        organizationId: ctx.organizationId,
        type: input.type,
        scope: input.scope,
        name: input.name,
        description: input.description,
        children: { create: children.map((child) => ({ childId: child.id })) },
      },
    });
    audit({
      action: "New-ElevatedAccessCatalogEntry",
      subjectId: entry.id,
      details: { type: entry.type, scope: entry.scope, name: entry.name, members: names.sort() },
    });
    effect({ kind: "coverageChanged", organizationId: ctx.organizationId });
    return entry;
  });
}
