import { z } from "zod";
import { type Db, type PolicyScope, type PolicyType, Prisma, type Tx } from "../../db/client.ts";
import { NotFoundError, ValidationError } from "../errors.ts";
import { exchangeRoleGroups, exchangeRoles, exchangeTasks } from "./exchange-catalog.ts";
import { canonicalName, catalogKeys, shortTaskKey } from "./names.ts";

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
  const entry = (type: PolicyType, name: string) => ({ organizationId, type, scope, name, ...catalogKeys(type, name) });
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

/** A catalog entry that covers a task, and how far up from the task it sits (0: the task itself). */
export interface CoveringEntry {
  id: string;
  depth: number;
}

/** A task of the catalog that a typed name resolves to, with the entries that cover it. */
export interface ResolvedTask {
  id: string;
  name: string;
  covering: CoveringEntry[];
}

/**
 * The catalog tasks a typed name means: the task with that canonical name, or,
 * for a name typed without its module, every task with that short name (several
 * when two modules share a cmdlet name). Empty when the catalog does not know it.
 */
export async function resolveTask(db: Db | Tx, organizationId: string, typed: string): Promise<ResolvedTask[]> {
  const key = canonicalName("TASK", typed);
  if (!key) return [];
  // A name with a module must match whole; one without matches every module's task of that name.
  const match = key.includes("\\") ? Prisma.sql`key = ${key}` : Prisma.sql`"shortKey" = ${key}`;
  const rows = await db.$queryRaw<{ task: string; name: string; id: string; depth: number }[]>`
    WITH RECURSIVE covering(task, name, id, depth) AS (
      SELECT id, name, id, 0 FROM "CatalogEntry"
      WHERE "organizationId" = ${organizationId}::uuid AND type = 'TASK' AND ${match}
      UNION
      SELECT c.task, c.name, m."parentId", c.depth + 1 FROM "CatalogMembership" m JOIN covering c ON m."childId" = c.id
    )
    SELECT task::text, name, id::text, depth FROM covering ORDER BY task, depth`;
  const tasks = new Map<string, ResolvedTask>();
  for (const row of rows) {
    const task = tasks.get(row.task) ?? { id: row.task, name: row.name, covering: [] };
    task.covering.push({ id: row.id, depth: row.depth });
    tasks.set(row.task, task);
  }
  return [...tasks.values()];
}

/**
 * The catalog entry a (type, scope, name) names; policies and requests may only
 * target these. Names are matched in canonical form; a task may be named without
 * its module when that is unambiguous.
 */
export async function findCatalogEntry(
  tx: Db | Tx,
  organizationId: string,
  type: PolicyType,
  scope: string,
  name: string,
) {
  const key = canonicalName(type, name);
  const notFound = () =>
    new NotFoundError("target", `${type.toLowerCase().replace("_", " ")} "${name}" in the ${scope} catalog`);
  if (!key) throw notFound();
  const byShortName = type === "TASK" && !key.includes("\\");
  const entries = await tx.catalogEntry.findMany({
    where: { organizationId, type, ...(byShortName ? { shortKey: shortTaskKey(key) } : { key }) },
    orderBy: { name: "asc" },
  });
  if (entries.length > 1) {
    throw new ValidationError(
      "target",
      `"${name}" is ambiguous; name it with its module: ${entries.map((entry) => entry.name).join(", ")}`,
    );
  }
  const entry = entries[0];
  if (!entry || entry.scope !== scope) throw notFound();
  return entry;
}
