import { batched } from "../../db/batch.ts";
import { type AuthorizeReason, type Db, Prisma } from "../../db/client.ts";
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
export const grantVersion = Prisma.sql`a.id::text || ':' || a.xmin::text || ':' || r.xmin::text`;

/** Rows of one INSERT at most (13 parameters each, far below PostgreSQL's 65,535). */
const maxBatch = 500;

/**
 * One INSERT, one commit, for the executions of concurrent calls. The database has the
 * last word over anything the verdict was decided on in memory: a row is written only
 * while its caller is an active user (and an enforcement service, when it asks for
 * someone else), so a caller deactivated a moment ago on another instance is refused,
 * not answered; and only while the user's grants in their window at the execution's
 * time are, row version for row version, the ones the verdict saw, so a grant revoked,
 * ended, extended or approved a moment ago makes the call decide again, never answer
 * from what it saw before.
 */
async function insertExecutions(
  db: Db,
  batch: { id: string; row: ExecutionRow; seen: GrantsSeen | null }[],
): Promise<LogOutcome[]> {
  const values = batch.map(
    ({ id, row, seen }) =>
      Prisma.sql`(${id}::uuid, ${row.organizationId}::uuid, ${row.userId}::uuid, ${row.callerId}::uuid, ${row.task}::text,
        ${row.resolvedTask}::text, ${row.allowed}::boolean, ${row.reason}::"AuthorizeReason", ${row.authorizationId}::uuid,
        ${row.parameters === null || row.parameters === undefined ? null : JSON.stringify(row.parameters)}::jsonb,
        ${row.at}::timestamptz, ${seen?.entryIds ?? null}::uuid[], ${seen?.grants ?? null}::text[])`,
  );
  const rows = await db.$queryRaw<{ id: string; permitted: boolean; current: boolean }[]>`
    WITH v AS (
      SELECT * FROM (VALUES ${Prisma.join(values)})
        AS v(id, "organizationId", "userId", "callerId", task, "resolvedTask", allowed, reason, "authorizationId",
             parameters, at, "entryIds", grants)
    ), checked AS (
      SELECT v.*,
        EXISTS (SELECT 1 FROM "User" caller
                WHERE caller.id = v."callerId" AND caller."organizationId" = v."organizationId" AND caller.active
                  AND (v."userId" = v."callerId" OR 'ENFORCER' = ANY(caller.roles))) AS permitted,
        v."entryIds" IS NULL OR v.grants = (
          SELECT COALESCE(array_agg(${grantVersion} ORDER BY ${grantVersion} COLLATE "C"), '{}')
          FROM "AccessAuthorization" a JOIN "AccessRequest" r ON r.id = a."requestId"
          WHERE a."userId" = v."userId" AND a."catalogEntryId" = ANY(v."entryIds") AND a.status IN ('ACTIVE', 'SCHEDULED')
            AND a."startsAt" <= v.at AND a."endsAt" > v.at) AS current
      FROM v
    ), inserted AS (
      INSERT INTO "TaskExecution" (id, "organizationId", "userId", "callerId", task, "resolvedTask", allowed, reason,
                                   "authorizationId", parameters, at)
      SELECT id, "organizationId", "userId", "callerId", task, "resolvedTask", allowed, reason, "authorizationId",
             parameters, at
      FROM checked WHERE permitted AND current
      RETURNING id
    )
    SELECT id::text, permitted, current FROM checked`;
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
