import { createHash } from "node:crypto";

export const genesisHash = "0".repeat(64);

export interface AuditRecord {
  organizationId: string;
  sequence: number;
  at: Date;
  actorId: string | null;
  action: string;
  subjectId: string | null;
  details: unknown;
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

/** hash = sha256(prevHash || canonical(event)) */
export function chainHash(prevHash: string, record: AuditRecord): string {
  const { organizationId, sequence, at, actorId, action, subjectId, details } = record;
  const canonical = canonicalJson({ organizationId, sequence, at, actorId, action, subjectId, details });
  return createHash("sha256").update(prevHash).update(canonical).digest("hex");
}

export interface StoredAuditRecord extends AuditRecord {
  prevHash: string;
  hash: string;
}

/**
 * Walks records in sequence order from 1 and returns the first sequence whose
 * link is broken (edited, missing or re-ordered), or null when the chain holds.
 */
export function findFirstBrokenSequence(
  records: Iterable<StoredAuditRecord>,
  start: { sequence: number; hash: string } = { sequence: 0, hash: genesisHash },
): { firstBroken: number | null; checked: number; last: { sequence: number; hash: string } } {
  let expectedSequence = start.sequence + 1;
  let prevHash = start.hash;
  let checked = 0;
  for (const record of records) {
    if (record.sequence !== expectedSequence) return { firstBroken: expectedSequence, checked, last: start };
    if (record.prevHash !== prevHash || chainHash(prevHash, record) !== record.hash) {
      return { firstBroken: record.sequence, checked, last: start };
    }
    checked += 1;
    prevHash = record.hash;
    expectedSequence += 1;
  }
  return { firstBroken: null, checked, last: { sequence: expectedSequence - 1, hash: prevHash } };
}
