import { z } from "zod";
import type { PolicyType } from "../../db/client.ts";
import { requireAdmin } from "../access.ts";
import type { ServiceContext } from "../context.ts";
import { ConflictError, NotFoundError, ValidationError } from "../errors.ts";
import { transition } from "../transition.ts";
import { nonEmptyText, optionalText, parseInput } from "../validation.ts";
import { findCatalogEntry, policyScopes, policyTypes } from "./catalog.service.ts";
import { catalogKeys } from "./names.ts";

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
      ? await Promise.all(
          names.map((name) =>
            findCatalogEntry(tx, ctx.organizationId, childType, input.scope, name).catch((error: unknown) => {
              if (error instanceof NotFoundError) {
                throw new NotFoundError("members", `${childType.toLowerCase()} "${name}" in the catalog`);
              }
              throw error;
            }),
          ),
        )
      : [];
    const keys = catalogKeys(input.type, input.name);
    if (!keys.key) throw new ValidationError("name", "must contain letters or digits");
    const existing = await tx.catalogEntry.findFirst({
      where: { organizationId: ctx.organizationId, type: input.type, key: keys.key },
    });
    if (existing) throw new ConflictError(`name: the catalog already has a ${input.type} named ${existing.name}`);
    const entry = await tx.catalogEntry.create({
      data: {
        organizationId: ctx.organizationId,
        type: input.type,
        scope: input.scope,
        name: input.name,
        ...keys,
        description: input.description,
        children: { create: [...new Set(children.map((child) => child.id))].map((childId) => ({ childId })) },
      },
    });
    audit({
      action: "New-ElevatedAccessCatalogEntry",
      subjectId: entry.id,
      details: {
        type: entry.type,
        scope: entry.scope,
        name: entry.name,
        members: children.map((child) => child.name).sort(),
      },
    });
    effect({ kind: "coverageChanged", organizationId: ctx.organizationId });
    return entry;
  });
}
