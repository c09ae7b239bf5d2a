import type { Logger } from "pino";
import { seedDemo } from "../../prisma/seed.ts";
import { loadAuditKeys } from "../auth/audit-keys.ts";
import { type DevIssuerKey, loadOrCreateDevIssuerKey } from "../auth/dev-issuer.ts";
import { createTokenVerifier, type TokenVerifier } from "../auth/token-verifier.ts";
import type { Env } from "../config/env.ts";
import { createDb, type Db } from "../db/client.ts";
import { ensureDatabase } from "../db/database.ts";
import { applyMigrations } from "../db/schema-engine.ts";
import type { AuditKeys } from "../domain/audit/audit-keys.ts";

/** Brings the database to the current schema, seeding the demo tenants when asked. */
export async function prepareDatabase(env: Env, logger: Logger, auditKeys: AuditKeys): Promise<Db> {
  if (await ensureDatabase(env.DATABASE_URL)) logger.info("created database");
  const applied = await applyMigrations(env.DATABASE_URL);
  if (applied.length) logger.info({ applied }, "applied migrations");
  const db = createDb(env.DATABASE_URL);
  // Registering the demo tenants has nothing to do after commit.
  const seeded = env.SEED_DEMO && (await seedDemo({ db, auditKeys, effects: { dispatch: async () => {} } }));
  if (seeded) logger.info("seeded the demo organizations Fabrikam and Contoso");
  return db;
}

/** The audit keys; development creates missing key files, production requires them. */
export function auditKeys(env: Env): Promise<AuditKeys> {
  return loadAuditKeys({
    auditKey: env.AUDIT_KEY,
    auditKeyFile: env.AUDIT_KEY_FILE,
    signingKeyFile: env.AUDIT_SIGNING_KEY_FILE,
    publicKeyFile: env.AUDIT_PUBLIC_KEY_FILE,
    createMissing: env.NODE_ENV !== "production",
  });
}

/** Token verification against the identity provider (JWKS_URL), or the built-in dev issuer and its key. */
export async function identityEdge(env: Env): Promise<{ verifyToken: TokenVerifier; devKey: DevIssuerKey | null }> {
  if (env.JWKS_URL) {
    return {
      verifyToken: createTokenVerifier({ issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE, jwksUrl: env.JWKS_URL }),
      devKey: null,
    };
  }
  const devKey = await loadOrCreateDevIssuerKey(env.DEV_ISSUER_KEY_FILE);
  return {
    verifyToken: createTokenVerifier({
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      devPublicKey: devKey.publicKey,
    }),
    devKey,
  };
}
