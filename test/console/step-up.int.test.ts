import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { createDb, type Db } from "../../src/db/client.ts";
import { launchChromium } from "../helpers/chromium.ts";
import { startTestIdp, type TestIdp } from "../helpers/idp.ts";
import { type JobClient, jobClient, uniquePrefix } from "../helpers/jobs.ts";
import { type ApiProcess, spawnApi } from "../helpers/processes.ts";
import { redisUrl, workerDatabaseUrl } from "../setup/test-env.ts";
import { openConsole } from "./screens.ts";

// Issue 17, step-up at decision in the console against a real OpenID provider: an
// approver signed in without MFA is refused, signs in again at the provider (which asks
// afresh, prompt=login) ticking MFA, lands back on the request and decides.

const queuePrefix = uniquePrefix("console-step-up");
const keyFile = path.join(tmpdir(), `elevate-test-issuer-${queuePrefix}.json`);

let idp: TestIdp;
let db: Db;
let api: ApiProcess;
let jobs: JobClient;
let browser: Browser;
const subjects = new Map<string, string>();

vi.setConfig({ testTimeout: 90_000 });

async function graphqlAs(email: string, query: string) {
  const { access_token } = await idp.signIn(subjects.get(email)!);
  const response = await fetch(`${api.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${access_token}` },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as { data?: Record<string, { __typename: string; identity?: string }> };
}

beforeAll(async () => {
  idp = await startTestIdp({ audience: "api://elevate-console-test", redirectPath: "/signin-callback" });
  db = createDb(workerDatabaseUrl());
  for (const email of ["admin@fabrikam.com", "approver1@fabrikam.com", "requester@fabrikam.com"]) {
    const user = await db.user.findFirstOrThrow({ where: { email }, include: { organization: true } });
    subjects.set(email, user.subject!);
    idp.addAccount({ subject: user.subject!, tenantId: user.organization.tenantId, email, name: user.displayName });
  }
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
      },
    }),
    jobClient(redisUrl, queuePrefix),
    launchChromium(),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await api?.stop();
  await jobs?.close();
  await db?.$disconnect();
  await idp?.close();
  await rm(keyFile, { force: true });
}, 60_000);

it("refuses a decision signed in without MFA, and takes it after a sign-in with MFA at the provider", async () => {
  const setup = [
    `mutation { enableElevatedAccessControl(input: { adminGroup: "pamapprovers@fabrikam.com" }) { __typename } }`,
    `mutation { createApprovalPolicy(input: { target: "Exchange\\\\New-MoveRequest", approvalType: MANUAL, requireMfa: true }) { __typename } }`,
  ];
  for (const query of setup) {
    const answer = await graphqlAs("admin@fabrikam.com", query);
    expect(Object.values(answer.data ?? {})[0]?.__typename).not.toMatch(/Error$/);
  }
  const filed = await graphqlAs(
    "requester@fabrikam.com",
    `mutation { createAccessRequest(input: { target: "Exchange\\\\New-MoveRequest", reason: "Step-up in the console" }) { __typename ... on AccessRequest { identity } } }`,
  );
  const requestPath = `/requests/${filed.data?.createAccessRequest?.identity}`;

  const page = await openConsole(browser, api.url);
  await page.goto(requestPath);
  await page.getByRole("button", { name: "Sign in with your organization account" }).click();
  await page.getByLabel("Object ID or user principal name").fill("approver1@fabrikam.com");
  await page.getByRole("button", { name: "Sign in" }).click();
  const decide = page.getByRole("region", { name: "Decide" });
  await decide.getByRole("button", { name: "Approve", exact: true }).click();
  await page.getByText("must decide with multi-factor authentication", { exact: false }).waitFor();
  expect(await db.accessDecision.count()).toBe(0);

  await page.getByRole("button", { name: "Sign in again with multi-factor authentication" }).click();
  // The provider asks again (prompt=login) even though its session is still open.
  await page.getByLabel("Object ID or user principal name").fill("approver1@fabrikam.com");
  await page.getByLabel("Signed in with multi-factor authentication").check();
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => url.pathname === requestPath);
  await page.getByRole("region", { name: "Decide" }).getByRole("button", { name: "Approve", exact: true }).click();
  await page.getByRole("cell", { name: "Approved, with MFA" }).waitFor();
  expect(await db.accessDecision.findFirstOrThrow()).toMatchObject({ authMethods: ["pwd", "mfa"], approved: true });
});
