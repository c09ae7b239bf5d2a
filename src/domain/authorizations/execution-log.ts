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

/** Rows of one INSERT at most (11 parameters each, far below PostgreSQL's 65,535). */
const maxBatch = 500;

/**
 * One INSERT, one commit, for the executions of concurrent calls. A row is written only
 * while its caller is an active user (and an enforcement service, when it asks for
 * someone else): the database has the last word over any cached actor, so a caller
 * deactivated a moment ago on another instance is refused, not answered.
 */
async function insertExecutions(db: Db, batch: { id: string; row: ExecutionRow }[]): Promise<boolean[]> {
  const values = batch.map(
    ({ id, row }) =>
      Prisma.sql`(${id}::uuid, ${row.organizationId}::uuid, ${row.userId}::uuid, ${row.callerId}::uuid, ${row.task}::text,
        ${row.resolvedTask}::text, ${row.allowed}::boolean, ${row.reason}::"AuthorizeReason", ${row.authorizationId}::uuid,
        ${row.parameters === null || row.parameters === undefined ? null : JSON.stringify(row.parameters)}::jsonb,
        ${row.at}::timestamptz)`,
  );
  const rows = await db.$queryRaw<{ id: string }[]>`
    INSERT INTO "TaskExecution" (id, "organizationId", "userId", "callerId", task, "resolvedTask", allowed, reason,
                                 "authorizationId", parameters, at)
    SELECT v.* FROM (VALUES ${Prisma.join(values)})
      AS v(id, "organizationId", "userId", "callerId", task, "resolvedTask", allowed, reason, "authorizationId", parameters, at)
    JOIN "User" caller ON caller.id = v."callerId" AND caller."organizationId" = v."organizationId" AND caller.active
      AND (v."userId" = v."callerId" OR 'ENFORCER' = ANY(caller.roles))
    RETURNING id::text`;
  const inserted = new Set(rows.map((row) => row.id));
  return batch.map(({ id }) => inserted.has(id));
}

const logs = new WeakMap<Db, (entry: { id: string; row: ExecutionRow }) => Promise<boolean>>();

/**
 * Logs one execution durably (committed, in one INSERT with the calls that came at the
 * same time) and returns its id; `logged` is false when the caller may no longer ask
 * (deactivated, or no longer an enforcement service for another user's check), and
 * then nothing was written.
 */
export async function logExecution(db: Db, row: ExecutionRow): Promise<{ id: string; logged: boolean }> {
  let log = logs.get(db);
  if (!log) {
    log = batched((batch) => insertExecutions(db, batch), { maxBatch, inFlight: 1 });
    logs.set(db, log);
  }
  // Time-ordered by when it is written, as the column default (uuid(7)) would make it.
  const id = uuidv7();
  return { id, logged: await log({ id, row }) };
}
