import { createHash, createHmac, type KeyObject, sign, verify } from "node:crypto";

/**
 * The keys that make the audit trail tamper-evident to someone who can write the
 * database: both are held outside it (README: Audit).
 */
export interface AuditKeys {
  /** AUDIT_KEY: the secret every event's MAC is keyed with. */
  macKey: Buffer;
  /** Signs checkpoints: only where they are issued (the worker); null elsewhere. */
  signingKey: KeyObject | null;
  /** Verifies checkpoints; auditors hold a copy to verify exports offline. */
  publicKey: KeyObject;
}

/** The MAC of an event: HMAC-SHA256 of its chain hash. */
export function eventMac(keys: Pick<AuditKeys, "macKey">, hash: string): string {
  return createHmac("sha256", keys.macKey).update(hash).digest("hex");
}

/** Names a checkpoint signing key: the start of the SHA-256 of its public key (SPKI DER). */
export function signingKeyId(publicKey: KeyObject): string {
  return createHash("sha256")
    .update(publicKey.export({ type: "spki", format: "der" }))
    .digest("hex")
    .slice(0, 16);
}

/** Ed25519 over the statement's bytes, base64url. */
export function signStatement(signingKey: KeyObject, statement: string): string {
  return sign(null, Buffer.from(statement), signingKey).toString("base64url");
}

export function statementSigned(publicKey: KeyObject, statement: string, signature: string): boolean {
  return verify(null, Buffer.from(statement), publicKey, Buffer.from(signature, "base64url"));
}
