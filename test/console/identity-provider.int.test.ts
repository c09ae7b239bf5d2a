import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { createDb, type Db } from "../../src/db/client.ts";
import { launchChromium } from "../helpers/chromium.ts";
import { startTestIdp, type TestIdp } from "../helpers/idp.ts";
import { type JobClient, jobClient, uniquePrefix } from "../helpers/jobs.ts";
import { type ApiProcess, spawnApi, waitFor } from "../helpers/processes.ts";
import { redisUrl, workerDatabaseUrl } from "../setup/test-env.ts";
import { checkScreen, openConsole, recordSocketInits } from "./screens.ts";

// The console signing in at a real OpenID Connect provider (the in-process oidc-provider)
// with authorization code + PKCE, the API verifying its tokens by JWKS as in production:
// only the access token ever reaches the API, it is renewed with the refresh token before
// it expires (HTTP and the WebSocket alike), and signing out ends the provider's session.

const queuePrefix = uniquePrefix("console-idp");
const keyFile = path.join(tmpdir(), `elevate-test-issuer-${queuePrefix}.json`);

let idp: TestIdp;
let db: Db;
let api: ApiProcess;
let jobs: JobClient;
let browser: Browser;
let subject: string;

vi.setConfig({ testTimeout: 90_000 });

beforeAll(async () => {
  idp = await startTestIdp({ audience: "api://elevate-console-test", redirectPath: "/signin-callback" });
  db = createDb(workerDatabaseUrl());
  const requester = await db.user.findFirstOrThrow({
    where: { email: "requester@fabrikam.com" },
    include: { organization: true },
  });
  subject = requester.subject!;
  idp.addAccount({
    subject,
    tenantId: requester.organization.tenantId,
    email: requester.email,
    name: requester.displayName,
  });
  [api, jobs, browser] = await Promise.all([
    spawnApi({
      redisUrl,
      queuePrefix,
      devIssuerKeyFile: keyFile,
      env: {
        JWKS_URL: idp.jwksUrl,
        JWT_ISSUER: idp.issuer,
        JWT_AUDIENCE: idp.audience,
        OIDC_CLIENT_ID: idp.clientId,
        // oidc-provider, like the OpenID spec, issues a refresh token only with prompt=consent.
        OIDC_PROMPT: "consent",
      },
    }),
    jobClient(redisUrl, queuePrefix),
    launchChromium(),
  ]);
});

afterAll(async () => {
  await browser?.close();
  const exit = await api?.stop();
  await jobs?.close();
  await db?.$disconnect();
  await idp?.close();
  await rm(keyFile, { force: true });
  expect(exit).toEqual({ code: 0, signal: null });
}, 60_000);

interface Claims {
  aud: string;
  oid: string;
  iat: number;
  jti?: string;
}

const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString()) as Claims;

it("signs in with code + PKCE at the identity provider, renews with the refresh token, and signs out", async () => {
  const page = await openConsole(browser, api.url);
  // The browser's clock, so the test can move it to the token's renewal without waiting an hour.
  await page.clock.install();

  // Everything the browser sends to the API: each request's URL, body and Authorization header,
  // and the WebSocket's connection_init.
  const toApi: { url: string; body: string; authorization: string | undefined }[] = [];
  const socketInits = recordSocketInits(page);
  const authorizeUrls: URL[] = [];
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (url.origin === api.url)
      toApi.push({
        url: request.url(),
        body: request.postData() ?? "",
        authorization: request.headers().authorization,
      });
    if (url.origin === idp.issuer && url.pathname === "/auth") authorizeUrls.push(url);
  });

  await page.goto("/requests");
  await page.getByRole("button", { name: "Sign in with your organization account" }).waitFor();
  expect(await page.getByRole("heading", { name: "Sign in as a demo user" }).count()).toBe(0);
  await checkScreen(page, "sign-in-identity-provider");

  await page.getByRole("button", { name: "Sign in with your organization account" }).click();
  await page.getByLabel("Object ID or user principal name").fill("requester@fabrikam.com");
  await page.getByRole("button", { name: "Sign in" }).click();
  // Back on the page the person asked for, signed in.
  await page.getByRole("heading", { name: "Access requests" }).waitFor();
  expect(new URL(page.url()).pathname).toBe("/requests");
  await page.getByText("Regan Requester").waitFor();

  const [authorize] = authorizeUrls;
  expect(authorize?.searchParams.get("response_type")).toBe("code");
  expect(authorize?.searchParams.get("code_challenge_method")).toBe("S256");
  expect(authorize?.searchParams.get("code_challenge")).toBeTruthy();

  const graphqlCalls = () => toApi.filter((call) => new URL(call.url).pathname === "/graphql");
  await waitFor("a GraphQL call and a subscription", async () => graphqlCalls().length > 0 && socketInits.length > 0);
  const first = graphqlCalls()[0]!.authorization!.replace(/^Bearer /, "");
  expect(claimsOf(first)).toMatchObject({ aud: idp.audience, oid: subject });
  expect(socketInits[0]).toBe(`Bearer ${first}`);

  // An hour's token, renewed five minutes before it runs out. The socket reconnects with the
  // new token before the server would close it at the old one's expiry.
  await page.clock.fastForward("56:00");
  const renewed = await waitFor(
    `the WebSocket to reconnect with a renewed token (browser problems: ${page.problems.join("; ")})`,
    async () => socketInits.map((init) => init.replace(/^Bearer /, "")).find((token) => token !== first),
  );
  expect(claimsOf(renewed)).toMatchObject({ aud: idp.audience, oid: subject });
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "My access" }).click();
  await page.getByRole("heading", { name: "My access" }).waitFor();
  await waitFor("a GraphQL call with the renewed token", async () =>
    graphqlCalls().some((call) => call.authorization === `Bearer ${renewed}`),
  );

  // Only access tokens: no ID token, refresh token or authorization code ever went to the API.
  for (const call of toApi) {
    expect(call.authorization === undefined || /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/.test(call.authorization)).toBe(true);
    if (call.authorization) expect(claimsOf(call.authorization.slice(7)).aud).toBe(idp.audience);
    expect(`${call.url} ${call.body}`).not.toMatch(/code=|id_token|refresh_token|code_verifier/);
  }

  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL((url) => url.origin === idp.issuer);
  await page.goto(`${api.url}/requests`);
  await page.getByRole("button", { name: "Sign in with your organization account" }).waitFor();
  expect(await page.evaluate(() => Object.keys(sessionStorage).filter((key) => key.startsWith("oidc.user")))).toEqual(
    [],
  );
});
