import { randomUUID } from "node:crypto";
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

// Issue 17 in the console, in Chromium against an API process: an admin adds a manual
// policy with MFA at decision, a second stage and an auto-approval condition; the list
// shows them; a request under it shows its stage and that approvers sign in with MFA.

const queuePrefix = uniquePrefix("console-orchestration");
const keyFile = path.join(tmpdir(), `elevate-test-issuer-${queuePrefix}.json`);
const task = "Exchange\\New-MoveRequest";

let api: ApiProcess;
let jobs: JobClient;
let browser: Browser;
let db: Db;
type ConsolePage = Awaited<ReturnType<typeof openConsole>>;
let admin: ConsolePage;
let requestPath: string;

vi.setConfig({ testTimeout: 90_000 });

beforeAll(async () => {
  db = createDb(workerDatabaseUrl());
  [api, jobs, browser] = await Promise.all([
    spawnApi({ redisUrl, queuePrefix, devIssuerKeyFile: keyFile, worker: true }),
    jobClient(redisUrl, queuePrefix),
    launchChromium(),
  ]);
  const enabled = await graphqlAs(
    api.url,
    "admin@fabrikam.com",
    `mutation { enableElevatedAccessControl(input: { adminGroup: "pamapprovers@fabrikam.com" }) { __typename } }`,
  );
  expect(enabled.__typename).toBe("ElevatedAccessControl");
  admin = await openConsole(browser, api.url);
});

afterAll(async () => {
  await browser?.close();
  await api?.stop();
  await jobs?.close();
  await db?.$disconnect();
}, 60_000);

it("adds a policy with MFA at decision, a second stage, an escalation and an auto-approval condition", async () => {
  await signInAs(admin, "admin@fabrikam.com", "/policies/new");
  await admin.getByRole("heading", { name: "Add a policy" }).waitFor();
  await choose(admin, "Policy name", task, "New-Move");
  await choose(admin, "Approval group", "PAM Approvers (pamapprovers@fabrikam.com)");
  await admin.getByRole("switch", { name: "Approvers decide with multi-factor authentication" }).check();
  await choose(admin, "Then approved by", "PAM Approvers (pamapprovers@fabrikam.com)");
  await admin.getByRole("textbox", { name: "Second stage approvals" }).fill("2");
  await choose(admin, "Escalate to", "PAM Approvers (pamapprovers@fabrikam.com)");
  await admin.getByRole("textbox", { name: "Escalate after (hours)" }).fill("6");
  await admin.getByRole("textbox", { name: "And asks for at most (hours)" }).fill("1");
  await admin.getByLabel("And files it on", { exact: true }).first().click();
  await admin.getByRole("option", { name: "Monday", exact: true }).click();
  await admin.getByRole("option", { name: "Friday", exact: true }).click();
  await admin.keyboard.press("Escape");
  await admin.getByRole("textbox", { name: "From (HH:MM)" }).fill("08:00");
  await checkScreen(admin, "add-a-policy-orchestration");
  await admin.getByRole("button", { name: "Create", exact: true }).click();
  await admin.getByRole("heading", { name: "Configure policies" }).waitFor();
  const row = admin.getByRole("row").filter({ has: admin.getByRole("cell", { name: task, exact: true }) });
  await row.getByText("Manual · MFA at decision · auto when at most 1 h, MON,FRI 08:00–17:00").waitFor();
  await row.getByRole("cell", { name: "1, then 2", exact: true }).waitFor();
  const policy = await db.approvalPolicy.findFirstOrThrow({ where: { target: task } });
  expect(policy).toMatchObject({
    requireMfa: true,
    requiredApprovals: 1,
    escalationGroupId: policy.approverGroupId,
    escalateAfterHours: 6,
    autoApproveWhen: {
      requesterInGroupId: null,
      maxDurationHours: 1,
      window: { days: ["MON", "FRI"], start: "08:00", end: "17:00" },
    },
  });
  expect(policy.laterStages).toEqual([{ approverGroupId: policy.approverGroupId, requiredApprovals: 2 }]);
});

