import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, expect, it, vi } from "vitest";
import { launchChromium } from "../helpers/chromium.ts";
import { type JobClient, jobClient, uniquePrefix } from "../helpers/jobs.ts";
import { type ApiProcess, spawnApi, waitFor } from "../helpers/processes.ts";
import { redisUrl } from "../setup/test-env.ts";
import { artifactsDir, checkScreen, choose, openConsole, recordSocketInits, signInAs } from "./screens.ts";

// The seed's procedure through the console alone, in Chromium against a real API
// process that serves the production build: an admin creates an approver group,
// enables the control and adds a policy; a requester files a request; an approver in
// a second browser context approves it while the requester's page is open; the admin
// revokes; the auditor reads every step in a verified audit log. Every screen gets a
// screenshot and an axe-core run (checkScreen).

const queuePrefix = uniquePrefix("console");
const keyFile = path.join(tmpdir(), `elevate-test-issuer-${queuePrefix}.json`);
const task = "Exchange\\New-MoveRequest";

let api: ApiProcess;
let jobs: JobClient;
let browser: Browser;
type ConsolePage = Awaited<ReturnType<typeof openConsole>>;
let admin: ConsolePage;
let requester: ConsolePage;
let approver: ConsolePage;
let requestPath: string;

// Each step drives one or two browsers through several screens on a shared 2-core machine.
vi.setConfig({ testTimeout: 90_000 });

// A failed step leaves a picture of every open page beside the screenshots.
beforeEach(({ task, onTestFailed }) => {
  onTestFailed(async () => {
    const pages = { admin, requester, approver };
    for (const [who, page] of Object.entries(pages)) {
      if (!page || page.isClosed()) continue;
      const file = `failed-${task.name.slice(0, 40).replace(/\W+/g, "-")}-${who}.png`;
      await page.screenshot({ path: path.join(artifactsDir, file), fullPage: true }).catch(() => {});
    }
  });
});

beforeAll(async () => {
  await rm(artifactsDir, { recursive: true, force: true });
  // WORKER=true: mail goes to a dev mailbox of this test's own, as `npm start` does.
  [api, jobs, browser] = await Promise.all([
    spawnApi({ redisUrl, queuePrefix, devIssuerKeyFile: keyFile, worker: true }),
    jobClient(redisUrl, queuePrefix),
    launchChromium(),
  ]);
  admin = await openConsole(browser, api.url);
});

afterAll(async () => {
  await browser?.close();
  const exit = await api?.stop();
  await jobs?.close();
  await rm(keyFile, { force: true });
  expect(exit).toEqual({ code: 0, signal: null });
}, 60_000);

async function navigate(page: Page, label: string) {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: label, exact: true }).click();
}

