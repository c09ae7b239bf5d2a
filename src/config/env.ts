import { z } from "zod";

/**
 * The process's configuration: environment variables, one zod model per concern, each
 * mapped into its part of a nested `Config`. Parsed once at start (src/main/load-config.ts);
 * nothing reads process.env after that.
 */

const number = () => z.coerce.number({ message: "must be a number" });
const port = () => number().int().min(0).max(65535);

const booleanString = z
  .enum(["true", "false", "1", "0"], { message: "must be true or false" })
  .transform((value) => value === "true" || value === "1");

const url = (schemes: string[], rule: string) =>
  z
    .url({ message: "must be a URL" })
    .refine((value) => schemes.some((scheme) => value.startsWith(`${scheme}://`)), rule);

export const modes = ["development", "production", "test"] as const;
export type Mode = (typeof modes)[number];

const elevateRoles = ["ADMIN", "AUDITOR", "ENFORCER"] as const;

/** `Elevate.Admin=ADMIN,Elevate.Auditor=AUDITOR`: the token's app role values and the Elevate role each grants. */
const roleClaimMapping = z.string().transform((value, ctx) => {
  const mapping: Record<string, (typeof elevateRoles)[number]> = {};
  for (const pair of value.split(",").map((item) => item.trim())) {
    const [appRole, role, ...rest] = pair.split("=").map((part) => part.trim());
    const known = elevateRoles.find((candidate) => candidate === role);
    if (!appRole || !known || rest.length > 0) {
      ctx.addIssue({
        code: "custom",
        message: `must be comma-separated AppRole=ROLE pairs with ROLE one of ${elevateRoles.join(", ")}; "${pair}" is not`,
      });
      return z.NEVER;
    }
    mapping[appRole] = known;
  }
  return mapping;
});

/** `acct=1`: the claim, and its value, that mark a guest. */
const guestClaim = z.string().transform((value, ctx) => {
  const [claim, claimValue, ...rest] = value.split("=").map((part) => part.trim());
  if (!claim || claimValue === undefined || claimValue === "" || rest.length > 0) {
    ctx.addIssue({ code: "custom", message: "must be claim=value, e.g. acct=1" });
    return z.NEVER;
  }
  return { claim, value: claimValue };
});

const modeModel = z.object({ NODE_ENV: z.enum(modes).default("development") });

type Issue = (variable: string, message: string) => void;

/** One concern: its variables, the rules that need the mode, and the settings they make. */
interface Concern<Shape extends z.ZodRawShape, Settings> {
  variables: Shape;
  production?: (values: z.infer<z.ZodObject<Shape>>, issue: Issue) => void;
  settings: (values: z.infer<z.ZodObject<Shape>>) => Settings;
}

/** A concern's reader: its settings from the environment, or undefined after reporting its problems. */
function concern<Shape extends z.ZodRawShape, Settings>({ variables, production, settings }: Concern<Shape, Settings>) {
  const model = z.object(variables);
  return {
    variables: Object.keys(variables),
    read(source: Record<string, string | undefined>, mode: Mode, issue: Issue): Settings | undefined {
      const result = model.safeParse(source);
      if (!result.success) {
        for (const each of result.error.issues) issue(each.path.join("."), each.message);
        return undefined;
      }
      if (mode === "production") production?.(result.data, issue);
      return settings(result.data);
    },
  };
}

const server = concern({
  variables: {
    PORT: port().default(4000),
    PUBLIC_URL: url(["http", "https"], "must be an http:// or https:// URL").optional(),
    // Comma-separated origins (https://console.example.com) allowed to call the API from a browser;
    // empty: the same origin only (the console is served by the API itself).
    CORS_ORIGINS: z
      .string()
      .default("")
      .transform((value) =>
        value
          .split(",")
          .map((origin) => origin.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.url({ message: "must be comma-separated origins like https://console.example.com" }))),
    SEED_DEMO: booleanString.default(true),
    // With WORKER=false the API only adds jobs; `npm run worker` processes them.
    WORKER: booleanString.default(true),
  },
  settings: (v) => ({
    port: v.PORT,
    publicUrl: (v.PUBLIC_URL ?? `http://localhost:${v.PORT}`).replace(/\/$/, ""),
    corsOrigins: v.CORS_ORIGINS,
    seedDemo: v.SEED_DEMO,
    runWorkers: v.WORKER,
  }),
});

const database = concern({
  variables: {
    DATABASE_URL: url(["postgres", "postgresql"], "must be a postgresql:// URL").default(
      "postgresql://postgres@127.0.0.1:5432/elevate",
    ),
  },
  settings: (v) => ({ url: v.DATABASE_URL }),
});

