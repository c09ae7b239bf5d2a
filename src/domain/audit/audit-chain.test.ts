import { describe, expect, it } from "vitest";
import { type AuditRecord, canonicalJson, chainHash, findFirstBrokenSequence, genesisHash } from "./audit-chain.ts";

function chain(length: number) {
  const records = [];
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
    records.push({ ...record, prevHash, hash });
    prevHash = hash;
  }
  return records;
}

describe("canonicalJson", () => {
  it("is independent of key order at every depth", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).toBe(
      canonicalJson({ a: { c: null, d: [1, { y: 2, z: 1 }] }, b: 1 }),
    );
  });
});

describe("findFirstBrokenSequence", () => {
  it("accepts an intact chain", () => {
    expect(findFirstBrokenSequence(chain(5))).toMatchObject({ firstBroken: null, checked: 5 });
  });

  it("names an edited record", () => {
    const records = chain(5);
    records[2] = { ...records[2]!, details: { reason: "edited" } };
    expect(findFirstBrokenSequence(records).firstBroken).toBe(3);
  });

  it("names a deleted record by its missing sequence", () => {
    const records = chain(5);
    records.splice(1, 1);
    expect(findFirstBrokenSequence(records).firstBroken).toBe(2);
  });

  it("names a record whose hash was recomputed after an edit, through the next link", () => {
    const records = chain(5);
    const edited = { ...records[1]!, action: "Disable-ElevatedAccessControl" };
    records[1] = { ...edited, hash: chainHash(edited.prevHash, edited) };
    expect(findFirstBrokenSequence(records).firstBroken).toBe(3);
  });
});
