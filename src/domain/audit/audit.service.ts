import type { Db, Prisma, Tx } from "../../db/client.ts";
import { uuidv7 } from "../webhooks/uuid.ts";
import {
  type AuditReport,
  AuditVerifier,
  type CheckpointRecord,
  chainHash,
  type ExecutionRecord,
  genesisHash,
  type StoredAuditRecord,
} from "./audit-chain.ts";
import { type AuditKeys, eventMac } from "./audit-keys.ts";

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
  /** A stage of a multi-stage request met its quorum. */
  | "Complete-ElevatedAccessRequestStage"
  | "Escalate-ElevatedAccessRequest"
  | "Revoke-ElevatedAccessAuthorization"
  | "End-ElevatedAccessAuthorization"
  /** The grantee ended their own grant before its end (Entra PIM's deactivation). */
  | "Stop-ElevatedAccessAuthorization"
  /** A SCHEDULED grant became ACTIVE at its startsAt. */
  | "Start-ElevatedAccessAuthorization"
  /** An approved extension moved a grant's end. */
  | "Set-ElevatedAccessAuthorization"
  | "New-Organization"
  | "Set-Organization"
  | "New-User"
  | "Set-User"
  | "Disable-User"
  | "Enable-User"
  | "Set-DistributionGroup"
  | "Remove-DistributionGroup"
  | "Set-ElevatedAccessApprovalPolicy"
  | "Set-ElevatedAccessCatalogEntry"
  | "Remove-ElevatedAccessCatalogEntry"
  | "New-ElevatedAccessWebhook"
  | "Set-ElevatedAccessWebhook"
  | "Reset-ElevatedAccessWebhookSecret"
  | "Remove-ElevatedAccessWebhook"
  | "Send-ElevatedAccessWebhookDelivery"
  /** By the system: a run of failed deliveries. */
  | "Disable-ElevatedAccessWebhook";

export interface AuditEntry {
  action: AuditAction;
  subjectId?: string | null;
  details: Record<string, unknown>;
}

/**
 * Appends events to the organization's hash chain inside the caller's transaction,
 * each with its MAC. An advisory lock per organization orders appends; callers append
 * last, after their row updates, so the lock is held briefly and never waited on while
 * holding it.
 */
export async function appendAudit(
  tx: Tx,
  keys: Pick<AuditKeys, "macKey">,
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
    select: { sequence: true, hash: true, chainAt: true },
  });
  // The chain's latest time so far: this transaction's clock may be behind the event before it.
  const chainAt = last && last.chainAt > at ? last.chainAt : at;
  let sequence = last?.sequence ?? 0;
  let prevHash = last?.hash ?? genesisHash;
  // Column by column: the rows go as one array per column.
  const rows = {
    id: [] as string[],
    sequence: [] as number[],
    action: [] as string[],
    subjectId: [] as (string | null)[],
    details: [] as string[],
    prevHash: [] as string[],
    hash: [] as string[],
    mac: [] as string[],
  };
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
    // Time-ordered by when it is written, as the column default (uuid(7)) would make it.
    rows.id.push(uuidv7());
    rows.sequence.push(sequence);
    rows.action.push(record.action);
    rows.subjectId.push(record.subjectId);
    rows.details.push(JSON.stringify(details));
    rows.prevHash.push(prevHash);
    rows.hash.push(hash);
    rows.mac.push(eventMac(keys, hash));
    prevHash = hash;
  }
  // One statement of one shape whatever the count: Prisma compiles every createMany
  // afresh (it caches no createMany plan), which was a tenth of the worker's time in a
  // burst of expiries appended 500 at a time.
  await tx.$executeRaw`
    INSERT INTO "AuditEvent" (id, "organizationId", sequence, at, "chainAt", "actorId", action, "subjectId", details,
                              "prevHash", hash, mac)
    SELECT e.id, ${organizationId}::uuid, e.sequence, ${at}::timestamptz, ${chainAt}::timestamptz, ${actorId}::uuid,
           e.action, e."subjectId", e.details, e."prevHash", e.hash, e.mac
    FROM unnest(${rows.id}::uuid[], ${rows.sequence}::int[], ${rows.action}::text[], ${rows.subjectId}::text[],
                ${rows.details}::jsonb[], ${rows.prevHash}::text[], ${rows.hash}::text[], ${rows.mac}::text[])
      AS e(id, sequence, action, "subjectId", details, "prevHash", hash, mac)`;
}

