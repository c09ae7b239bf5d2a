import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadOrCreateDevIssuerKey } from "../../src/auth/dev-issuer.ts";
import { launchChromium } from "../helpers/chromium.ts";
import { jobClient, uniquePrefix } from "../helpers/jobs.ts";
import { type ApiProcess, spawnApi } from "../helpers/processes.ts";
import { redisUrl } from "../setup/test-env.ts";

// Issue 20: on a machine that reaches only the npm registry, GraphiQL must come from the
// API itself. Chromium resolves no host but 127.0.0.1, and every request to another
// origin is recorded and refused, so a page that needs a CDN fails here as it would there.

const queuePrefix = uniquePrefix("graphiql");
const keyFile = path.join(tmpdir(), `elevate-test-issuer-${queuePrefix}.json`);

let api: ApiProcess;
let browser: Browser;
const elsewhere: string[] = [];

beforeAll(async () => {
  await loadOrCreateDevIssuerKey(keyFile);
  api = await spawnApi({ redisUrl, queuePrefix, devIssuerKeyFile: keyFile });
  browser = await launchChromium(["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]);
});

afterAll(async () => {
  await browser?.close();
  await api?.stop();
  await (await jobClient(redisUrl, queuePrefix)).close();
});

/** A page in a browser profile of its own (GraphiQL keeps its tabs in local storage). */
async function freshPage(): Promise<Page> {
  const context = await browser.newContext();
  const origin = new URL(api.url).origin;
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (new URL(url).origin === origin) return route.continue();
    elsewhere.push(url);
    return route.abort("blockedbyclient");
  });
  return context.newPage();
}

/** Opens GraphiQL, runs what its editor holds and returns the answer GraphiQL received and shows. */
async function runStarterQuery(page: Page, address: string, expected: string): Promise<unknown> {
  await page.goto(address, { waitUntil: "load" });
  const answer = page.waitForResponse(
    (response) =>
      response.request().method() === "POST" && /\bme\s*\{/.test(String(response.request().postDataJSON()?.query)),
  );
  await page.click(".graphiql-execute-button");
  await page.locator(".graphiql-response").filter({ hasText: expected }).waitFor();
  return (await answer).json();
}

async function devToken(email: string): Promise<string> {
  const response = await fetch(`${api.url}/dev/token`, { method: "POST", body: JSON.stringify({ as: email }) });
  return ((await response.json()) as { access_token: string }).access_token;
}

async function graphql(email: string, query: string): Promise<unknown> {
  const response = await fetch(`${api.url}/graphql`, {
    method: "POST",
    headers: { authorization: `Bearer ${await devToken(email)}`, "content-type": "application/json" },
    body: JSON.stringify({ query }),
  });
  return response.json();
}

/** A pending request under a MANUAL policy, which the approvers of pamapprovers@fabrikam.com hear of. */
async function fileRequest(): Promise<void> {
  await graphql(
    "admin@fabrikam.com",
    'mutation { enableElevatedAccessControl(input: { adminGroup: "pamapprovers@fabrikam.com" }) { __typename } }',
  );
  await graphql(
    "admin@fabrikam.com",
    'mutation { createApprovalPolicy(input: { target: "Exchange\\\\New-MoveRequest", approvalType: MANUAL }) { __typename } }',
  );
  expect(
    await graphql(
      "requester@fabrikam.com",
      'mutation { createAccessRequest(input: { target: "Exchange\\\\New-MoveRequest", reason: "GraphiQL" }) { __typename } }',
    ),
  ).toEqual({ data: { createAccessRequest: { __typename: "AccessRequest" } } });
}

/** Replaces the text of one of GraphiQL's Monaco editors, as pasting would. */
async function replaceEditorText(page: Page, editor: string, text: string): Promise<void> {
  await page.locator(`${editor} .monaco-editor .view-lines`).filter({ visible: true }).click();
  await page.keyboard.press("ControlOrMeta+A");
  await page.keyboard.press("Delete");
  await page.keyboard.insertText(text);
}

describe("GraphiQL on a closed network", () => {
  it("loads everything from the API, breaks no rule of its policy and answers as the prefilled demo admin", async () => {
    const page = await freshPage();
    const problems: string[] = [];
    page.on("console", (message) => message.type() === "error" && problems.push(message.text()));
    page.on("pageerror", (error) => problems.push(error.message));

    const answer = await runStarterQuery(page, `${api.url}/graphql`, "admin@fabrikam.com");

    expect(answer).toEqual({
      data: { me: { email: "admin@fabrikam.com", displayName: "Fabrikam Admin", roles: ["ADMIN"] } },
    });
    expect(await page.title()).toBe("Elevate GraphiQL as admin@fabrikam.com");
    expect(elsewhere).toEqual([]);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it("signs in as the user named by ?as=", async () => {
    const page = await freshPage();
    const answer = await runStarterQuery(
      page,
      `${api.url}/graphql?as=requester@fabrikam.com`,
      "requester@fabrikam.com",
    );
    expect(answer).toMatchObject({ data: { me: { email: "requester@fabrikam.com", roles: [] } } });
    expect(elsewhere).toEqual([]);
    await page.context().close();
  });

  it("lets an authorization header typed into Headers win, and streams a subscription with it", async () => {
    const page = await freshPage();
    await page.goto(`${api.url}/graphql`, { waitUntil: "load" });
    const approverToken = await devToken("approver1@fabrikam.com");
    await page.getByText("Headers", { exact: true }).click();
    await replaceEditorText(
      page,
      ".graphiql-editor-tool",
      JSON.stringify({ authorization: `Bearer ${approverToken}` }),
    );
    await replaceEditorText(
      page,
      ".graphiql-query-editor",
      "subscription { accessRequestChanged { type request { target } } }",
    );
    const stream = page.waitForRequest((request) => request.url().includes("subscription"));
    await page.click(".graphiql-execute-button");
    expect((await stream).headers().authorization).toBe(`Bearer ${approverToken}`);
    await fileRequest();
    await page.locator(".graphiql-response").filter({ hasText: "CREATED" }).waitFor();
    expect(await page.locator(".graphiql-response").textContent()).toContain("New-MoveRequest");
    expect(elsewhere).toEqual([]);
    await page.context().close();
  });

  it("names nobody for an unknown address and echoes nothing of it into the page", async () => {
    const page = await fetch(`${api.url}/graphql?as=${encodeURIComponent("<script>x</script>@example.com")}`, {
      headers: { accept: "text/html" },
    });
    const html = await page.text();
    expect(html).toContain("<title>Elevate GraphiQL (not signed in: no such user)</title>");
    expect(html).not.toContain("<script>x");
    expect(html).not.toMatch(/Bearer ey/);
    const policy = html.match(/<meta http-equiv="Content-Security-Policy" content="([^"]+)"/)?.[1];
    expect(policy).toMatch(/^default-src 'none'; script-src 'sha256-[A-Za-z0-9+/=]+';/);
    expect(policy).not.toMatch(/https?:/);
  });
});
