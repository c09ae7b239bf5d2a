import { generateKeyPairSync, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  type AuditRecord,
  AuditVerifier,
  type CheckpointRecord,
  canonicalJson,
  chainHash,
  checkpointStatement,
  ExecutionDigest,
  type ExecutionRecord,
  genesisHash,
  type StoredAuditRecord,
} from "./audit-chain.ts";
import { eventMac, signingKeyId, signStatement } from "./audit-keys.ts";

const { privateKey, publicKey } = generateKeyPairSync("ed25519");
const macKey = randomBytes(32);
const keys = { publicKey, macKey };

function chain(length: number): StoredAuditRecord[] {
  const records: StoredAuditRecord[] = [];
  let prevHash = genesisHash;
  for (let sequence = 1; sequence <= length; sequence++) {
    const record: AuditRecord = {
      organizationId: "org",
      sequence,
      at: new Date(Date.UTC(2026, 10, 26, 12, 0, sequence)),
      actorId: "actor",
      action: "New-ElevatedAccessRequest",
      subjectId: `subject-${sequence}`,
      details: { reason: `r${sequence}`, nested: { b: 1, a: [1, 2] } },
    };
    const hash = chainHash(prevHash, record);
    records.push({ ...record, prevHash, hash, mac: eventMac(keys, hash) });
    prevHash = hash;
  }
  return records;
}

function executions(count: number, startSecond = 0): ExecutionRecord[] {
  return Array.from({ length: count }, (_, index) => ({
    id: `execution-${String(index).padStart(3, "0")}`,
    organizationId: "org",
    userId: "user",
    callerId: "enforcer",
    task: "Exchange\\New-MoveRequest",
    resolvedTask: "Exchange\\New-MoveRequest",
    allowed: index % 2 === 0,
    reason: index % 2 === 0 ? "ACTIVE_AUTHORIZATION" : "NO_AUTHORIZATION",
    refusal: null,
    authorizationId: null,
    parameters: { Identity: `mailbox-${index}` },
    at: new Date(Date.UTC(2026, 10, 26, 13, 0, startSecond + index)),
  }));
}

/** A signed checkpoint over events[0..sequence) and the executions given, chained onto `previous`. */
function checkpoint(
  events: StoredAuditRecord[],
  sequence: number,
  sealed: ExecutionRecord[],
  until: Date,
  previous?: CheckpointRecord,
): CheckpointRecord {
  const digest = new ExecutionDigest(previous?.executionsDigest ?? genesisHash);
  for (const execution of sealed) digest.add(execution);
  const statement = {
    organizationId: "org",
    number: (previous?.number ?? 0) + 1,
    issuedAt: new Date(until.getTime() + 60_000),
    auditSequence: sequence,
    auditHash: events[sequence - 1]?.hash ?? genesisHash,
    executionsUntil: until,
    executionsCount: digest.count,
    executionsDigest: digest.digest(),
    keyId: signingKeyId(publicKey),
  };
  return { ...statement, signature: signStatement(privateKey, checkpointStatement(statement)) };
}

function verify(
  events: StoredAuditRecord[],
  checkpoints: CheckpointRecord[] = [],
  logged: ExecutionRecord[] = [],
  withMac = true,
) {
  const verifier = new AuditVerifier(checkpoints, withMac ? keys : { publicKey });
  for (const event of events) verifier.addEvent(event);
  for (const execution of logged) verifier.addExecution(execution);
  return verifier.finish();
}

describe("canonicalJson", () => {
  it("is independent of key order at every depth", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).toBe(
      canonicalJson({ a: { c: null, d: [1, { y: 2, z: 1 }] }, b: 1 }),
    );
  });
});