it("shows a request's stage and that its approvers sign in with MFA", async () => {
  const request = await graphqlAs(
    api.url,
    "requester@fabrikam.com",
    `mutation { createAccessRequest(input: { target: "Exchange\\\\New-MoveRequest", reason: "Console stages", durationHours: 2 }) { __typename ... on AccessRequest { identity } } }`,
  );
  expect(request.__typename).toBe("AccessRequest");
  await admin.goto(`/requests/${request.identity}`);
  await admin.getByText("Stage 1 of 2: 1 of PAM Approvers", { exact: false }).waitFor();
  await admin.getByText("approvers sign in with multi-factor authentication", { exact: false }).waitFor();
  await checkScreen(admin, "request-stage-one");
  requestPath = `/requests/${request.identity}`;
});

it("an approver refused for want of MFA signs in again with it and decides", async () => {
  const approver = await openConsole(browser, api.url);
  await signInAs(approver, "approver1@fabrikam.com", requestPath);
  const decide = approver.getByRole("region", { name: "Decide" });
  await decide.getByRole("button", { name: "Approve", exact: true }).click();
  await approver.getByText("must decide with multi-factor authentication", { exact: false }).waitFor();
  await checkScreen(approver, "decide-step-up-required");
  await approver.getByRole("button", { name: "Sign in again with multi-factor authentication" }).click();
  await approver.getByRole("region", { name: "Decide" }).getByRole("button", { name: "Approve", exact: true }).click();
  await approver.getByText("Stage 2 of 2: 2 of PAM Approvers", { exact: false }).waitFor();
  await approver.getByRole("cell", { name: "Approved, stage 1, with MFA" }).waitFor();
  const decision = await db.accessDecision.findFirstOrThrow({
    where: { approver: { email: "approver1@fabrikam.com" } },
  });
  expect(decision).toMatchObject({ stage: 1, authMethods: ["pwd", "mfa"] });
  await approver.close();
});

it("sets Customer Lockbox, registers a vendor, and lists its request under the Customer Lockbox filter", async () => {
  await admin.goto("/settings");
  const lockbox = admin.getByRole("group", { name: "Customer Lockbox", exact: true });
  await choose(admin, "Lockbox approval group", "PAM Approvers (pamapprovers@fabrikam.com)");
  await lockbox.getByRole("textbox", { name: "Lockbox maximum access (hours)" }).fill("2");
  await lockbox.getByRole("button", { name: "Save", exact: true }).click();
  await admin.getByRole("status").getByText("Saved at", { exact: false }).waitFor();
  expect(
    await db.elevatedAccessControl.findFirstOrThrow({
      where: { organization: { users: { some: { email: "admin@fabrikam.com" } } } },
      include: { lockboxApproverGroup: true },
    }),
  ).toMatchObject({
    lockboxApproverGroup: { email: "pamapprovers@fabrikam.com" },
    lockboxMaxDurationHours: 2,
    lockboxRequestLifetimeHours: 12,
  });

  const subject = randomUUID();
  const vendors = admin.getByRole("group", { name: "Customer Lockbox vendors" });
  await vendors.getByRole("textbox", { name: "Vendor name" }).fill("Contoso Support");
  await vendors.getByRole("textbox", { name: "Service identity object ID" }).fill(subject);
  await vendors.getByRole("button", { name: "Register vendor" }).click();
  await vendors.getByText("Contoso Support (Contoso Support support)").waitFor();
  await checkScreen(admin, "settings-customer-lockbox");

  const filed = await graphqlAs(
    api.url,
    `${subject}@apps.invalid`,
    `mutation { createAccessRequest(input: { target: "Exchange\\\\Search-Mailbox", reason: "Case 120-4711", durationHours: 2 }) { __typename ... on AccessRequest { identity } } }`,
  );
  expect(filed.__typename).toBe("AccessRequest");
  await admin.goto("/requests");
  // The segment's radio input is hidden behind its label, which is what a person clicks.
  await admin.getByText("Customer Lockbox", { exact: true }).click();
  await admin.waitForURL(/status=LOCKBOX/);
  const list = admin.getByRole("region", { name: "Access requests" });
  await list.getByRole("cell", { name: "Task (Customer Lockbox)" }).waitFor();
  await admin.getByText("1 request.", { exact: false }).waitFor();
  await checkScreen(admin, "requests-customer-lockbox");
});
