import type { Db, Prisma, Tx } from "../../db/client.ts";
import { chainHash, findFirstBrokenSequence, genesisHash, type StoredAuditRecord } from "./audit-chain.ts";

/**
 * Every audited change, named after the cmdlet it corresponds to (Exchange's where
 * one exists, e.g. Add-DistributionGroupMember for approver group membership).
 */
export type AuditAction =
  | "Enable-ElevatedAccessControl"
  | "Disable-ElevatedAccessControl"
  | "Set-ElevatedAccessControl"
  | "New-DistributionGroup"
  | "Add-DistributionGroupMember"
  | "Remove-DistributionGroupMember"
  | "New-ElevatedAccessCatalogEntry"
  | "New-ElevatedAccessApprovalPolicy"
  | "Remove-ElevatedAccessApprovalPolicy"
  | "New-ElevatedAccessRequest"
  | "Approve-ElevatedAccessRequest"
  | "Deny-ElevatedAccessRequest"
  | "Cancel-ElevatedAccessRequest"
  | "Expire-ElevatedAccessRequest"
  | "Revoke-ElevatedAccessAuthorization"
  | "End-ElevatedAccessAuthorization";

export interface AuditEntry {
  action: AuditAction;
  subjectId?: string | null;
  details: Record<string, unknown>;
}

/**
 * Appends events to the organization's hash chain inside the caller's transaction.
 * An advisory lock per organization orders appends; callers append last, after their
 * row updates, so the lock is held briefly and never waited on while holding it.
 */
export async function appendAudit(
  tx: Tx,
  organizationId: string,
  actorId: string | null,
  at: Date,
  entries: AuditEntry[],
): Promise<void> {
  if (entries.length === 0) return;
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('elevate:audit'), hashtext(${organizationId}))`;
  const last = await tx.auditEvent.findFirst({
    where: { organizationId },
    orderBy: { sequence: "desc" },
    select: { sequence: true, hash: true },
  });
  let sequence = last?.sequence ?? 0;
  let prevHash = last?.hash ?? genesisHash;
  const rows: Prisma.AuditEventCreateManyInput[] = [];
  for (const entry of entries) {
    sequence += 1;
    // Round-trip through JSON so the hash covers exactly what jsonb stores.
    const details = JSON.parse(JSON.stringify(entry.details)) as Prisma.InputJsonObject;
    const record = {
      organizationId,
      sequence,
      at,
      actorId,
      action: entry.action,
      subjectId: entry.subjectId ?? null,
      details,
    };
    const hash = chainHash(prevHash, record);
    rows.push({ ...record, prevHash, hash });
    prevHash = hash;
  }
  await tx.auditEvent.createMany({ data: rows });
}

export interface AuditVerification {
  ok: boolean;
  checked: number;
  firstBrokenSequence: number | null;
}

/** Recomputes the organization's chain in batches and names the first broken sequence. */
export async function verifyAuditLog(db: Db, organizationId: string, batchSize = 1000): Promise<AuditVerification> {
  let cursor = { sequence: 0, hash: genesisHash };
  let checked = 0;
  for (;;) {
    const batch = await db.auditEvent.findMany({
      where: { organizationId, sequence: { gt: cursor.sequence } },
      orderBy: { sequence: "asc" },
      take: batchSize,
    });
    const result = findFirstBrokenSequence(batch as StoredAuditRecord[], cursor);
    checked += result.checked;
    if (result.firstBroken !== null) return { ok: false, checked, firstBrokenSequence: result.firstBroken };
    if (batch.length < batchSize) return { ok: true, checked, firstBrokenSequence: null };
    cursor = result.last;
  }
}
