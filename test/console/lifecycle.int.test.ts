import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { createDb, type Db } from "../../src/db/client.ts";
import { launchChromium } from "../helpers/chromium.ts";
import { type JobClient, jobClient, uniquePrefix } from "../helpers/jobs.ts";
import { type ApiProcess, spawnApi } from "../helpers/processes.ts";
import { redisUrl, workerDatabaseUrl } from "../setup/test-env.ts";
import { checkScreen, choose, graphqlAs, openConsole, signInAs } from "./screens.ts";

// Issue 16 in the console, in Chromium against an API process: a requester files a
// request that starts tomorrow with the ticket its policy requires; an approver grants
// fewer hours than asked, which gives a SCHEDULED grant; the requester extends an
// automatically approved grant and then ends it early. Each step checks the database
// afterwards, and refused input shows the API's message beside its field.

const queuePrefix = uniquePrefix("console-lifecycle");
const keyFile = path.join(tmpdir(), `elevate-test-issuer-${queuePrefix}.json`);
const scheduledTask = "Exchange\\New-MoveRequest";
const autoTask = "Exchange\\Set-Mailbox";
const manualTask = "Exchange\\New-MailboxExportRequest";
const hour = 3_600_000;

let api: ApiProcess;
let jobs: JobClient;
let browser: Browser;
let db: Db;
type ConsolePage = Awaited<ReturnType<typeof openConsole>>;
let requester: ConsolePage;
let requestPath: string;
let startsAt: Date;

vi.setConfig({ testTimeout: 90_000 });

/** A datetime-local input's value for `date` in the browser's time zone (the machine's, as this process's). */
function localInputValue(date: Date): string {
  const pad = (value: number) => String(value).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** Whole minutes from now, as a datetime-local input keeps them. */
function minutesAhead(minutes: number): Date {
  const date = new Date(Date.now() + minutes * 60_000);
  date.setSeconds(0, 0);
  return date;
}

beforeAll(async () => {
  db = createDb(workerDatabaseUrl());
  [api, jobs, browser] = await Promise.all([
    spawnApi({ redisUrl, queuePrefix, devIssuerKeyFile: keyFile }),
    jobClient(redisUrl, queuePrefix),
    launchChromium(),
  ]);
  const setup = [
    `mutation { enableElevatedAccessControl(input: { adminGroup: "pamapprovers@fabrikam.com" }) { __typename } }`,
    `mutation { createApprovalPolicy(input: { target: "Exchange\\\\New-MoveRequest", approvalType: MANUAL, ticketRequired: true, ticketPattern: "INC[0-9]{7}" }) { __typename } }`,
    `mutation { createApprovalPolicy(input: { target: "Exchange\\\\Set-Mailbox", approvalType: AUTO, maxDurationHours: 8 }) { __typename } }`,
    `mutation { createApprovalPolicy(input: { target: "Exchange\\\\New-MailboxExportRequest", approvalType: MANUAL }) { __typename } }`,
  ];
  for (const query of setup) {
    expect((await graphqlAs(api.url, "admin@fabrikam.com", query)).__typename).not.toMatch(/Error$/);
  }
  requester = await openConsole(browser, api.url);
  await signInAs(requester, "requester@fabrikam.com", "/requests/new");
});

afterAll(async () => {
  await browser?.close();
  await api?.stop();
  await jobs?.close();
  await db?.$disconnect();
  await rm(keyFile, { force: true });
}, 60_000);

it("files a request starting tomorrow with the ticket its policy requires; a start too far ahead and a ticket off the pattern show beside their fields", async () => {
  await requester.getByRole("heading", { name: "New request" }).waitFor();
  await choose(requester, "Request for", scheduledTask, "MoveRequest");
  const ticket = requester.getByRole("textbox", { name: "Ticket" });
  // The policy's pattern shows as the field's hint before anything is sent.
  await requester.getByText("Required by the policy, matching INC[0-9]{7}", { exact: false }).waitFor();
  const start = requester.getByLabel("Start at");
  await start.fill(localInputValue(minutesAhead(20 * 24 * 60)));
  await ticket.fill("INC42");
  await requester.getByRole("textbox", { name: "Duration (hours)" }).fill("4");
  await requester.getByRole("textbox", { name: "Comments" }).fill("Move the CEO mailbox tomorrow");
  await requester.getByRole("button", { name: "Submit request" }).click();
  await requester.getByText("must be at most 14 days ahead").waitFor();
  expect(await start.getAttribute("aria-invalid")).toBe("true");
  await checkScreen(requester, "new-request-start-too-far");

  startsAt = minutesAhead(24 * 60);
  await start.fill(localInputValue(startsAt));
  await requester.getByRole("button", { name: "Submit request" }).click();
  await requester.getByText("must match the policy's pattern INC[0-9]{7}").waitFor();
  expect(await ticket.getAttribute("aria-invalid")).toBe("true");
  expect(await db.accessRequest.count({ where: { target: scheduledTask } })).toBe(0);

  await ticket.fill("INC0012345");
  await requester.getByRole("button", { name: "Submit request" }).click();
  await requester.getByRole("heading", { name: `Request for ${scheduledTask}` }).waitFor();
  await requester.getByText("INC0012345", { exact: true }).waitFor();
  requestPath = new URL(requester.url()).pathname;
  const request = await db.accessRequest.findFirstOrThrow({ where: { target: scheduledTask } });
  expect(request).toMatchObject({ status: "PENDING", ticket: "INC0012345", startsAt, durationHours: 4 });
  await checkScreen(requester, "request-scheduled-pending");
});

it("an approver grants fewer hours than asked: the grant is SCHEDULED for the start asked, and the requester sees the hours granted", async () => {
  const approver = await openConsole(browser, api.url);
  await signInAs(approver, "approver1@fabrikam.com", requestPath);
  const decide = approver.getByRole("region", { name: "Decide" });
  const hours = decide.getByRole("textbox", { name: "Hours to grant" });
  await hours.fill("9");
  await decide.getByRole("button", { name: "Approve", exact: true }).click();
  await decide.getByText("must be at most the 4 hours asked for").waitFor();
  expect(await hours.getAttribute("aria-invalid")).toBe("true");
  expect(await db.accessDecision.count({ where: { request: { target: scheduledTask } } })).toBe(0);

  // The pointer leaves Approve, so axe measures the button's resting colours, not its hover shade.
  await approver.mouse.move(0, 0);
  await checkScreen(approver, "request-approve-more-hours-than-asked");
  await hours.fill("2");
  await decide.getByRole("button", { name: "Approve", exact: true }).click();
  await approver.getByRole("cell", { name: "Approved for 2 h" }).waitFor();
  await approver.close();

  // The requester's page, open since filing, follows the decision.
  await requester.getByText("2 of the 4 asked for").waitFor();
  await requester.getByText("Scheduled", { exact: true }).waitFor();
  const grant = await db.accessAuthorization.findFirstOrThrow({ where: { target: scheduledTask } });
  expect(grant.status).toBe("SCHEDULED");
  expect(grant.startsAt).toEqual(startsAt);
  expect(grant.endsAt.getTime() - grant.startsAt.getTime()).toBe(2 * hour);
  await checkScreen(requester, "request-scheduled-approved");

  await requester.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "My access" }).click();
  const row = requester.getByRole("row").filter({ has: requester.getByRole("link", { name: scheduledTask }) });
  await row.getByText("Scheduled", { exact: true }).waitFor();
  await row.getByRole("cell", { name: "INC0012345" }).waitFor();
  await row.getByRole("cell", { name: "Not started" }).waitFor();
});

