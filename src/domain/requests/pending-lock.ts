import type { Tx } from "../../db/client.ts";

/**
 * Locks a request row for the rest of the transaction while it is still PENDING: a job
 * acting on an undecided request (a reminder, an escalation) waits for a decision in
 * flight and then sees its outcome. False when settled or not in the organization.
 */
export async function lockIfPending(tx: Tx, organizationId: string, requestId: string): Promise<boolean> {
  const locked = await tx.$queryRaw<{ id: string }[]>`
    SELECT id::text FROM "AccessRequest"
    WHERE id = ${requestId}::uuid AND "organizationId" = ${organizationId}::uuid AND status = 'PENDING'
    FOR UPDATE`;
  return locked.length > 0;
}
