import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { AuditKeys } from "../domain/audit/audit-keys.ts";

export interface AuditKeySources {
  /** AUDIT_KEY itself (base64 or hex, at least 32 bytes); wins over the file. */
  auditKey?: string;
  auditKeyFile: string;
  /** Ed25519 private key (PKCS#8 PEM): the worker signs checkpoints with it. */
  signingKeyFile: string;
  /** Ed25519 public key (SPKI PEM), for processes that only verify. */
  publicKeyFile?: string;
  /** Development: create missing key files. Production never invents keys. */
  createMissing: boolean;
}

function decodeSecret(value: string): Buffer {
  const bytes =
    /^[0-9a-f]+$/i.test(value) && value.length % 2 === 0 ? Buffer.from(value, "hex") : Buffer.from(value, "base64");
  if (bytes.length < 32) throw new Error("AUDIT_KEY must be at least 32 bytes (base64 or hex)");
  return bytes;
}

async function readOrCreate(file: string, create: (() => string) | null): Promise<string | null> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT" || !create) return null;
  }
  await mkdir(path.dirname(file), { recursive: true });
  try {
    // `wx`: processes racing to create it agree on the first one's key.
    await writeFile(file, create(), { flag: "wx", mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  return readFile(file, "utf8");
}

/**
 * The audit keys from the environment and key files. Without a signing key the
 * process can still verify with the public key; without either it cannot start.
 */
export async function loadAuditKeys(sources: AuditKeySources): Promise<AuditKeys> {
  const secret =
    sources.auditKey ??
    (await readOrCreate(sources.auditKeyFile, sources.createMissing ? () => randomBytes(32).toString("base64") : null));
  if (!secret) throw new Error(`AUDIT_KEY is not set and ${sources.auditKeyFile} does not exist`);
  const signingPem = await readOrCreate(
    sources.signingKeyFile,
    sources.createMissing
      ? () => generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString()
      : null,
  );
  const signingKey = signingPem ? createPrivateKey(signingPem) : null;
  const publicPem = sources.publicKeyFile ? await readFile(sources.publicKeyFile, "utf8") : null;
  const publicKey = signingKey ? createPublicKey(signingKey) : publicPem ? createPublicKey(publicPem) : null;
  if (!publicKey) {
    throw new Error(`no checkpoint key: neither ${sources.signingKeyFile} nor AUDIT_PUBLIC_KEY_FILE exists`);
  }
  if (publicKey.asymmetricKeyType !== "ed25519") throw new Error("the checkpoint key must be an Ed25519 key");
  return { macKey: decodeSecret(secret.trim()), signingKey, publicKey };
}
