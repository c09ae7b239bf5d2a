import { mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadOrCreateDevIssuerKey } from "../../src/auth/dev-issuer.ts";
import { createDb, type Db } from "../../src/db/client.ts";
import { startTestIdp, type TestIdp } from "../helpers/idp.ts";
import { jobClient, uniquePrefix } from "../helpers/jobs.ts";
import { type ApiProcess, spawnApi } from "../helpers/processes.ts";
import { redisUrl, workerDatabaseUrl } from "../setup/test-env.ts";
import { type Cli, elevate, installCli, property, start } from "./cli.ts";

// Issue 14: `elevate login` against a real OpenID provider with the device
// authorization grant (RFC 8628), the way a terminal without a browser signs in.

const queuePrefix = uniquePrefix("cli-device");
const keyFile = path.join(tmpdir(), `elevate-test-issuer-${queuePrefix}.json`);

let idp: TestIdp;
let api: ApiProcess;
let db: Db;
let cli: Cli;
let shell: Record<string, string>;
let requesterSubject: string;

interface StoredSessions {
  url: string;
  sessions: Record<string, { kind: string; accessToken: string; refreshToken?: string; expiresAt: number }>;
}

beforeAll(async () => {
  idp = await startTestIdp({ audience: "api://elevate-test" });
  db = createDb(workerDatabaseUrl());
  const requester = await db.user.findFirstOrThrow({
    where: { email: "requester@fabrikam.com" },
    include: { organization: true },
  });
  requesterSubject = requester.subject!;
  idp.addAccount({ subject: requesterSubject, tenantId: requester.organization.tenantId, email: requester.email });
  await loadOrCreateDevIssuerKey(keyFile);
  api = await spawnApi({
    redisUrl,
    queuePrefix,
    devIssuerKeyFile: keyFile,
    env: {
      JWKS_URL: idp.jwksUrl,
      JWT_ISSUER: idp.issuer,
      JWT_AUDIENCE: idp.audience,
      OIDC_ISSUER: idp.issuer,
      OIDC_CLIENT_ID: idp.clientId,
    },
  });
  cli = await installCli(api.url);
  shell = cli.env(await mkdtemp(path.join(tmpdir(), "elevate-device-")));
});

afterAll(async () => {
  await api?.stop();
  // The jobs the API queued (request expiry, mail) are this file's alone.
  await (await jobClient(redisUrl, queuePrefix)).close();
  await idp?.close();
  await db?.$disconnect();
});

const credentials = async () =>
  JSON.parse(await readFile(path.join(shell.ELEVATE_CONFIG_DIR!, "credentials.json"), "utf8")) as StoredSessions;

describe("elevate login with the device authorization grant", () => {
  it("shows a code, waits for the user to enter it at the provider, and keeps the tokens (0600)", async () => {
    const login = start("elevate", ["login"], shell);
    const [, verificationUri, userCode] = await login.stderrMatch(/To sign in, open (\S+) and enter the code (\S+)/);
    expect(verificationUri).toBe(`${idp.issuer}/device`);
    await idp.approveDevice(userCode!, requesterSubject);
    const result = await login.done;
    expect(result.code, result.stderr).toBe(0);
    expect(property(result.stdout, "UserPrincipalName")).toBe("requester@fabrikam.com");
    const store = await credentials();
    expect(store.sessions[store.url]).toMatchObject({ kind: "oidc", refreshToken: expect.any(String) });
    expect((await stat(path.join(shell.ELEVATE_CONFIG_DIR!, "credentials.json"))).mode & 0o777).toBe(0o600);
  });

  it("uses the stored token for later commands", async () => {
    const result = await elevate(shell, "whoami", "-ExpandProperty", "UserPrincipalName");
    expect(result).toMatchObject({ code: 0, stdout: "requester@fabrikam.com\n" });
  });

  it("refreshes an expired access token with the refresh token", async () => {
    const store = await credentials();
    const before = store.sessions[store.url]!;
    await writeFile(
      path.join(shell.ELEVATE_CONFIG_DIR!, "credentials.json"),
      JSON.stringify({ ...store, sessions: { [store.url]: { ...before, accessToken: "expired", expiresAt: 0 } } }),
    );
    const result = await elevate(shell, "whoami", "-ExpandProperty", "UserPrincipalName");
    expect(result, result.stderr).toMatchObject({ code: 0, stdout: "requester@fabrikam.com\n" });
    const after = (await credentials()).sessions[store.url]!;
    expect(after.accessToken).not.toBe("expired");
    expect(after.expiresAt).toBeGreaterThan(Date.now() / 1000);
  });

  it("asks to sign in again when the refresh token is refused", async () => {
    const store = await credentials();
    const session = store.sessions[store.url]!;
    await writeFile(
      path.join(shell.ELEVATE_CONFIG_DIR!, "credentials.json"),
      JSON.stringify({
        ...store,
        sessions: { [store.url]: { ...session, accessToken: "expired", expiresAt: 0, refreshToken: "revoked" } },
      }),
    );
    const result = await elevate(shell, "whoami");
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^whoami: UNAUTHENTICATED: your sign-in to .* expired \(.*\): run elevate login/);
  });

  it("has no development sign-in on a server with an identity provider", async () => {
    const result = await elevate(shell, "login", "-As", "admin@fabrikam.com");
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/has no development sign-in/);
  });
});
