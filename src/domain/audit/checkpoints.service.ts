import type { Db } from "../../db/client.ts";
import { executionsInOrder } from "./audit.service.ts";
import { checkpointStatement, ExecutionDigest, genesisHash } from "./audit-chain.ts";
import { type AuditKeys, signingKeyId, signStatement } from "./audit-keys.ts";

/**
 * Executions are sealed this long after they are logged: a transaction that logged one
 * may still be committing, and API hosts' clocks may run a little apart.
 */
export const executionSettleMs = 60_000;

/**
 * Issues the organization's next checkpoint when its trail moved since the last one:
 * the head of the event chain, and a digest of the executions logged since, chained
 * onto the previous digest, signed with the checkpoint key. Returns its number, or
 * null when there was nothing new. Checkpoints of one organization are serialized.
 */
export async function issueCheckpoint(
  db: Db,
  keys: AuditKeys,
  organizationId: string,
  now: Date,
): Promise<number | null> {
  const signingKey = keys.signingKey;
  if (!signingKey) throw new Error("issuing checkpoints needs the checkpoint signing key");
  return db.$transaction(
    async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('elevate:checkpoint'), hashtext(${organizationId}))`;
      const previous = await tx.auditCheckpoint.findFirst({ where: { organizationId }, orderBy: { number: "desc" } });
      const head = await tx.auditEvent.findFirst({
        where: { organizationId },
        orderBy: { sequence: "desc" },
        select: { sequence: true, hash: true },
      });
      const until = new Date(Math.max(now.getTime() - executionSettleMs, previous?.executionsUntil.getTime() ?? 0));
      const digest = new ExecutionDigest(previous?.executionsDigest ?? genesisHash);
      const window = { from: previous?.executionsUntil, until };
      for await (const execution of executionsInOrder(tx as unknown as Db, organizationId, window)) {
        digest.add(execution);
      }
      const auditSequence = head?.sequence ?? 0;
      if (previous && previous.auditSequence === auditSequence && digest.count === 0) return null;
      const statement = {
        organizationId,
        number: (previous?.number ?? 0) + 1,
        issuedAt: now,
        auditSequence,
        auditHash: head?.hash ?? genesisHash,
        executionsUntil: until,
        executionsCount: digest.count,
        executionsDigest: digest.digest(),
        keyId: signingKeyId(keys.publicKey),
      };
      await tx.auditCheckpoint.create({
        data: { ...statement, signature: signStatement(signingKey, checkpointStatement(statement)) },
      });
      return statement.number;
    },
    { timeout: 120_000 },
  );
}
