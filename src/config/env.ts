import { z } from "zod";

const booleanString = z
  .enum(["true", "false", "1", "0"], { message: "must be true or false" })
  .transform((value) => value === "true" || value === "1");

const postgresUrl = z
  .url({ message: "must be a URL" })
  .refine((value) => /^postgres(ql)?:\/\//.test(value), "must be a postgresql:// URL");

const redisUrl = z
  .url({ message: "must be a URL" })
  .refine((value) => /^rediss?:\/\//.test(value), "must be a redis:// or rediss:// URL");

export const envSchema = z
  .object({
    NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
    PORT: z.coerce.number({ message: "must be a number" }).int().min(0).max(65535).default(4000),
    DATABASE_URL: postgresUrl.default("postgresql://postgres@127.0.0.1:5432/elevate"),
    REDIS_URL: redisUrl.default("redis://127.0.0.1:6379"),
    // Keys are wrapped in a hash tag so every queue key lands in one Redis Cluster slot.
    QUEUE_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, "must be letters, digits, '-' or '_'")
      .default("elevate"),
    SMTP_URL: z
      .url({ message: "must be a URL" })
      .refine((value) => /^smtps?:\/\//.test(value), "must be an smtp:// or smtps:// URL")
      .optional(),
    MAIL_FROM: z.string().min(3).default("Elevate <elevate@localhost>"),
    PUBLIC_URL: z
      .url({ message: "must be a URL" })
      .refine((value) => /^https?:\/\//.test(value), "must be an http:// or https:// URL")
      .optional(),
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
    JWT_ISSUER: z.string().min(1).default("elevate-dev"),
    JWT_AUDIENCE: z.string().min(1).default("elevate"),
    JWKS_URL: z.url({ message: "must be a URL" }).optional(),
    // Where the console and the command line sign in (OpenID Connect); default: JWT_ISSUER with JWKS_URL.
    OIDC_ISSUER: z.url({ message: "must be a URL" }).optional(),
    OIDC_CLIENT_ID: z.string().min(1).optional(),
    OIDC_SCOPES: z.string().min(1).default("openid profile email offline_access"),
    // OpenID Connect Core 11: a provider may issue a refresh token (offline_access) only with prompt=consent.
    OIDC_PROMPT: z.string().min(1).optional(),
    DEV_ISSUER_KEY_FILE: z.string().min(1).default(".elevate/dev-issuer-key.json"),
    DEV_MAILBOX_DIR: z.string().min(1).default(".elevate/dev-mail"),
    // The audit trail's keys, held outside the database (README: Audit). Development
    // creates the files on first use; production needs AUDIT_KEY and an existing key file.
    AUDIT_KEY: z.string().min(1).optional(),
    AUDIT_KEY_FILE: z.string().min(1).default(".elevate/audit-key"),
    AUDIT_SIGNING_KEY_FILE: z.string().min(1).default(".elevate/audit-signing-key.pem"),
    AUDIT_PUBLIC_KEY_FILE: z.string().min(1).optional(),
    AUDIT_CHECKPOINT_INTERVAL_SECONDS: z.coerce
      .number({ message: "must be a number" })
      .int()
      .min(1)
      .max(86_400)
      .default(60),
    // Quotas per user, kept in Redis and shared by every API instance.
    QUOTA_REQUESTS_PER_HOUR: z.coerce.number({ message: "must be a number" }).int().min(1).default(30),
    QUOTA_AUTHORIZE_TASK_PER_MINUTE: z.coerce.number({ message: "must be a number" }).int().min(1).default(6000),
    QUOTA_SUBSCRIPTIONS_PER_USER: z.coerce.number({ message: "must be a number" }).int().min(1).default(20),
    RECONCILE_INTERVAL_SECONDS: z.coerce.number({ message: "must be a number" }).int().min(1).max(3600).default(60),
    SEED_DEMO: booleanString.default(true),
    WORKER: booleanString.default(true),
    WORKER_HEALTH_PORT: z.coerce.number({ message: "must be a number" }).int().min(0).max(65535).default(4001),
    // Prometheus metrics at /metrics of the API and of each worker's health port, only for
    // a scraper that presents this token as a bearer token; unset: no metrics are served.
    METRICS_TOKEN: z.string().min(16, "must be at least 16 characters (openssl rand -hex 32)").optional(),
    // Bull Board at /admin/queues for administrators (QUEUE_DASHBOARD_ORGANIZATION: of that organization only).
    QUEUE_DASHBOARD: booleanString.default(false),
    QUEUE_DASHBOARD_ORGANIZATION: z.string().min(1).optional(),
    // Webhooks: deliveries to this host and private networks (and plain http://) only when allowed.
    WEBHOOKS_ALLOW_PRIVATE: booleanString.default(false),
    WEBHOOK_ATTEMPTS: z.coerce.number({ message: "must be a number" }).int().min(1).max(25).default(8),
    WEBHOOK_RETRY_SECONDS: z.coerce.number({ message: "must be a number" }).min(0.1).max(3600).default(30),
    WEBHOOK_TIMEOUT_SECONDS: z.coerce.number({ message: "must be a number" }).min(0.1).max(60).default(10),
    WEBHOOK_FAILURES_TO_DISABLE: z.coerce.number({ message: "must be a number" }).int().min(1).max(1000).default(5),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  })
  .superRefine((env, ctx) => {
    // The built-in issuer signs whatever `npm run token` asks for: never in production.
    if (env.NODE_ENV === "production" && !env.JWKS_URL) {
      ctx.addIssue({ code: "custom", path: ["JWKS_URL"], message: "is required when NODE_ENV=production" });
    }
    // A key in a file next to the database's backups is not held outside the database.
    if (env.NODE_ENV === "production" && !env.AUDIT_KEY) {
      ctx.addIssue({ code: "custom", path: ["AUDIT_KEY"], message: "is required when NODE_ENV=production" });
    }
    // The dev mailbox shows live approval links to whoever opens /dev/mail.
    if (env.NODE_ENV === "production" && !env.SMTP_URL) {
      ctx.addIssue({ code: "custom", path: ["SMTP_URL"], message: "is required when NODE_ENV=production" });
    }
  });

export type Env = z.infer<typeof envSchema> & { PUBLIC_URL: string };

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Parses the environment once; throws one ConfigError listing every bad variable. */
export function parseEnv(source: Record<string, string | undefined>): Env {
  // An empty variable means "unset", as in most .env tooling.
  const present = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== undefined && value !== ""));
  const result = envSchema.safeParse(present);
  if (!result.success) {
    // One line per variable: a value can break several rules, the first one says enough.
    const problems = new Map<string, string>();
    for (const issue of result.error.issues) {
      const name = issue.path.join(".");
      if (!problems.has(name)) problems.set(name, `${name}: ${issue.message}`);
    }
    throw new ConfigError([...problems.values()]);
  }
  const env = result.data;
  return {
    ...env,
    PUBLIC_URL: (env.PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/$/, ""),
  };
}

let cached: Env | undefined;

/** The process's configuration; the first call parses process.env. */
export function env(): Env {
  cached ??= parseEnv(process.env);
  return cached;
}