it("is served at / by the API process, with its CSP, without shadowing any of the API's paths", async () => {
  const page = await fetch(`${api.url}/requests/new`);
  expect(page.status).toBe(200);
  expect(page.headers.get("content-security-policy")).toMatch(/script-src 'self'; style-src 'self' 'nonce-/);
  expect(await page.text()).toContain('<div id="root">');
  // GraphiQL's page has a root element too; the console's title is its own.
  const isConsole = async (response: Response) => (await response.text()).includes("<title>Elevate</title>");

  const graphql = await fetch(`${api.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: "{ me { email } }" }),
  });
  expect(graphql.status).toBe(401);
  const graphiql = await (await fetch(`${api.url}/graphql`, { headers: { accept: "text/html" } })).text();
  expect(graphiql).toContain("<title>Elevate GraphiQL as admin@fabrikam.com</title>");
  expect(graphiql).not.toContain("<title>Elevate</title>");
  expect(await (await fetch(`${api.url}/healthz`)).json()).toEqual({ status: "ok" });
  expect(await (await fetch(`${api.url}/auth/config`)).json()).toMatchObject({ devSignIn: true });
  expect(Array.isArray(await (await fetch(`${api.url}/dev/users`)).json())).toBe(true);
  for (const path of ["/decide/not-a-token", "/scim/v2/Users", "/metrics", "/readyz"])
    expect(await isConsole(await fetch(api.url + path)), path).toBe(false);
});

it("shows the sign-in screen with the demo users", async () => {
  await admin.goto("/");
  await admin.getByRole("heading", { name: "Sign in as a demo user" }).waitFor();
  await checkScreen(admin, "sign-in");
});

it("an admin creates an approver group, with API errors next to the field they name", async () => {
  await signInAs(admin, "admin@fabrikam.com");
  await checkScreen(admin, "access-requests-empty");
  await navigate(admin, "Approver groups");
  await admin.getByRole("heading", { name: "Approver groups" }).waitFor();
  await checkScreen(admin, "approver-groups");

  await admin.getByRole("link", { name: "Create approver group" }).click();
  await admin.getByRole("textbox", { name: "Name" }).fill("Move Approvers");
  await admin.getByRole("textbox", { name: "Email" }).fill("not an address");
  const members = admin.getByRole("combobox", { name: "Members" });
  await members.fill("approver1@fabrikam.com");
  await members.press("Enter");
  await admin.getByRole("button", { name: "Create", exact: true }).click();
  const email = admin.getByRole("textbox", { name: "Email" });
  await admin.locator('input[aria-invalid="true"]').first().waitFor();
  expect(await email.getAttribute("aria-invalid")).toBe("true");
  const describedBy = (await email.getAttribute("aria-describedby")) ?? "";
  const errorText = await admin
    .locator(`[id="${describedBy.split(" ").find((id) => id.endsWith("error"))}"]`)
    .textContent();
  expect(errorText).toMatch(/email|address/i);
  await checkScreen(admin, "create-approver-group-error");

  await email.fill("moveapprovers@fabrikam.com");
  await admin.getByRole("button", { name: "Create", exact: true }).click();
  await admin.getByRole("heading", { name: "Move Approvers" }).waitFor();
  await admin.getByRole("list", { name: "Members of Move Approvers" }).getByText("approver1@fabrikam.com").waitFor();
});

it("an admin allows requests for privileged access with the default approver group and system accounts", async () => {
  await navigate(admin, "Privileged access");
  await admin.getByRole("switch", { name: "Allow requests for privileged access" }).waitFor();
  await checkScreen(admin, "privileged-access-off");
  await admin.getByRole("switch", { name: "Allow requests for privileged access" }).click();
  await admin.getByRole("switch", { name: "Allow requests for privileged access", checked: true }).waitFor();
  await choose(admin, "Default approval group", "Move Approvers (moveapprovers@fabrikam.com)");
  const accounts = admin.getByRole("combobox", { name: "System accounts" });
  await accounts.fill("sys1@fabrikam.com");
  await accounts.press("Enter");
  await admin.getByRole("button", { name: "Save" }).first().click();
  await admin
    .getByRole("status")
    .getByText(/^Saved/)
    .waitFor();
  await admin.getByRole("switch", { name: "Allow requests for privileged access", checked: true }).waitFor();
  await checkScreen(admin, "privileged-access-on");
});

it("an admin adds a policy from the catalog with search", async () => {
  await navigate(admin, "Access policies");
  await admin.getByRole("heading", { name: "Configure policies" }).waitFor();
  await admin.getByRole("link", { name: "Add a policy" }).click();
  await admin.getByRole("heading", { name: "Add a policy" }).waitFor();
  await choose(admin, "Policy name", task, "New-Move");
  await choose(admin, "Approval group", "Move Approvers (moveapprovers@fabrikam.com)");
  await admin.getByRole("textbox", { name: "Maximum duration (hours)" }).fill("8");
  await checkScreen(admin, "add-a-policy");
  await admin.getByRole("button", { name: "Create", exact: true }).click();
  await admin.getByRole("heading", { name: "Configure policies" }).waitFor();
  await admin.getByRole("cell", { name: task, exact: true }).waitFor();
  await checkScreen(admin, "configure-policies");
});

it("a requester files a request, which appears live on an approver's open list; a rule the API enforces shows next to its field", async () => {
  // An approver in a browser of their own watches the requests awaiting their decision.
  approver = await openConsole(browser, api.url);
  await signInAs(approver, "approver1@fabrikam.com");
  // The switch drives the URL (?awaiting=me): its state follows a navigation, so wait for it.
  await approver.getByRole("switch", { name: "Awaiting my decision" }).click();
  await approver.getByRole("switch", { name: "Awaiting my decision", checked: true }).waitFor();
  await approver.getByText("0 requests.", { exact: false }).waitFor();

  requester = await openConsole(browser, api.url);
  await signInAs(requester, "requester@fabrikam.com", "/requests/new");
  await requester.getByRole("heading", { name: "New request" }).waitFor();
  await choose(requester, "Request for", task, "MoveRequest");
  await requester.getByRole("textbox", { name: "Duration (hours)" }).fill("12");
  await requester.getByRole("textbox", { name: "Comments" }).fill("Move the CEO mailbox");
  await requester.getByRole("button", { name: "Submit request" }).click();
  const duration = requester.getByRole("textbox", { name: "Duration (hours)" });
  await requester.locator('input[aria-invalid="true"]').first().waitFor();
  expect(await duration.getAttribute("aria-invalid")).toBe("true");
  await requester.getByText("must be at most 8 hours under its policy").waitFor();
  await checkScreen(requester, "new-request-error");

  await duration.fill("2");
  await requester.getByRole("button", { name: "Submit request" }).click();
  await requester.getByRole("heading", { name: `Request for ${task}` }).waitFor();
  await requester.getByText("Pending", { exact: true }).waitFor();
  requestPath = new URL(requester.url()).pathname;
  expect(requestPath).toMatch(/^\/requests\/[0-9a-f-]{36}$/);
  await checkScreen(requester, "request-pending");
  // Never reloaded, the approver's list shows the new request.
  await approver.getByRole("link", { name: task }).waitFor();
  await checkScreen(approver, "requests-awaiting-my-decision");
});

it("the approver approves with a comment; the requester's open page shows it live", async () => {
  await approver.getByRole("link", { name: task }).click();
  await approver.getByRole("button", { name: "Approve" }).waitFor();
  await approver.getByRole("textbox", { name: "Comment" }).fill("Approved for tonight's migration window");
  await checkScreen(approver, "request-decide");

  const approvedAt = Date.now();
  await approver.getByRole("button", { name: "Approve" }).click();
  // The requester's page was opened before the decision and is never reloaded.
  await requester.getByText("Approved for tonight's migration window").waitFor();
  await requester.getByText("Approved", { exact: true }).first().waitFor();
  console.info(`the approval reached the requester's open page ${Date.now() - approvedAt} ms after the click`);
  expect(new URL(requester.url()).pathname).toBe(requestPath);
  await checkScreen(requester, "request-approved-live");
  await approver.getByText("Approved", { exact: true }).first().waitFor();
});

it("the requester sees the grant and its time left under My access", async () => {
  await navigate(requester, "My access");
  await requester.getByRole("cell", { name: /min left$/ }).waitFor();
  await checkScreen(requester, "my-access");
  await requester.getByRole("link", { name: task }).click();
  await requester.getByRole("heading", { name: `Request for ${task}` }).waitFor();
});

it("the admin revokes; the requester's page follows", async () => {
  await admin.goto(requestPath);
  await admin.getByRole("button", { name: "Revoke" }).waitFor();
  await admin.getByRole("textbox", { name: "Revocation comment" }).fill("Migration finished early");
  await admin.getByRole("button", { name: "Revoke" }).click();
  await admin.getByText(/Revoked .* by Fabrikam Admin: Migration finished early/).waitFor();
  await checkScreen(admin, "request-revoked");
  await requester.getByText(/Revoked .* by Fabrikam Admin/).waitFor();
  expect(new URL(requester.url()).pathname).toBe(requestPath);
});

it("the auditor sees every step in the audit log and a verified chain", async () => {
  const auditor = await openConsole(browser, api.url);
  await signInAs(auditor, "auditor@fabrikam.com");
  await navigate(auditor, "Audit log");
  await auditor.getByText("Chain verified").waitFor();
  for (const action of [
    "New-DistributionGroup",
    "Enable-ElevatedAccessControl",
    "New-ElevatedAccessApprovalPolicy",
    "New-ElevatedAccessRequest",
    "Approve-ElevatedAccessRequest",
    "Revoke-ElevatedAccessAuthorization",
  ])
    await auditor.getByRole("cell", { name: action, exact: true }).first().waitFor();
  await checkScreen(auditor, "audit-log");

  // Read-only for auditors: the settings show, nothing offers to change them.
  await navigate(auditor, "Privileged access");
  await auditor.getByRole("switch", { name: "Allow requests for privileged access", checked: true }).waitFor();
  expect(await auditor.getByRole("button", { name: "Save" }).count()).toBe(0);
  await checkScreen(auditor, "privileged-access-auditor");
});

it("an admin removes a policy after confirming", async () => {
  const other = "Exchange\\Set-Mailbox";
  await navigate(admin, "Access policies");
  await admin.getByRole("link", { name: "Add a policy" }).click();
  await choose(admin, "Policy name", other, "Set-Mailbox");
  await admin.getByText("Auto", { exact: true }).click();
  await admin.getByRole("button", { name: "Create", exact: true }).click();
  await admin.getByRole("cell", { name: other, exact: true }).waitFor();

  await admin.getByRole("button", { name: `Remove Policy ${other}` }).click();
  const dialog = admin.getByRole("dialog", { name: "Remove Policy" });
  await dialog.getByText("Its pending requests are canceled").waitFor();
  await checkScreen(admin, "remove-policy");
  await dialog.getByRole("button", { name: "Remove Policy" }).click();
  await admin.getByRole("cell", { name: other, exact: true }).waitFor({ state: "detached" });
  await admin.getByRole("cell", { name: task, exact: true }).waitFor();
});

it("the remaining screens pass the same checks", async () => {
  await navigate(admin, "Task executions");
  await checkScreen(admin, "task-executions");
  await navigate(admin, "Profile");
  await admin.getByText("admin@fabrikam.com").waitFor();
  await checkScreen(admin, "profile");
  // Keyboard: the first Tab stop skips the header and the navigation.
  await admin.reload();
  await admin.getByRole("heading", { name: "Profile" }).waitFor();
  await admin.keyboard.press("Tab");
  expect(await admin.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
  await admin.keyboard.press("Enter");
  await admin.waitForFunction(() => document.activeElement?.id === "main");
  await navigate(admin, "Access requests");
  await admin.getByText("All", { exact: true }).click();
  await admin.getByRole("link", { name: task }).waitFor();
  await checkScreen(admin, "access-requests-all");
  await navigate(admin, "Approver groups");
  await admin.getByRole("link", { name: "Create approver group" }).click();
  await admin.getByRole("heading", { name: "Create approver group" }).waitFor();
  await checkScreen(admin, "create-approver-group");
});

it("each person sees what the API lets them see: a requester has no admin screens", async () => {
  const nav = requester.getByRole("navigation", { name: "Main" });
  await nav.getByRole("link", { name: "What needs approval" }).click();
  await requester.getByRole("cell", { name: task, exact: true }).waitFor();
  await checkScreen(requester, "what-needs-approval");
  for (const hidden of ["Audit log", "Approver groups", "Privileged access", "Access policies"])
    expect(await nav.getByRole("link", { name: hidden, exact: true }).count()).toBe(0);

  await requester.getByRole("button", { name: "Sign out" }).click();
  await requester.getByRole("heading", { name: "Sign in to Elevate" }).waitFor();
  expect(await requester.evaluate(() => sessionStorage.length)).toBe(0);
});

it("works on a phone: 375 px wide, navigation behind the menu button, no sideways scrolling", async () => {
  const phone = await openConsole(browser, api.url, { width: 375, height: 740 });
  await signInAs(phone, "requester@fabrikam.com", "/requests?status=ALL");
  await phone.getByRole("link", { name: task }).waitFor();
  await checkScreen(phone, "phone-access-requests");
  const overflow = () => phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(await overflow()).toBeLessThanOrEqual(0);

  // Closed, the navigation is off screen and inert (out of the tab order and the accessibility tree).
  await phone.locator("nav[inert]").waitFor({ state: "attached" });
  await phone.getByRole("button", { name: "Navigation" }).click();
  await phone.locator("nav:not([inert])").waitFor();
  await checkScreen(phone, "phone-navigation");
  await phone.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Access requests" }).click();
  await phone.locator("nav[inert]").waitFor({ state: "attached" });

  // The list opens on Pending (the request is decided by now); on a phone the filter is a select.
  await choose(phone, "Status", "All");
  await phone.getByRole("link", { name: task }).click();
  await phone.getByRole("heading", { name: `Request for ${task}` }).waitFor();
  await checkScreen(phone, "phone-request");
  expect(await overflow()).toBeLessThanOrEqual(0);
});

it("renews a dev sign-in's token before it runs out, and reopens the live socket with it", async () => {
  const page = await openConsole(browser, api.url);
  await page.clock.install();
  let mints = 0;
  const socketInits = recordSocketInits(page);
  page.on("request", (request) => {
    if (new URL(request.url()).pathname === "/dev/token") mints += 1;
  });
  await signInAs(page, "auditor@fabrikam.com");
  await waitFor("the live socket", async () => socketInits.length === 1);
  expect(mints).toBe(1);

  // Dev tokens live an hour; the console asks for a new one five minutes before.
  await page.clock.fastForward("56:00");
  await waitFor("a second token and a socket reopened with it", async () => mints === 2 && socketInits.length === 2);
  expect(socketInits[1]).not.toBe(socketInits[0]);
});