describe("the event chain", () => {
  it("accepts an intact chain", () => {
    expect(verify(chain(5))).toMatchObject({ ok: true, checked: 5, firstBrokenSequence: null });
  });

  it("names an edited record", () => {
    const records = chain(5);
    records[2] = { ...records[2]!, details: { reason: "edited" } };
    expect(verify(records).firstBrokenSequence).toBe(3);
  });

  it("names a deleted record by its missing sequence", () => {
    const records = chain(5);
    records.splice(1, 1);
    expect(verify(records).firstBrokenSequence).toBe(2);
  });

  it("names a record rewritten with recomputed hashes: its MAC needs AUDIT_KEY", () => {
    const records = chain(5);
    let prevHash = records[1]!.hash;
    for (let index = 2; index < 5; index++) {
      const edited = { ...records[index]!, action: "Disable-ElevatedAccessControl", prevHash };
      edited.hash = chainHash(prevHash, edited);
      records[index] = edited;
      prevHash = edited.hash;
    }
    expect(verify(records)).toMatchObject({ ok: false, firstBrokenSequence: 3 });
    // Without the key (offline) the recomputed chain links; only a checkpoint finds it.
    expect(verify(records, [], [], false).ok).toBe(true);
    const signed = checkpoint(chain(5), 5, [], new Date(0));
    expect(verify(records, [signed], [], false)).toMatchObject({ ok: false, firstBrokenSequence: 5 });
  });

  it("refuses a record without a MAC after one that has it (a MAC cannot be stripped)", () => {
    const records = chain(3);
    records[0] = { ...records[0]!, mac: null };
    expect(verify(records).ok).toBe(true);
    records[2] = { ...records[2]!, mac: null };
    expect(verify(records).firstBrokenSequence).toBe(3);
  });
});

describe("checkpoints", () => {
  const events = chain(10);
  const logged = executions(6);
  const first = checkpoint(events, 4, logged.slice(0, 3), logged[2]!.at as Date);
  const second = checkpoint(events, 8, logged.slice(3, 5), logged[4]!.at as Date, first);

  it("verify with the public key, events and sealed executions", () => {
    expect(verify(events, [first, second], logged)).toMatchObject({
      ok: true,
      checkpoints: 2,
      executionsChecked: 5,
      latestCheckpoint: { number: 2, auditSequence: 8 },
    });
  });

  it("report a log truncated below the newest checkpoint", () => {
    expect(verify(events.slice(0, 6), [first, second], logged)).toMatchObject({
      ok: false,
      truncated: true,
      firstBrokenSequence: 7,
    });
    // Newer than every checkpoint: a truncation there is not detectable.
    expect(verify(events.slice(0, 9), [first, second], logged).truncated).toBe(false);
  });

  it("name the window of an edited, removed or added execution", () => {
    const edited = logged.map((execution, index) => (index === 1 ? { ...execution, allowed: true } : execution));
    expect(verify(events, [first, second], edited).firstBrokenCheckpoint).toBe(1);
    expect(
      verify(
        events,
        [first, second],
        logged.filter((_, index) => index !== 3),
      ).firstBrokenCheckpoint,
    ).toBe(2);
    const added = [...logged.slice(0, 4), { ...logged[4]!, id: "execution-added" }, ...logged.slice(4)];
    expect(verify(events, [first, second], added).firstBrokenCheckpoint).toBe(2);
    // The execution after the newest horizon is not sealed yet: changing it is not detectable.
    expect(verify(events, [first, second], [...logged.slice(0, 5), { ...logged[5]!, allowed: true }]).ok).toBe(true);
  });

  it("refuse a forged or altered checkpoint", () => {
    const forged = { ...second, auditSequence: 7, auditHash: events[6]!.hash };
    expect(verify(events, [first, forged], logged)).toMatchObject({ ok: false, firstBrokenCheckpoint: 2 });
    const { privateKey: otherKey } = generateKeyPairSync("ed25519");
    const { signature: _signature, ...statement } = second;
    const resigned = { ...statement, signature: signStatement(otherKey, checkpointStatement(statement)) };
    expect(verify(events, [first, resigned], logged).firstBrokenCheckpoint).toBe(2);
  });
});