const redis = concern({
  variables: {
    REDIS_URL: url(["redis", "rediss"], "must be a redis:// or rediss:// URL").default("redis://127.0.0.1:6379"),
    // Keys are wrapped in a hash tag so every queue key lands in one Redis Cluster slot.
    QUEUE_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, "must be letters, digits, '-' or '_'")
      .default("elevate"),
  },
  settings: (v) => ({ url: v.REDIS_URL, prefix: v.QUEUE_PREFIX }),
});

const mail = concern({
  variables: {
    SMTP_URL: url(["smtp", "smtps"], "must be an smtp:// or smtps:// URL").optional(),
    MAIL_FROM: z.string().min(3).default("Elevate <elevate@localhost>"),
    DEV_MAILBOX_DIR: z.string().min(1).default(".elevate/dev-mail"),
  },
  // The dev mailbox shows live approval links to whoever opens /dev/mail.
  production: (v, issue) => {
    if (!v.SMTP_URL) issue("SMTP_URL", "is required when NODE_ENV=production");
  },
  settings: (v) => ({ smtpUrl: v.SMTP_URL ?? null, from: v.MAIL_FROM, devMailboxDir: v.DEV_MAILBOX_DIR }),
});

const identity = concern({
  variables: {
    JWT_ISSUER: z.string().min(1).default("elevate-dev"),
    JWT_AUDIENCE: z.string().min(1).default("elevate"),
    JWKS_URL: z.url({ message: "must be a URL" }).optional(),
    DEV_ISSUER_KEY_FILE: z.string().min(1).default(".elevate/dev-issuer-key.json"),
    // Where the console and the command line sign in (OpenID Connect); default: JWT_ISSUER with JWKS_URL.
    OIDC_ISSUER: z.url({ message: "must be a URL" }).optional(),
    OIDC_CLIENT_ID: z.string().min(1).optional(),
    OIDC_SCOPES: z.string().min(1).default("openid profile email offline_access"),
    // OpenID Connect Core 11: a provider may issue a refresh token (offline_access) only with prompt=consent.
    OIDC_PROMPT: z.string().min(1).optional(),
    // How tokens' claims map to roles and guests; unset: Elevate.Admin/Auditor/Enforcer and Entra's acct=1.
    ROLE_CLAIM_MAPPING: roleClaimMapping.optional(),
    GUEST_CLAIM: guestClaim.optional(),
  },
  // The built-in issuer signs whatever `npm run token` asks for: never in production.
  production: (v, issue) => {
    if (!v.JWKS_URL) issue("JWKS_URL", "is required when NODE_ENV=production");
  },
  settings: (v) => ({
    issuer: v.JWT_ISSUER,
    audience: v.JWT_AUDIENCE,
    /** Null: the built-in dev issuer signs tokens (`npm run token`) with the key in `devIssuerKeyFile`. */
    jwksUrl: v.JWKS_URL ?? null,
    devIssuerKeyFile: v.DEV_ISSUER_KEY_FILE,
    signIn: {
      issuer: v.OIDC_ISSUER ?? (v.JWKS_URL ? v.JWT_ISSUER : null),
      clientId: v.OIDC_CLIENT_ID ?? null,
      scopes: v.OIDC_SCOPES,
      prompt: v.OIDC_PROMPT ?? null,
    },
    /** Null: the token verifier's defaults. */
    roleClaimMapping: v.ROLE_CLAIM_MAPPING ?? null,
    guestClaim: v.GUEST_CLAIM ?? null,
  }),
});

const audit = concern({
  // The audit trail's keys, held outside the database (README: Audit). Development
  // creates the files on first use; production needs AUDIT_KEY and an existing key file.
  variables: {
    AUDIT_KEY: z.string().min(1).optional(),
    AUDIT_KEY_FILE: z.string().min(1).default(".elevate/audit-key"),
    AUDIT_SIGNING_KEY_FILE: z.string().min(1).default(".elevate/audit-signing-key.pem"),
    AUDIT_PUBLIC_KEY_FILE: z.string().min(1).optional(),
    AUDIT_CHECKPOINT_INTERVAL_SECONDS: number().int().min(1).max(86_400).default(60),
  },
  // A key in a file next to the database's backups is not held outside the database.
  production: (v, issue) => {
    if (!v.AUDIT_KEY) issue("AUDIT_KEY", "is required when NODE_ENV=production");
  },
  settings: (v) => ({
    key: v.AUDIT_KEY,
    keyFile: v.AUDIT_KEY_FILE,
    signingKeyFile: v.AUDIT_SIGNING_KEY_FILE,
    publicKeyFile: v.AUDIT_PUBLIC_KEY_FILE,
    checkpointIntervalSeconds: v.AUDIT_CHECKPOINT_INTERVAL_SECONDS,
  }),
});

