import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import type { AuditKeys } from "../audit/audit-keys.ts";

/**
 * Webhook signing secrets. The worker must sign with them, so they are stored
 * encrypted, not hashed: AES-256-GCM under a key derived from AUDIT_KEY with HKDF.
 * AUDIT_KEY is the one secret every API and worker process already holds outside the
 * database (production refuses to start without it); the derived key is of no use
 * for the audit MACs, nor they for it. A database dump alone reveals no secret.
 */

/** A new secret in the Standard Webhooks form: `whsec_` and 32 random bytes in base64. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

const version = "v1";
const derivedKeys = new WeakMap<Buffer, Buffer>();

function encryptionKey(keys: Pick<AuditKeys, "macKey">): Buffer {
  let key = derivedKeys.get(keys.macKey);
  if (!key) {
    key = Buffer.from(hkdfSync("sha256", keys.macKey, Buffer.alloc(0), "elevate webhook secrets v1", 32));
    derivedKeys.set(keys.macKey, key);
  }
  return key;
}

/** `v1.<iv>.<ciphertext>.<tag>`, base64url; the endpoint's id is bound in as associated data. */
export function sealWebhookSecret(keys: Pick<AuditKeys, "macKey">, endpointId: string, secret: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", encryptionKey(keys), iv);
  cipher.setAAD(Buffer.from(endpointId));
  const ciphertext = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
  return [version, iv, ciphertext, cipher.getAuthTag()]
    .map((part) => (typeof part === "string" ? part : part.toString("base64url")))
    .join(".");
}

/** The secret sealed for `endpointId`; throws when it was sealed under another key or for another endpoint. */
export function openWebhookSecret(keys: Pick<AuditKeys, "macKey">, endpointId: string, sealed: string): string {
  const [tag, iv, ciphertext, authTag] = sealed.split(".");
  if (tag !== version || !iv || !ciphertext || !authTag) throw new Error("unknown webhook secret format");
  const decipher = createDecipheriv("aes-256-gcm", encryptionKey(keys), Buffer.from(iv, "base64url"));
  decipher.setAAD(Buffer.from(endpointId));
  decipher.setAuthTag(Buffer.from(authTag, "base64url"));
  return Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]).toString("utf8");
}
