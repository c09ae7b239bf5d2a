import { parseArgs } from "node:util";
import { loadOrCreateDevIssuerKey, mintDevToken } from "../src/auth/dev-issuer.ts";
import { createDb } from "../src/db/client.ts";
import { loadConfigOrExit } from "../src/main/load-config.ts";

// `npm run token -- --as <email>`: prints a token of the built-in dev issuer, alone on stdout.
const usage = `usage: npm run token -- --as <email> [--org <organization>] [--ttl <seconds>] [--mfa]

Prints a bearer token of the built-in development issuer for a seeded user, e.g.
  TOKEN=$(npm run --silent token -- --as requester@fabrikam.com)

  --as <email>       the user (demo users: see the README)
  --org <name>       the organization, when the address exists in several
  --ttl <seconds>    lifetime (default 43200, 12 hours)
  --mfa              a token that shows multi-factor authentication (amr: pwd, mfa), for step-up decisions
  --help             this text`;

let values: { as?: string; org?: string; ttl: string; mfa?: boolean; help?: boolean };
try {
  ({ values } = parseArgs({
    options: {
      as: { type: "string" },
      org: { type: "string" },
      ttl: { type: "string", default: "43200" },
      mfa: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  }));
} catch (error) {
  console.error(`${(error as Error).message}\n\n${usage}`);
  process.exit(2);
}
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const ttl = Number(values.ttl);
if (!values.as || !Number.isInteger(ttl) || ttl <= 0) {
  console.error(usage);
  process.exit(2);
}
const { identity, database } = loadConfigOrExit();
if (identity.jwksUrl) {
  console.error("JWKS_URL is set: tokens come from your identity provider, not from this command");
  process.exit(2);
}
const db = createDb(database.url, { max: 1 });
const users = await db.user.findMany({
  where: { email: values.as.toLowerCase(), ...(values.org ? { organization: { name: values.org } } : {}) },
  include: { organization: { select: { name: true, tenantId: true } } },
});
await db.$disconnect();
const user = users[0];
if (!user) {
  console.error(`no user ${values.as}; is the server started (it seeds the demo users)?`);
  process.exit(1);
}
if (users.length > 1) {
  console.error(`${values.as} exists in ${users.map((u) => u.organization.name).join(", ")}: name one with --org`);
  process.exit(2);
}
if (!user.subject) {
  console.error(
    `${values.as} has not signed in through the identity provider yet, so has no subject to put in a token`,
  );
  process.exit(1);
}
const key = await loadOrCreateDevIssuerKey(identity.devIssuerKeyFile);
console.log(
  await mintDevToken(key, {
    issuer: identity.issuer,
    audience: identity.audience,
    tenantId: user.organization.tenantId,
    subject: user.subject,
    email: user.email,
    displayName: user.displayName,
    kind: user.kind,
    expiresIn: ttl,
    ...(values.mfa ? { amr: ["pwd", "mfa"] } : {}),
  }),
);
