import { generateKeyPairSync, randomBytes } from "node:crypto";
import type { AuditKeys } from "../../src/domain/audit/audit-keys.ts";

const { privateKey, publicKey } = generateKeyPairSync("ed25519");

/** One set of audit keys per test process, as a deployment has one. */
export const testAuditKeys: AuditKeys = { macKey: randomBytes(32), signingKey: privateKey, publicKey };