it("extends an active grant from My access: too many hours show beside the field, and an automatic extension moves the end at once", async () => {
  const filed = await graphqlAs(
    api.url,
    "requester@fabrikam.com",
    `mutation { createAccessRequest(input: { target: "Exchange\\\\Set-Mailbox", reason: "Fix a mailbox", durationHours: 2 }) { __typename } }`,
  );
  expect(filed.__typename).toBe("AccessRequest");
  const before = await db.accessAuthorization.findFirstOrThrow({ where: { target: autoTask } });
  expect(before.status).toBe("ACTIVE");
  // Opened afresh, so this step stands without the one before.
  await requester.goto("/access");
  await requester.getByRole("heading", { name: "My access" }).waitFor();

  const row = requester.getByRole("row").filter({ has: requester.getByRole("link", { name: autoTask }) });
  await row.getByRole("button", { name: `Extend ${autoTask}` }).click();
  const dialog = requester.getByRole("dialog", { name: "Extend access" });
  const hours = dialog.getByRole("textbox", { name: "Hours to add" });
  await hours.fill("7");
  await dialog.getByRole("textbox", { name: "Reason for the extension" }).fill("The mailbox is bigger than thought");
  await dialog.getByRole("button", { name: "Ask to extend" }).click();
  await dialog.getByText("the access would last 9 hours in all; its policy allows at most 8").waitFor();
  expect(await hours.getAttribute("aria-invalid")).toBe("true");
  await checkScreen(requester, "extend-too-long");

  await hours.fill("2");
  await dialog.getByRole("button", { name: "Ask to extend" }).click();
  await requester.getByText("Extended by 2 hours: your access now ends", { exact: false }).waitFor();
  await dialog.waitFor({ state: "detached" });
  const after = await db.accessAuthorization.findUniqueOrThrow({ where: { id: before.id } });
  expect(after.endsAt.getTime() - before.endsAt.getTime()).toBe(2 * hour);
  // Two hours were left; four are now, give or take the page's clock (it ticks every 30 s).
  await row.getByRole("cell", { name: /^(3 h 5\d|4 h [01]) min left$/ }).waitFor();
  const extension = await db.accessRequest.findFirstOrThrow({ where: { extendsAuthorizationId: before.id } });
  expect(extension).toMatchObject({
    status: "APPROVED",
    durationHours: 2,
    reason: "The mailbox is bigger than thought",
  });
  await checkScreen(requester, "my-access-extended");
});

