import type { Logger } from "pino";
import { seedDemo } from "../../prisma/seed.ts";
import { loadOrCreateDevIssuerKey } from "../auth/dev-issuer.ts";
import { createTokenVerifier, type TokenVerifier } from "../auth/token-verifier.ts";
import type { Env } from "../config/env.ts";
import { createDb, type Db } from "../db/client.ts";
import { ensureDatabase } from "../db/database.ts";
import { applyMigrations } from "../db/schema-engine.ts";

/** Brings the database to the current schema, seeding the demo tenants when asked. */
export async function prepareDatabase(env: Env, logger: Logger): Promise<Db> {
  if (await ensureDatabase(env.DATABASE_URL)) logger.info("created database");
  const applied = await applyMigrations(env.DATABASE_URL);
  if (applied.length) logger.info({ applied }, "applied migrations");
  const db = createDb(env.DATABASE_URL);
  if (env.SEED_DEMO && (await seedDemo(db))) logger.info("seeded the demo organizations Fabrikam and Contoso");
  return db;
}

export async function tokenVerifier(env: Env): Promise<TokenVerifier> {
  if (env.JWKS_URL) {
    return createTokenVerifier({ issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE, jwksUrl: env.JWKS_URL });
  }
  const key = await loadOrCreateDevIssuerKey(env.DEV_ISSUER_KEY_FILE);
  return createTokenVerifier({ issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE, devPublicKey: key.publicKey });
}
