import { describe, expect, it } from "vitest";
import { ConfigError, parseEnv } from "./env.ts";

describe("parseEnv", () => {
  it("fills the documented defaults", () => {
    const env = parseEnv({});
    expect(env).toMatchObject({
      PORT: 4000,
      DATABASE_URL: "postgresql://postgres@127.0.0.1:5432/elevate",
      REDIS_URL: "redis://127.0.0.1:6379",
      RECONCILE_INTERVAL_SECONDS: 60,
      SEED_DEMO: true,
      PUBLIC_URL: "http://localhost:4000",
    });
    expect(env.SMTP_URL).toBeUndefined();
    expect(env.JWKS_URL).toBeUndefined();
  });

  it("treats empty variables as unset and parses booleans and numbers", () => {
    const env = parseEnv({ PORT: "8080", SEED_DEMO: "false", SMTP_URL: "", PUBLIC_URL: "https://pam.example/" });
    expect(env.PORT).toBe(8080);
    expect(env.SEED_DEMO).toBe(false);
    expect(env.SMTP_URL).toBeUndefined();
    expect(env.PUBLIC_URL).toBe("https://pam.example");
  });

  it("lists every bad variable in one error", () => {
    let error: unknown;
    try {
      parseEnv({
        PORT: "eighty",
        DATABASE_URL: "mysql://localhost/x",
        REDIS_URL: "not a url",
        SEED_DEMO: "maybe",
        RECONCILE_INTERVAL_SECONDS: "0",
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems.map((problem) => problem.split(":")[0]).sort()).toEqual(
      ["DATABASE_URL", "PORT", "RECONCILE_INTERVAL_SECONDS", "REDIS_URL", "SEED_DEMO"].sort(),
    );
    expect((error as ConfigError).message).toContain("DATABASE_URL: must be a postgresql:// URL");
  });

  it("refuses production without an identity provider, a real mail server or an audit key", () => {
    expect(() => parseEnv({ NODE_ENV: "production" })).toThrow(/JWKS_URL: is required when NODE_ENV=production/);
    expect(() => parseEnv({ NODE_ENV: "production" })).toThrow(/SMTP_URL: is required when NODE_ENV=production/);
    expect(() => parseEnv({ NODE_ENV: "production" })).toThrow(/AUDIT_KEY: is required when NODE_ENV=production/);
    const env = parseEnv({
      NODE_ENV: "production",
      JWKS_URL: "https://login.example/keys",
      SMTP_URL: "smtp://mail.example:587",
      AUDIT_KEY: "c2VjcmV0LWtleS1oZWxkLW91dHNpZGUtdGhlLWRhdGFiYXNl",
    });
    expect(env.NODE_ENV).toBe("production");
  });

  it("reads the role mapping and the guest claim, naming a pair it cannot read", () => {
    const env = parseEnv({
      ROLE_CLAIM_MAPPING: "PAM.Admins=ADMIN, Elevate.Auditor = AUDITOR",
      GUEST_CLAIM: "userType=Guest",
    });
    expect(env.ROLE_CLAIM_MAPPING).toEqual({ "PAM.Admins": "ADMIN", "Elevate.Auditor": "AUDITOR" });
    expect(env.GUEST_CLAIM).toEqual({ claim: "userType", value: "Guest" });
    expect(parseEnv({}).ROLE_CLAIM_MAPPING).toBeUndefined();
    expect(() => parseEnv({ ROLE_CLAIM_MAPPING: "Elevate.Admin=ADMIN,Elevate.Owner=OWNER" })).toThrow(
      /ROLE_CLAIM_MAPPING: must be comma-separated AppRole=ROLE pairs .*"Elevate.Owner=OWNER" is not/,
    );
    expect(() => parseEnv({ GUEST_CLAIM: "acct" })).toThrow(/GUEST_CLAIM: must be claim=value/);
  });
});
