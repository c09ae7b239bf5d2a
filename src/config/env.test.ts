import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, configVariables, parseConfig } from "./env.ts";
import { projectRoot } from "./project-root.ts";

function problemsOf(source: Record<string, string>): string[] {
  try {
    parseConfig(source);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("parseConfig", () => {
  it("fills the documented defaults, each in its concern", () => {
    const config = parseConfig({});
    expect(config).toMatchObject({
      mode: "development",
      server: { port: 4000, publicUrl: "http://localhost:4000", seedDemo: true, runWorkers: true, corsOrigins: [] },
      database: { url: "postgresql://postgres@127.0.0.1:5432/elevate" },
      redis: { url: "redis://127.0.0.1:6379", prefix: "elevate" },
      mail: { smtpUrl: null },
      identity: { jwksUrl: null, signIn: { issuer: null } },
      jobs: { reconcileIntervalSeconds: 60 },
      operations: { metricsToken: null, queueDashboard: null },
    });
  });

  it("treats empty variables as unset and parses booleans, numbers and lists", () => {
    const config = parseConfig({
      PORT: "8080",
      SEED_DEMO: "false",
      SMTP_URL: "",
      PUBLIC_URL: "https://pam.example/",
      CORS_ORIGINS: "https://a.example, https://b.example",
      QUEUE_DASHBOARD: "1",
      QUEUE_DASHBOARD_ORGANIZATION: "Fabrikam",
    });
    expect(config.server).toMatchObject({
      port: 8080,
      seedDemo: false,
      publicUrl: "https://pam.example",
      corsOrigins: ["https://a.example", "https://b.example"],
    });
    expect(config.mail.smtpUrl).toBeNull();
    expect(config.operations.queueDashboard).toEqual({ organization: "Fabrikam" });
  });

  it("signs in at the identity provider's issuer unless OIDC_ISSUER names another", () => {
    const withProvider = { JWKS_URL: "https://login.example/keys", JWT_ISSUER: "https://login.example/v2.0" };
    expect(parseConfig(withProvider).identity.signIn.issuer).toBe("https://login.example/v2.0");
    expect(parseConfig({ ...withProvider, OIDC_ISSUER: "https://sso.example" }).identity.signIn.issuer).toBe(
      "https://sso.example",
    );
  });

  it("lists every bad variable of every concern in one error", () => {
    const problems = problemsOf({
      NODE_ENV: "staging",
      PORT: "eighty",
      DATABASE_URL: "mysql://localhost/x",
      REDIS_URL: "not a url",
      SEED_DEMO: "maybe",
      RECONCILE_INTERVAL_SECONDS: "0",
      WEBHOOK_ATTEMPTS: "100",
    });
    expect(problems.map((problem) => problem.split(":")[0]).sort()).toEqual(
      [
        "DATABASE_URL",
        "NODE_ENV",
        "PORT",
        "RECONCILE_INTERVAL_SECONDS",
        "REDIS_URL",
        "SEED_DEMO",
        "WEBHOOK_ATTEMPTS",
      ].sort(),
    );
    expect(problems).toContain("DATABASE_URL: must be a postgresql:// URL");
  });

  it("refuses production without an identity provider, a real mail server or an audit key", () => {
    expect(problemsOf({ NODE_ENV: "production" }).sort()).toEqual([
      "AUDIT_KEY: is required when NODE_ENV=production",
      "JWKS_URL: is required when NODE_ENV=production",
      "SMTP_URL: is required when NODE_ENV=production",
    ]);
    const config = parseConfig({
      NODE_ENV: "production",
      JWKS_URL: "https://login.example/keys",
      SMTP_URL: "smtp://mail.example:587",
      AUDIT_KEY: "c2VjcmV0LWtleS1oZWxkLW91dHNpZGUtdGhlLWRhdGFiYXNl",
    });
    expect(config.mode).toBe("production");
  });

  it("is documented: README's configuration table lists exactly the variables it reads", () => {
    const readme = readFileSync(path.join(projectRoot, "README.md"), "utf8");
    const documented = [...readme.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((match) => match[1]);
    expect(documented.sort()).toEqual(["NODE_ENV", ...Object.values(configVariables).flat()].sort());
  });

  it("reads the role mapping and the guest claim, naming a pair it cannot read", () => {
    const { identity } = parseConfig({
      ROLE_CLAIM_MAPPING: "PAM.Admins=ADMIN, Elevate.Auditor = AUDITOR",
      GUEST_CLAIM: "userType=Guest",
    });
    expect(identity.roleClaimMapping).toEqual({ "PAM.Admins": "ADMIN", "Elevate.Auditor": "AUDITOR" });
    expect(identity.guestClaim).toEqual({ claim: "userType", value: "Guest" });
    expect(parseConfig({}).identity).toMatchObject({ roleClaimMapping: null, guestClaim: null });
    expect(problemsOf({ ROLE_CLAIM_MAPPING: "Elevate.Admin=ADMIN,Elevate.Owner=OWNER", GUEST_CLAIM: "acct" })).toEqual([
      'ROLE_CLAIM_MAPPING: must be comma-separated AppRole=ROLE pairs with ROLE one of ADMIN, AUDITOR, ENFORCER; "Elevate.Owner=OWNER" is not',
      "GUEST_CLAIM: must be claim=value, e.g. acct=1",
    ]);
  });
});
