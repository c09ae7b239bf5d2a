import { createHash, type KeyObject } from "node:crypto";
import { eventMac, statementSigned } from "./audit-keys.ts";

// The audit trail's integrity rules, as pure functions over records, so the server
// (verifyAuditLog) and an auditor's offline check of an export run the same code.
//
// - Events form a hash chain per organization: hash = sha256(prevHash || canonical(event)).
//   Anyone can recompute it; each event also carries mac = HMAC(AUDIT_KEY, hash), which
//   only the server can, so a rewrite with recomputed hashes is found.
// - Checkpoints, signed with a key the database never holds, state the chain's head at
//   a moment and a digest chained over every task execution up to a horizon, so rows
//   removed or rewritten below a checkpoint are found with the public key alone.

export const genesisHash = "0".repeat(64);

export interface AuditRecord {
  organizationId: string;
  sequence: number;
  at: Date | string;
  actorId: string | null;
  action: string;
  subjectId: string | null;
  details: unknown;
}

export interface StoredAuditRecord extends AuditRecord {
  prevHash: string;
  hash: string;
  /** Null for events written before AUDIT_KEY was introduced; absent from exports. */
  mac?: string | null;
}

/** What a checkpoint states; `signature` signs the canonical JSON of the rest. */
export interface CheckpointRecord {
  organizationId: string;
  number: number;
  issuedAt: Date | string;
  auditSequence: number;
  auditHash: string;
  executionsUntil: Date | string;
  executionsCount: number;
  executionsDigest: string;
  keyId: string;
  signature: string;
}

/** The fields of a task execution that its checkpoint digest covers. */
export interface ExecutionRecord {
  id: string;
  organizationId: string;
  userId: string;
  callerId: string;
  task: string;
  resolvedTask: string | null;
  allowed: boolean;
  reason: string;
  refusal: string | null;
  authorizationId: string | null;
  parameters: unknown;
  at: Date | string;
}

/** JSON with object keys sorted at every depth: jsonb does not keep key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value ?? null);
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => item !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(",")}}`;
}

const millis = (value: Date | string) => (value instanceof Date ? value : new Date(value)).getTime();

/** hash = sha256(prevHash || canonical(event)) */
export function chainHash(prevHash: string, record: AuditRecord): string {
  const { organizationId, sequence, at, actorId, action, subjectId, details } = record;
  const canonical = canonicalJson({
    organizationId,
    sequence,
    at: new Date(millis(at)),
    actorId,
    action,
    subjectId,
    details,
  });
  return createHash("sha256").update(prevHash).update(canonical).digest("hex");
}

/** The bytes a checkpoint's signature covers. */
export function checkpointStatement(checkpoint: Omit<CheckpointRecord, "signature">): string {
  const {
    organizationId,
    number,
    issuedAt,
    auditSequence,
    auditHash,
    executionsUntil,
    executionsCount,
    executionsDigest,
    keyId,
  } = checkpoint;
  return canonicalJson({
    organizationId,
    number,
    issuedAt: new Date(millis(issuedAt)),
    auditSequence,
    auditHash,
    executionsUntil: new Date(millis(executionsUntil)),
    executionsCount,
    executionsDigest,
    keyId,
  });
}

/** Digests a window of executions, in (at, id) order, chained onto the previous window's digest. */
export class ExecutionDigest {
  private readonly hash;
  count = 0;
  constructor(previousDigest: string) {
    this.hash = createHash("sha256").update(previousDigest);
  }
  add(execution: ExecutionRecord): void {
    const { id, organizationId, userId, callerId, task, resolvedTask, allowed, reason, refusal, authorizationId } =
      execution;
    this.hash.update(
      canonicalJson({
        id,
        organizationId,
        userId,
        callerId,
        task,
        resolvedTask,
        allowed,
        reason,
        refusal,
        authorizationId,
        parameters: execution.parameters ?? null,
        at: new Date(millis(execution.at)),
      }),
    );
    this.hash.update("\n");
    this.count += 1;
  }
  digest(): string {
    return this.hash.digest("hex");
  }
}

export interface AuditReport {
  ok: boolean;
  /** Events whose link (and MAC, when checked) holds. */
  checked: number;
  /** The first event whose link, MAC or checkpointed hash does not hold, or that is missing. */
  firstBrokenSequence: number | null;
  /** The log ends before the sequence the newest checkpoint vouches for: events were removed. */
  truncated: boolean;
  /** The first checkpoint whose signature or executions do not match, or null. */
  firstBrokenCheckpoint: number | null;
  checkpoints: number;
  latestCheckpoint: { number: number; auditSequence: number; issuedAt: Date } | null;
  /** Executions compared against checkpoint digests. */
  executionsChecked: number;
  problems: string[];
}

