import { createHash, createPrivateKey, createPublicKey } from "node:crypto";
import type { AuditKeys } from "../../src/domain/audit/audit-keys.ts";

// The tests' audit keys: the same in every test process (the seeded template's events
// are MACed by the global setup, then verified in each file's worker). Not secrets.
const seed = (label: string) => createHash("sha256").update(`elevate test ${label}`).digest();
// PKCS#8 of an Ed25519 key is a fixed prefix and the 32-byte seed.
const pkcs8Prefix = Buffer.from("302e020100300506032b657004220420", "hex");
const signingKey = createPrivateKey({
  key: Buffer.concat([pkcs8Prefix, seed("checkpoint key")]),
  format: "der",
  type: "pkcs8",
});

export const testAuditKeys: AuditKeys = {
  macKey: seed("audit key"),
  signingKey,
  publicKey: createPublicKey(signingKey),
};
