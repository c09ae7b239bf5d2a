import { z } from "zod";
import type { PolicyType, Prisma } from "../../db/client.ts";
import { requireAdmin } from "../access.ts";
import type { ServiceContext } from "../context.ts";
import { ConflictError, NotFoundError, ValidationError } from "../errors.ts";
import { transition } from "../transition.ts";
import { entityId, nonEmptyText, optionalText, parseInput } from "../validation.ts";
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

const updateEntryInput = z.object({
  id: entityId("CatalogEntry"),
  name: nonEmptyText(256).nullish(),
  description: optionalText(1024),
  /** Replaces the members of a role or role group. */
  members: z.array(nonEmptyText(256)).max(500, "must list at most 500 entries").nullish(),
});

/**
 * Set-ElevatedAccessCatalogEntry (admins): renames an entry, changes its description or
 * a role's or role group's members. Policies on it follow the new name; requests keep
 * the name they were filed with. What a grant covers follows the catalog at once.
 */
export async function updateCatalogEntry(ctx: ServiceContext, rawInput: unknown) {
  requireAdmin(ctx);
  const input = parseInput(updateEntryInput, rawInput);
  return transition(ctx, async ({ tx, audit, effect }) => {
    const entry = await tx.catalogEntry.findFirst({
      where: { id: input.id, organizationId: ctx.organizationId },
      include: { children: { include: { child: { select: { name: true } } } } },
    });
    if (!entry) throw new NotFoundError("id", "catalog entry");
    const details: Record<string, unknown> = {};
    if (input.name && input.name !== entry.name) {
      const keys = catalogKeys(entry.type, input.name);
      if (!keys.key) throw new ValidationError("name", "must contain letters or digits");
      const existing = await tx.catalogEntry.findFirst({
        where: { organizationId: ctx.organizationId, type: entry.type, key: keys.key, id: { not: entry.id } },
      });
      if (existing) throw new ConflictError(`name: the catalog already has a ${entry.type} named ${existing.name}`);
      await tx.catalogEntry.update({ where: { id: entry.id }, data: { name: input.name, ...keys } });
      await tx.approvalPolicy.updateMany({ where: { catalogEntryId: entry.id }, data: { target: input.name } });
      details.name = { from: entry.name, to: input.name };
    }
    if (input.description !== undefined && input.description !== entry.description) {
      await tx.catalogEntry.update({ where: { id: entry.id }, data: { description: input.description } });
      details.description = { from: entry.description, to: input.description };
    }
    if (input.members) {
      const childType = memberType[entry.type];
      if (!childType) throw new ConflictError("members: a task has no members");
      const children = await Promise.all(
        [...new Set(input.members)].map((name) =>
          findCatalogEntry(tx, ctx.organizationId, childType, entry.scope, name).catch((error: unknown) => {
            if (error instanceof NotFoundError) {
              throw new NotFoundError("members", `${childType.toLowerCase()} "${name}" in the catalog`);
            }
            throw error;
          }),
        ),
      );
      const before = entry.children.map((membership) => membership.child.name).sort();
      const after = children.map((child) => child.name).sort();
      if (before.join() !== after.join()) {
        await tx.catalogMembership.deleteMany({ where: { parentId: entry.id } });
        await tx.catalogMembership.createMany({
          data: [...new Set(children.map((child) => child.id))].map((childId) => ({ parentId: entry.id, childId })),
        });
        details.members = { from: before, to: after };
      }
    }
    if (Object.keys(details).length > 0) {
      audit({
        action: "Set-ElevatedAccessCatalogEntry",
        subjectId: entry.id,
        details: { type: entry.type, ...details },
      });
      effect({ kind: "coverageChanged", organizationId: ctx.organizationId });
    }
    return tx.catalogEntry.findUniqueOrThrow({ where: { id: entry.id } });
  });
}

/**
 * Remove-ElevatedAccessCatalogEntry (admins). Refused while a policy targets the entry
 * or requests were filed for it (they keep it for their history).
 */
export async function removeCatalogEntry(ctx: ServiceContext, rawInput: unknown) {
  requireAdmin(ctx);
  const input = parseInput(z.object({ id: entityId("CatalogEntry") }), rawInput);
  return transition(ctx, async ({ tx, audit, effect }) => {
    const entry = await tx.catalogEntry.findFirst({ where: { id: input.id, organizationId: ctx.organizationId } });
    if (!entry) throw new NotFoundError("id", "catalog entry");
    const [policies, requests] = await Promise.all([
      tx.approvalPolicy.count({ where: { catalogEntryId: entry.id } }),
      tx.accessRequest.count({ where: { catalogEntryId: entry.id } }),
    ]);
    if (policies > 0) throw new ConflictError(`id: a policy targets ${entry.name}; remove it first`);
    if (requests > 0) throw new ConflictError(`id: ${requests} requests were filed for ${entry.name} and keep it`);
    await tx.catalogEntry.delete({ where: { id: entry.id } });
    audit({
      action: "Remove-ElevatedAccessCatalogEntry",
      subjectId: entry.id,
      details: { type: entry.type, name: entry.name },
    });
    effect({ kind: "coverageChanged", organizationId: ctx.organizationId });
    return entry;
  });
}

/** The catalog entries a list shows: of one type, and whose name contains the search in any case. */
export function catalogSearch(
  organizationId: string,
  filter: { type?: PolicyType | null; search?: string | null },
): Prisma.CatalogEntryWhereInput {
  const search = filter.search?.trim();
  return {
    organizationId,
    ...(filter.type ? { type: filter.type } : {}),
    ...(search ? { name: { contains: search, mode: "insensitive" } } : {}),
  };
}