it("an extension under a manual policy shows as waiting on My access, and its approval moves the end on the open page", async () => {
  const filed = await graphqlAs(
    api.url,
    "requester@fabrikam.com",
    `mutation { createAccessRequest(input: { target: "Exchange\\\\New-MailboxExportRequest", reason: "Export a mailbox", durationHours: 1 }) { __typename ... on AccessRequest { identity } } }`,
  );
  const approved = await graphqlAs(
    api.url,
    "approver1@fabrikam.com",
    `mutation($id: ID!) { approveAccessRequest(input: { requestId: $id }) { __typename } }`,
    { id: filed.identity },
  );
  expect(approved.__typename).toBe("AccessRequest");
  const grant = await db.accessAuthorization.findFirstOrThrow({ where: { target: manualTask } });

  const row = requester.getByRole("row").filter({ has: requester.getByRole("link", { name: manualTask }) });
  await row.getByRole("button", { name: `Extend ${manualTask}` }).click();
  const dialog = requester.getByRole("dialog", { name: "Extend access" });
  await dialog.getByRole("textbox", { name: "Hours to add" }).fill("3");
  await dialog.getByRole("textbox", { name: "Reason for the extension" }).fill("The export is slow");
  await dialog.getByRole("button", { name: "Ask to extend" }).click();
  await requester.getByText("Extension by 3 hours asked: pending, waiting for the policy's approvers.").waitFor();
  await row.getByRole("link", { name: "3 more hours asked" }).waitFor();
  const extension = await db.accessRequest.findFirstOrThrow({ where: { extendsAuthorizationId: grant.id } });
  expect(extension).toMatchObject({ status: "PENDING", durationHours: 3 });
  expect((await db.accessAuthorization.findUniqueOrThrow({ where: { id: grant.id } })).endsAt).toEqual(grant.endsAt);
  await checkScreen(requester, "my-access-extension-pending");

  const decided = await graphqlAs(
    api.url,
    "approver1@fabrikam.com",
    `mutation($id: ID!) { approveAccessRequest(input: { requestId: $id }) { __typename } }`,
    { id: extension.id },
  );
  expect(decided.__typename).toBe("AccessRequest");
  // The open page follows the approval: the waiting extension goes, the end moves (one hour
  // and three more, give or take the page's clock, which ticks every 30 s).
  await row.getByRole("link", { name: "3 more hours asked" }).waitFor({ state: "detached" });
  await row.getByRole("cell", { name: /^(3 h 5\d|4 h [01]) min left$/ }).waitFor();
  const extended = await db.accessAuthorization.findUniqueOrThrow({ where: { id: grant.id } });
  expect(extended.endsAt.getTime() - grant.endsAt.getTime()).toBe(3 * hour);
});

it("ends an active grant early after confirming; the grant shows ENDED", async () => {
  const grant = await db.accessAuthorization.findFirstOrThrow({ where: { target: autoTask } });
  const row = requester.getByRole("row").filter({ has: requester.getByRole("link", { name: autoTask }) });
  await row.getByRole("button", { name: `End now ${autoTask}` }).click();
  const dialog = requester.getByRole("dialog", { name: "End access now" });
  await dialog.getByRole("textbox", { name: "Why you no longer need it" }).fill("Mailbox fixed");
  await checkScreen(requester, "end-access-confirm");
  await dialog.getByRole("button", { name: "End access" }).click();
  await requester.getByText(`Your access to ${autoTask} ended`, { exact: false }).waitFor();
  await row.waitFor({ state: "detached" });
  const ended = await db.accessAuthorization.findUniqueOrThrow({ where: { id: grant.id } });
  expect(ended).toMatchObject({ status: "ENDED", endComment: "Mailbox fixed" });
  expect(ended.endedAt!.getTime()).toBeLessThan(ended.endsAt.getTime());

  await requester.getByRole("link", { name: "See the request" }).click();
  await requester.getByText("Ended", { exact: true }).waitFor();
  await requester.getByText(/^Ended early .* by its grantee: Mailbox fixed$/).waitFor();
  await checkScreen(requester, "request-ended-early");
});
