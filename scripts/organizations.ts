import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import { createDb } from "../src/db/client.ts";
import { DomainError } from "../src/domain/errors.ts";
import {
  listOrganizations,
  registerOrganization,
  rotateScimSecret,
  setRolesFromToken,
} from "../src/domain/organizations.service.ts";
import { createEventBus, eventEffectHandlers } from "../src/events/event-bus.ts";
import { createEffectSink } from "../src/jobs/effects.ts";
import { auditKeys } from "../src/main/bootstrap.ts";
import { loadConfigOrExit } from "../src/main/load-config.ts";
import { createLogger } from "../src/main/logger.ts";

// `npm run org -- <command>`: the operator's command for organizations (server side,
// with database access). Every change is audited in the organization's own chain.
const usage = `usage: npm run org -- <command> [options]

  register --tenant <tenant ID> --name <name> --admin <email> [--admin <email> ...] [--roles-from-token]
      Registers an organization for an identity provider tenant (Entra ID: the
      directory (tenant) ID). Each --admin is invited by address and becomes that
      user at their first sign-in. --roles-from-token: users' roles follow the
      token's app roles (Elevate.Admin, Elevate.Auditor, Elevate.Enforcer).
  list
      The organizations, with their tenant, users and whether SCIM is on.
  rotate-scim-secret --org <name or tenant ID>
      Issues the SCIM provisioning secret (shown once; the previous one stops working).
  set --org <name or tenant ID> --roles-from-token <true|false>
      Whether roles follow the tokens.`;

function fail(message: string, code = 2): never {
  console.error(`${message}\n\n${usage}`);
  process.exit(code);
}

let parsed: { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] };
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      tenant: { type: "string" },
      name: { type: "string" },
      admin: { type: "string", multiple: true },
      org: { type: "string" },
      "roles-from-token": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
} catch (error) {
  fail((error as Error).message);
}
const [command] = parsed.positionals;
const option = (name: string) => parsed.values[name] as string | undefined;
if (parsed.values.help || !command) {
  console.log(usage);
  process.exit(parsed.values.help ? 0 : 2);
}

const config = loadConfigOrExit();
const db = createDb(config.database.url, { max: 2 });
// Changes go out on the event bus, so every running API instance drops the actors it
// cached for the organization at once (roles from tokens, say), not at the next token.
// One retry, then a warning: the change is committed whether or not Redis answers.
const redisOptions = { connectionName: "elevate-org", maxRetriesPerRequest: 1, retryStrategy: () => null };
const [publish, subscribe] = [new Redis(config.redis.url, redisOptions), new Redis(config.redis.url, redisOptions)];
for (const connection of [publish, subscribe]) connection.on("error", () => {});
const bus = createEventBus({ publish, subscribe, channelPrefix: config.redis.prefix });
const effects = createEffectSink([eventEffectHandlers(bus)], await createLogger(config.operations));
const deps = { db, auditKeys: await auditKeys(config), effects };
try {
  switch (command) {
    case "register": {
      const rolesFromToken = option("roles-from-token");
      const organization = await registerOrganization(deps, {
        tenantId: option("tenant"),
        name: option("name"),
        admins: ((parsed.values.admin as string[] | undefined) ?? []).map((email) => ({ email })),
        rolesFromToken: rolesFromToken === undefined ? false : rolesFromToken !== "false",
      });
      console.log(`Registered ${organization.name} for tenant ${organization.tenantId}.`);
      break;
    }
    case "list":
      for (const organization of await listOrganizations(db)) {
        console.log(
          [
            organization.name,
            `tenant ${organization.tenantId}`,
            `${organization._count.users} users`,
            organization.rolesFromToken ? "roles from tokens" : "roles set in Elevate",
            organization.scimSecretHash ? "SCIM on" : "SCIM off",
          ].join("  |  "),
        );
      }
      break;
    case "rotate-scim-secret": {
      const org = option("org") ?? fail("--org is required");
      const secret = await rotateScimSecret(deps, org);
      console.log(secret);
      console.error("The SCIM secret is shown once: set it as the provisioning secret token now.");
      break;
    }
    case "set": {
      const org = option("org") ?? fail("--org is required");
      const value = option("roles-from-token");
      if (value !== "true" && value !== "false") fail("--roles-from-token must be true or false");
      await setRolesFromToken(deps, org, value === "true");
      console.log(`${org}: roles ${value === "true" ? "follow the tokens" : "are set in Elevate"}.`);
      break;
    }
    default:
      fail(`unknown command ${command}`);
  }
} catch (error) {
  if (!(error instanceof DomainError)) throw error;
  console.error(`${error.code}: ${error.message}`);
  process.exitCode = 1;
} finally {
  await db.$disconnect();
  publish.disconnect();
  subscribe.disconnect();
}
