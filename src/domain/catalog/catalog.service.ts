import { z } from "zod";
import type { Db, PolicyScope, PolicyType, Tx } from "../../db/client.ts";
import { NotFoundError } from "../errors.ts";
import { exchangeRoleGroups, exchangeRoles, exchangeTasks } from "./exchange-catalog.ts";

export const policyTypes = ["TASK", "ROLE", "ROLE_GROUP"] as const;
export const policyScopes = ["EXCHANGE", "OFFICE365"] as const;
/** The optional type and scope of a target, defaulting as the contract says (TASK, EXCHANGE). */
export const targetKindFields = {
  type: z
    .enum(policyTypes)
    .nullish()
    .transform((value) => value ?? "TASK"),
  scope: z
    .enum(policyScopes)
    .nullish()
    .transform((value) => value ?? "EXCHANGE"),
};

/** No grant lasts longer than 30 days, whatever a policy says. */
export const maxGrantHours = 720;

/** Gives a new organization the Exchange Online catalog. */
export async function installExchangeCatalog(tx: Tx, organizationId: string): Promise<void> {
  const scope: PolicyScope = "EXCHANGE";
  const entry = (type: PolicyType, name: string) => ({ organizationId, type, scope, name });
  await tx.catalogEntry.createMany({
    data: [
      ...exchangeTasks.map((name) => entry("TASK", name)),
      ...Object.keys(exchangeRoles).map((name) => entry("ROLE", name)),
      ...Object.keys(exchangeRoleGroups).map((name) => entry("ROLE_GROUP", name)),
    ],
  });
  const entries = await tx.catalogEntry.findMany({
    where: { organizationId },
    select: { id: true, type: true, name: true },
  });
  const idOf = (type: PolicyType, name: string) => {
    const found = entries.find((candidate) => candidate.type === type && candidate.name === name);
    if (!found) throw new Error(`catalog entry ${type} ${name} missing`);
    return found.id;
  };
  await tx.catalogMembership.createMany({
    data: [
      ...Object.entries(exchangeRoles).flatMap(([role, tasks]) =>
        tasks.map((task) => ({ parentId: idOf("ROLE", role), childId: idOf("TASK", task) })),
      ),
      ...Object.entries(exchangeRoleGroups).flatMap(([group, roles]) =>
        roles.map((role) => ({ parentId: idOf("ROLE_GROUP", group), childId: idOf("ROLE", role) })),
      ),
    ],
  });
}

/**
 * IDs of the catalog entries that cover a task: the task itself, every role that
 * contains it and every role group that contains such a role. Empty when the task
 * is not in the catalog.
 */
export async function entriesCoveringTask(db: Db | Tx, organizationId: string, task: string): Promise<string[]> {
  const rows = await db.$queryRaw<{ id: string }[]>`
    WITH RECURSIVE covering(id) AS (
      SELECT id FROM "CatalogEntry"
      WHERE "organizationId" = ${organizationId}::uuid AND type = 'TASK' AND name = ${task}
      UNION
      SELECT m."parentId" FROM "CatalogMembership" m JOIN covering c ON m."childId" = c.id
    )
    SELECT id::text FROM covering`;
  return rows.map((row) => row.id);
}

/** The catalog entry a (type, scope, name) names; policies and requests may only target these. */
export async function findCatalogEntry(
  tx: Db | Tx,
  organizationId: string,
  type: PolicyType,
  scope: string,
  name: string,
) {
  const entry = await tx.catalogEntry.findFirst({ where: { organizationId, type, name } });
  if (!entry || entry.scope !== scope) {
    throw new NotFoundError("target", `${type.toLowerCase().replace("_", " ")} "${name}" in the ${scope} catalog`);
  }
  return entry;
}
