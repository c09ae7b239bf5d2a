import { batched } from "../../db/batch.ts";
import { type AuthorizeReason, type Db, type PreparedStatement, Prisma, queryPrepared } from "../../db/client.ts";
import { uuidv7 } from "../webhooks/uuid.ts";

/** One authorizeTask answer, as the execution log keeps it. */
export interface ExecutionRow {
  organizationId: string;
  userId: string;
  callerId: string;
  task: string;
  resolvedTask: string | null;
  allowed: boolean;
  reason: AuthorizeReason;
  authorizationId: string | null;
  parameters: unknown;
  at: Date;
}

/**
 * The grants a verdict was decided on: the user's grants over these catalog entries that
 * are in their window at the execution's time, each as its grantVersion (below), sorted.
 */
export interface GrantsSeen {
  entryIds: string[];
  grants: string[];
}

/**
 * logged: written. refused: the caller may no longer ask (deactivated, or no longer an
 * enforcement service for another user's check). stale: the grants in the database are
 * not the ones the verdict was decided on. Nothing is written unless logged.
 */
export type LogOutcome = "logged" | "refused" | "stale";

/**
 * A grant row's identity and version, `id:version`, in SQL over "AccessAuthorization" a
 * and its "AccessRequest" r: any change of either row (status, window, terms) gives it
 * another version, since PostgreSQL writes every update as a new row version (xmin).
 */
const grantVersionSql = `a.id::text || ':' || a.xmin::text || ':' || r.xmin::text`;
export const grantVersion = Prisma.raw(grantVersionSql);

/** Rows of one INSERT at most (its 13 parameters are column arrays, so PostgreSQL's 65,535 is no bound). */
const maxBatch = 500;

/**
 * The executions of concurrent calls, one array per column. A row is written only while
 * its caller is an active user (and an enforcement service, when it asks for someone
 * else), and only while the user's grants in their window at the execution's time are,
 * row version for row version, the ones the verdict saw ("grants": their versions, sorted,
 * joined by commas; "entryIds": the catalog entries they were read for, joined the same way).
 */
const insertExecutionsStatement: PreparedStatement = {
  name: "elevate_insert_executions",
  text: `
    WITH v AS (
      SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::boolean[],
                           $8::"AuthorizeReason"[], $9::uuid[], $10::jsonb[], $11::timestamptz[], $12::text[], $13::text[])
        AS v(id, "organizationId", "userId", "callerId", task, "resolvedTask", allowed, reason, "authorizationId",
             parameters, at, "entryIds", grants)
    ), checked AS (
      SELECT v.*,
        EXISTS (SELECT 1 FROM "User" caller
                WHERE caller.id = v."callerId" AND caller."organizationId" = v."organizationId" AND caller.active
                  AND (v."userId" = v."callerId" OR 'ENFORCER' = ANY(caller.roles))) AS permitted,
        v."entryIds" IS NULL OR v.grants = (
          SELECT COALESCE(string_agg(${grantVersionSql}, ',' ORDER BY ${grantVersionSql} COLLATE "C"), '')
          FROM "AccessAuthorization" a JOIN "AccessRequest" r ON r.id = a."requestId"
          WHERE a."userId" = v."userId" AND a."catalogEntryId" = ANY(string_to_array(v."entryIds", ',')::uuid[])
            AND a.status IN ('ACTIVE', 'SCHEDULED') AND a."startsAt" <= v.at AND a."endsAt" > v.at) AS current
      FROM v
    ), inserted AS (
      INSERT INTO "TaskExecution" (id, "organizationId", "userId", "callerId", task, "resolvedTask", allowed, reason,
                                   "authorizationId", parameters, at)
      SELECT id, "organizationId", "userId", "callerId", task, "resolvedTask", allowed, reason, "authorizationId",
             parameters, at
      FROM checked WHERE permitted AND current
      RETURNING id
    )
    SELECT id::text, permitted, current FROM checked`,
};

/**
 * One INSERT, one commit, for the executions of concurrent calls, as a prepared statement
 * (src/db/client.ts: sent on every call, it is the hot path's one statement). The database
 * has the last word over anything the verdict was decided on in memory: a caller
 * deactivated a moment ago on another instance is refused, not answered, and a grant
 * revoked, ended, extended or approved a moment ago makes the call decide again, never
 * answer from what it saw before.
 */
async function insertExecutions(
  db: Db,
  batch: { id: string; row: ExecutionRow; seen: GrantsSeen | null }[],
): Promise<LogOutcome[]> {
  const rows = await queryPrepared<{ id: string; permitted: boolean; current: boolean }>(
    db,
    insertExecutionsStatement,
    [
      batch.map(({ id }) => id),
      batch.map(({ row }) => row.organizationId),
      batch.map(({ row }) => row.userId),
      batch.map(({ row }) => row.callerId),
      batch.map(({ row }) => row.task),
      batch.map(({ row }) => row.resolvedTask),
      batch.map(({ row }) => row.allowed),
      batch.map(({ row }) => row.reason),
      batch.map(({ row }) => row.authorizationId),
      batch.map(({ row }) =>
        row.parameters === null || row.parameters === undefined ? null : JSON.stringify(row.parameters),
      ),
      batch.map(({ row }) => row.at),
      batch.map(({ seen }) => seen?.entryIds.join(",") ?? null),
      batch.map(({ seen }) => seen?.grants.join(",") ?? null),
    ],
  );
  const outcomes = new Map(
    rows.map((row) => [row.id, row.permitted ? (row.current ? "logged" : "stale") : "refused"] as const),
  );
  return batch.map(({ id }) => outcomes.get(id)!);
}

const logs = new WeakMap<
  Db,
  (entry: { id: string; row: ExecutionRow; seen: GrantsSeen | null }) => Promise<LogOutcome>
>();

/**
 * Logs one execution durably (committed, in one INSERT with the calls that came at the
 * same time) and returns its id, if the database still agrees with what the verdict
 * was decided on (`seen`: the grants; null when none were read); see LogOutcome.
 */
export async function logExecution(
  db: Db,
  row: ExecutionRow,
  seen: GrantsSeen | null,
): Promise<{ id: string; outcome: LogOutcome }> {
  let log = logs.get(db);
  if (!log) {
    log = batched((batch) => insertExecutions(db, batch), { maxBatch, inFlight: 1 });
    logs.set(db, log);
  }
  // Time-ordered by when it is written, as the column default (uuid(7)) would make it.
  const id = uuidv7();
  return { id, outcome: await log({ id, row, seen }) };
}
