import { parseArgs } from "node:util";
import { env as loadEnv } from "../src/config/env.ts";
import { createDb } from "../src/db/client.ts";
import { loadOrCreateDevIssuerKey, mintDevToken } from "../src/domain/identity.ts";

// `npm run token -- --as <email>`: prints a token of the built-in dev issuer, alone on stdout.
const { values } = parseArgs({
  options: { as: { type: "string" }, ttl: { type: "string", default: "43200" } },
});
const env = loadEnv();
if (env.JWKS_URL) {
  console.error("JWKS_URL is set: tokens come from your identity provider, not from this command");
  process.exit(2);
}
if (!values.as) {
  console.error("usage: npm run token -- --as <email> [--ttl <seconds>]");
  process.exit(2);
}
const db = createDb(env.DATABASE_URL, { max: 1 });
const user = await db.user.findUnique({ where: { email: values.as.toLowerCase() } });
await db.$disconnect();
if (!user) {
  console.error(`no user ${values.as}; is the server started (it seeds the demo users)?`);
  process.exit(1);
}
const key = await loadOrCreateDevIssuerKey(env.DEV_ISSUER_KEY_FILE);
console.log(
  await mintDevToken(key, {
    issuer: env.JWT_ISSUER,
    audience: env.JWT_AUDIENCE,
    organizationId: user.organizationId,
    email: user.email,
    expiresIn: Number(values.ttl),
  }),
);
