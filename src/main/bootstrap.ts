import type { Logger } from "pino";
import { seedDemo } from "../../prisma/seed.ts";
import { loadAuditKeys } from "../auth/audit-keys.ts";
import { type DevIssuerKey, loadOrCreateDevIssuerKey } from "../auth/dev-issuer.ts";
import { createTokenVerifier, defaultClaimMapping, type TokenVerifier } from "../auth/token-verifier.ts";
import type { Config } from "../config/env.ts";
import { createDb, type Db } from "../db/client.ts";
import { ensureDatabase } from "../db/database.ts";
import { applyMigrations } from "../db/schema-engine.ts";
import type { AuditKeys } from "../domain/audit/audit-keys.ts";

/** Brings the database to the current schema, seeding the demo tenants when asked. */
export async function prepareDatabase(
  config: Pick<Config, "database" | "server">,
  logger: Logger,
  auditKeys: AuditKeys,
): Promise<Db> {
  const { url } = config.database;
  if (await ensureDatabase(url)) logger.info("created database");
  const applied = await applyMigrations(url);
  if (applied.length) logger.info({ applied }, "applied migrations");
  const db = createDb(url);
  // Registering the demo tenants has nothing to do after commit.
  const seeded = config.server.seedDemo && (await seedDemo({ db, auditKeys, effects: { dispatch: async () => {} } }));
  if (seeded) logger.info("seeded the demo organizations Fabrikam and Contoso");
  return db;
}

/** The audit keys; development creates missing key files, production requires them. */
export function auditKeys(config: Pick<Config, "audit" | "mode">): Promise<AuditKeys> {
  const { key, keyFile, signingKeyFile, publicKeyFile } = config.audit;
  return loadAuditKeys({
    auditKey: key,
    auditKeyFile: keyFile,
    signingKeyFile,
    publicKeyFile,
    createMissing: config.mode !== "production",
  });
}

/** Token verification against the identity provider (JWKS_URL), or the built-in dev issuer and its key. */
export async function identityEdge({
  issuer,
  audience,
  jwksUrl,
  devIssuerKeyFile,
  roleClaimMapping,
  guestClaim,
}: Config["identity"]): Promise<{ verifyToken: TokenVerifier; devKey: DevIssuerKey | null }> {
  const claims = {
    roles: roleClaimMapping ?? defaultClaimMapping.roles,
    guest: guestClaim ?? defaultClaimMapping.guest,
  };
  if (jwksUrl) return { verifyToken: createTokenVerifier({ issuer, audience, jwksUrl, claims }), devKey: null };
  const devKey = await loadOrCreateDevIssuerKey(devIssuerKeyFile);
  return { verifyToken: createTokenVerifier({ issuer, audience, devPublicKey: devKey.publicKey, claims }), devKey };
}