const executionColumns = {
  id: true,
  organizationId: true,
  userId: true,
  callerId: true,
  task: true,
  resolvedTask: true,
  allowed: true,
  reason: true,
  refusal: true,
  authorizationId: true,
  parameters: true,
  at: true,
} as const;

/** An organization's events in sequence order, in batches. */
export async function* auditEventsInOrder(db: Db, organizationId: string, batchSize = 1000) {
  let after = 0;
  for (;;) {
    const batch = await db.auditEvent.findMany({
      where: { organizationId, sequence: { gt: after } },
      orderBy: { sequence: "asc" },
      take: batchSize,
    });
    yield* batch;
    if (batch.length < batchSize) return;
    after = batch.at(-1)!.sequence;
  }
}

/** An organization's executions logged in (from, until], in (at, id) order, in batches. */
export async function* executionsInOrder(
  db: Db,
  organizationId: string,
  window: { from?: Date; until: Date },
  batchSize = 1000,
) {
  let after: { at: Date; id: string } | null = null;
  for (;;) {
    const batch: ExecutionRecord[] = await db.taskExecution.findMany({
      where: {
        organizationId,
        at: { lte: window.until, ...(window.from ? { gt: window.from } : {}) },
        ...(after ? { OR: [{ at: { gt: after.at } }, { at: after.at, id: { gt: after.id } }] } : {}),
      },
      orderBy: [{ at: "asc" }, { id: "asc" }],
      take: batchSize,
      select: executionColumns,
    });
    yield* batch;
    if (batch.length < batchSize) return;
    const last = batch.at(-1)!;
    after = { at: last.at as Date, id: last.id };
  }
}

/**
 * Recomputes the organization's chain and MACs, checks every checkpoint's signature,
 * the events it vouches for and the executions its digests cover, and reports the
 * first break: an edit, a rewrite without AUDIT_KEY, a deletion, or a truncation
 * below the newest checkpoint.
 */
export async function verifyAuditLog(db: Db, keys: AuditKeys, organizationId: string): Promise<AuditReport> {
  const checkpoints = await db.auditCheckpoint.findMany({ where: { organizationId }, orderBy: { number: "asc" } });
  const verifier = new AuditVerifier(checkpoints, keys);
  for await (const event of auditEventsInOrder(db, organizationId)) verifier.addEvent(event);
  const horizon = checkpoints.at(-1)?.executionsUntil ?? null;
  if (horizon) {
    for await (const execution of executionsInOrder(db, organizationId, { until: horizon })) {
      verifier.addExecution(execution);
    }
  }
  return verifier.finish();
}

/** One line of an audit export. */
export type ExportLine =
  | ({ kind: "checkpoint" } & CheckpointRecord)
  | ({ kind: "event" } & StoredAuditRecord)
  | ({ kind: "execution" } & ExecutionRecord);

/**
 * An organization's audit trail for offline verification, in the order the verifier
 * reads it: checkpoints, events by sequence, executions by (at, id). Events carry no
 * MAC: it proves nothing to someone without AUDIT_KEY.
 */
export async function* exportAuditTrail(db: Db, organizationId: string): AsyncGenerator<ExportLine> {
  const checkpoints = await db.auditCheckpoint.findMany({ where: { organizationId }, orderBy: { number: "asc" } });
  for (const { id: _id, ...checkpoint } of checkpoints) yield { kind: "checkpoint", ...checkpoint };
  // chainAt is an index aid of this database, not part of what the chain proves.
  for await (const { id: _id, mac: _mac, chainAt: _chainAt, ...event } of auditEventsInOrder(db, organizationId)) {
    yield { kind: "event", ...event };
  }
  for await (const execution of executionsInOrder(db, organizationId, { until: new Date(8.64e15) })) {
    yield { kind: "execution", ...execution };
  }
}