/**
 * Checks an organization's trail from its parts, streamed in order: checkpoints up
 * front (by number), then events (by sequence), then executions (by at, id) up to the
 * newest checkpoint's horizon. With `macKey` (the server) it also checks every MAC.
 */
export class AuditVerifier {
  private readonly checkpoints: CheckpointRecord[];
  private readonly problems: string[] = [];
  private firstBroken: number | null = null;
  private firstBrokenCheckpoint: number | null = null;
  private expectedSequence = 1;
  private prevHash = genesisHash;
  private checked = 0;
  private lastSequence = 0;
  private macSeen = false;
  private window = 0;
  private digest: ExecutionDigest;
  private executionsChecked = 0;

  constructor(
    checkpoints: CheckpointRecord[],
    private readonly keys: { publicKey: KeyObject; macKey?: Buffer },
  ) {
    this.checkpoints = [...checkpoints].sort((a, b) => a.number - b.number);
    this.checkpoints.forEach((checkpoint, index) => {
      if (checkpoint.number !== index + 1) this.checkpointBroken(checkpoint.number, "is missing its predecessor");
      else if (!statementSigned(keys.publicKey, checkpointStatement(checkpoint), checkpoint.signature)) {
        this.checkpointBroken(checkpoint.number, "has a signature that does not verify with the public key");
      }
    });
    this.digest = new ExecutionDigest(genesisHash);
  }

  private checkpointBroken(number: number, why: string): void {
    this.problems.push(`checkpoint ${number} ${why}`);
    this.firstBrokenCheckpoint ??= number;
  }

  private eventBroken(sequence: number, why: string): void {
    this.problems.push(`event ${sequence} ${why}`);
    this.firstBroken ??= sequence;
  }

  addEvent(event: StoredAuditRecord): void {
    this.lastSequence = Math.max(this.lastSequence, event.sequence);
    if (this.firstBroken !== null) return;
    if (event.sequence !== this.expectedSequence) {
      this.eventBroken(this.expectedSequence, "is missing");
      return;
    }
    if (event.prevHash !== this.prevHash || chainHash(this.prevHash, event) !== event.hash) {
      this.eventBroken(event.sequence, "does not match its hash or its link to the previous event");
      return;
    }
    if (this.keys.macKey) {
      if (event.mac) this.macSeen = true;
      if (event.mac ? event.mac !== eventMac({ macKey: this.keys.macKey }, event.hash) : this.macSeen) {
        this.eventBroken(event.sequence, "has a MAC that AUDIT_KEY did not make");
        return;
      }
    }
    for (const checkpoint of this.checkpoints) {
      if (checkpoint.auditSequence === event.sequence && checkpoint.auditHash !== event.hash) {
        this.eventBroken(event.sequence, `is not the event checkpoint ${checkpoint.number} signed`);
        return;
      }
    }
    this.checked += 1;
    this.prevHash = event.hash;
    this.expectedSequence += 1;
  }

  /** Closes checkpoint windows that end before `at` (or all of them). */
  private closeWindowsBefore(at: number): void {
    while (this.window < this.checkpoints.length) {
      const checkpoint = this.checkpoints[this.window]!;
      if (millis(checkpoint.executionsUntil) >= at) return;
      const digest = this.digest.digest();
      if (digest !== checkpoint.executionsDigest || this.digest.count !== checkpoint.executionsCount) {
        this.checkpointBroken(
          checkpoint.number,
          `vouches for ${checkpoint.executionsCount} executions, the log has ${this.digest.count} that do not match its digest`,
        );
      }
      this.digest = new ExecutionDigest(checkpoint.executionsDigest);
      this.window += 1;
    }
  }

  addExecution(execution: ExecutionRecord): void {
    const at = millis(execution.at);
    this.closeWindowsBefore(at);
    // Executions after the newest checkpoint's horizon are not sealed yet.
    if (this.window >= this.checkpoints.length) return;
    this.digest.add(execution);
    this.executionsChecked += 1;
  }

  finish(): AuditReport {
    this.closeWindowsBefore(Number.POSITIVE_INFINITY);
    const latest = this.checkpoints.at(-1) ?? null;
    const truncated = latest !== null && this.lastSequence < latest.auditSequence;
    if (truncated) {
      this.problems.push(
        `the log ends at event ${this.lastSequence}, checkpoint ${latest.number} vouches for ${latest.auditSequence}`,
      );
      this.firstBroken ??= this.lastSequence + 1;
    }
    return {
      ok: this.problems.length === 0,
      checked: this.checked,
      firstBrokenSequence: this.firstBroken,
      truncated,
      firstBrokenCheckpoint: this.firstBrokenCheckpoint,
      checkpoints: this.checkpoints.length,
      latestCheckpoint: latest
        ? { number: latest.number, auditSequence: latest.auditSequence, issuedAt: new Date(millis(latest.issuedAt)) }
        : null,
      executionsChecked: this.executionsChecked,
      problems: this.problems,
    };
  }
}