const quotas = concern({
  // Per user (SCIM: per organization), kept in Redis and shared by every API instance.
  variables: {
    QUOTA_REQUESTS_PER_HOUR: number().int().min(1).default(30),
    QUOTA_AUTHORIZE_TASK_PER_MINUTE: number().int().min(1).default(6000),
    QUOTA_SUBSCRIPTIONS_PER_USER: number().int().min(1).default(20),
    QUOTA_SCIM_REQUESTS_PER_MINUTE: number().int().min(1).default(1200),
  },
  settings: (v) => ({
    requestsPerHour: v.QUOTA_REQUESTS_PER_HOUR,
    authorizeTaskPerMinute: v.QUOTA_AUTHORIZE_TASK_PER_MINUTE,
    subscriptionsPerUser: v.QUOTA_SUBSCRIPTIONS_PER_USER,
    scimRequestsPerMinute: v.QUOTA_SCIM_REQUESTS_PER_MINUTE,
  }),
});

const jobs = concern({
  variables: {
    RECONCILE_INTERVAL_SECONDS: number().int().min(1).max(3600).default(60),
    WORKER_HEALTH_PORT: port().default(4001),
  },
  settings: (v) => ({ reconcileIntervalSeconds: v.RECONCILE_INTERVAL_SECONDS, workerHealthPort: v.WORKER_HEALTH_PORT }),
});

const webhooks = concern({
  variables: {
    // Deliveries to this host and private networks (and plain http://) only when allowed.
    WEBHOOKS_ALLOW_PRIVATE: booleanString.default(false),
    WEBHOOK_ATTEMPTS: number().int().min(1).max(25).default(8),
    WEBHOOK_RETRY_SECONDS: number().min(0.1).max(3600).default(30),
    WEBHOOK_TIMEOUT_SECONDS: number().min(0.1).max(60).default(10),
    WEBHOOK_FAILURES_TO_DISABLE: number().int().min(1).max(1000).default(5),
  },
  settings: (v) => ({
    allowPrivateAddresses: v.WEBHOOKS_ALLOW_PRIVATE,
    attempts: v.WEBHOOK_ATTEMPTS,
    retrySeconds: v.WEBHOOK_RETRY_SECONDS,
    timeoutSeconds: v.WEBHOOK_TIMEOUT_SECONDS,
    failuresToDisable: v.WEBHOOK_FAILURES_TO_DISABLE,
  }),
});

const operations = concern({
  variables: {
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    // Prometheus metrics at /metrics of the API and of each worker's health port, only for
    // a scraper that presents this token as a bearer token; unset: no metrics are served.
    METRICS_TOKEN: z.string().min(16, "must be at least 16 characters (openssl rand -hex 32)").optional(),
    // Bull Board at /admin/queues for administrators (QUEUE_DASHBOARD_ORGANIZATION: of that organization only).
    QUEUE_DASHBOARD: booleanString.default(false),
    QUEUE_DASHBOARD_ORGANIZATION: z.string().min(1).optional(),
  },
  settings: (v) => ({
    logLevel: v.LOG_LEVEL,
    metricsToken: v.METRICS_TOKEN ?? null,
    queueDashboard: v.QUEUE_DASHBOARD ? { organization: v.QUEUE_DASHBOARD_ORGANIZATION } : null,
  }),
});

const concerns = { server, database, redis, mail, identity, audit, quotas, jobs, webhooks, operations };
type Concerns = typeof concerns;

export type Config = { mode: Mode } & {
  [Name in keyof Concerns]: NonNullable<ReturnType<Concerns[Name]["read"]>>;
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Parses the environment once; throws one ConfigError listing every bad variable. */
export function parseConfig(source: Record<string, string | undefined>): Config {
  // An empty variable means "unset", as in most .env tooling.
  const present = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== undefined && value !== ""));
  // One line per variable: a value can break several rules, the first one says enough.
  const problems = new Map<string, string>();
  const issue: Issue = (variable, message) => {
    if (!problems.has(variable)) problems.set(variable, `${variable}: ${message}`);
  };
  const modeResult = modeModel.safeParse(present);
  if (!modeResult.success) issue("NODE_ENV", modeResult.error.issues[0]?.message ?? "is invalid");
  const mode = modeResult.data?.NODE_ENV ?? "development";
  const settings = Object.fromEntries(
    Object.entries(concerns).map(([name, { read }]) => [name, read(present, mode, issue)]),
  );
  if (problems.size) throw new ConfigError([...problems.values()]);
  return { mode, ...settings } as Config;
}

/** Every variable the configuration reads, by concern (README's table lists them). */
export const configVariables = Object.fromEntries(
  Object.entries(concerns).map(([name, { variables }]) => [name, variables]),
) as Record<keyof Concerns, string[]>;
