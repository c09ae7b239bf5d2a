import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { AddCatalogEntry, CreateApproverGroup, RemovePolicy } from "../helpers/documents.ts";
import { approve, checkTask, createPolicy, createRequest, enableControl, fileRequest } from "../helpers/fixtures.ts";

// Issue 9, case 1: a grant on a role or role group covers a task inside it only when
// the task's most specific policy is the grant's policy or asks for no more than it.

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  await enableControl(t);
  for (const [name, email, members] of [
    ["Move Approvers", "moveapprovers@fabrikam.com", ["approver2@fabrikam.com"]],
    ["Security", "security@fabrikam.com", ["approver1@fabrikam.com"]],
  ] as const) {
    await t.as("admin@fabrikam.com", CreateApproverGroup, { input: { name, email, memberEmails: [...members] } });
  }
});
afterAll(() => t.close());

const requester = "requester@fabrikam.com";
const allowedBy = (reason: string) => ({ allowed: true, reason });
const denied = { allowed: false, reason: "NO_AUTHORIZATION" };

async function requestRows() {
  return t.db.accessRequest.count();
}

describe("filing a request for a container", () => {
  it("refuses a role group whose task is governed by a stricter policy, naming it, and writes nothing", async () => {
    await createPolicy(t, {
      target: "Exchange\\New-MoveRequest",
      approvalType: "MANUAL",
      approverGroup: "moveapprovers@fabrikam.com",
      maxDurationHours: 8,
    });
    await createPolicy(t, { type: "ROLE_GROUP", target: "Recipient Management", approvalType: "AUTO" });
    const before = await requestRows();
    for (const durationHours of [720, 4]) {
      const refused = await fileRequest(t, "Recipient Management", { type: "ROLE_GROUP", durationHours });
      expect(refused).toMatchObject({ __typename: "ValidationError", code: "VALIDATION", field: "target" });
      expect((refused as { message: string }).message).toContain("Exchange\\New-MoveRequest (manual approval");
    }
    expect(await requestRows()).toBe(before);
    // The task on its own goes through its own policy: manual, at most 8 hours.
    expect(await fileRequest(t, "Exchange\\New-MoveRequest", { durationHours: 720 })).toMatchObject({
      code: "VALIDATION",
      field: "durationHours",
    });
    expect(await fileRequest(t, "Exchange\\New-MoveRequest", { durationHours: 8 })).toMatchObject({
      status: "PENDING",
    });
    expect(await checkTask(t, requester, "Exchange\\New-MoveRequest")).toMatchObject(denied);
  });
});

describe("a grant reaching a task under a stricter policy", () => {
  it("does not let an automatic role-group grant cover a task whose manual policy came later", async () => {
    await createPolicy(t, { type: "ROLE_GROUP", target: "Discovery Management", approvalType: "AUTO" });
    const requestId = await createRequest(t, "Discovery Management", { type: "ROLE_GROUP", durationHours: 720 });
    expect(requestId).toBeTruthy();
    expect(await checkTask(t, requester, "Exchange\\Search-Mailbox")).toMatchObject(allowedBy("ACTIVE_AUTHORIZATION"));

    await createPolicy(t, {
      target: "Exchange\\Search-Mailbox",
      approvalType: "MANUAL",
      approverGroup: "security@fabrikam.com",
      maxDurationHours: 8,
    });
    expect(await checkTask(t, requester, "Exchange\\Search-Mailbox")).toMatchObject(denied);
    expect(await checkTask(t, "enforcer@fabrikam.com", "Exchange\\Search-Mailbox", requester)).toMatchObject(denied);
    // The rest of the role group is still covered by the grant.
    expect(await checkTask(t, requester, "Exchange\\New-MailboxSearch")).toMatchObject(
      allowedBy("ACTIVE_AUTHORIZATION"),
    );
  });

  it("weighs group, quorum and maximum duration of a laxer manual role policy, one dimension at a time", async () => {
    const role = "Mailbox Import Export";
    await createPolicy(t, { type: "ROLE", target: role, approvalType: "MANUAL", requiredApprovals: 1 });
    const requestId = await createRequest(t, role, { type: "ROLE", durationHours: 10 });
    expect(await approve(t, requestId)).toMatchObject({ status: "APPROVED" });
    const tasks = {
      quorum: "Exchange\\New-MailboxExportRequest",
      group: "Exchange\\Remove-MailboxExportRequest",
      duration: "Exchange\\New-MailboxImportRequest",
      laxer: "Exchange\\Remove-MailboxImportRequest",
    };
    for (const task of Object.values(tasks)) {
      expect(await checkTask(t, requester, task)).toMatchObject(allowedBy("ACTIVE_AUTHORIZATION"));
    }
    await createPolicy(t, { target: tasks.quorum, approvalType: "MANUAL", requiredApprovals: 2 });
    await createPolicy(t, { target: tasks.group, approvalType: "MANUAL", approverGroup: "security@fabrikam.com" });
    await createPolicy(t, { target: tasks.duration, approvalType: "MANUAL", maxDurationHours: 8 });
    // Same group, same quorum, a maximum the 10-hour grant fits in: asks for no more.
    await createPolicy(t, { target: tasks.laxer, approvalType: "MANUAL", maxDurationHours: 12 });

    expect(await checkTask(t, requester, tasks.quorum)).toMatchObject(denied);
    expect(await checkTask(t, requester, tasks.group)).toMatchObject(denied);
    expect(await checkTask(t, requester, tasks.duration)).toMatchObject(denied);
    expect(await checkTask(t, requester, tasks.laxer)).toMatchObject(allowedBy("ACTIVE_AUTHORIZATION"));

    // Asking for the role again now names exactly the three stricter policies.
    const refused = await fileRequest(t, role, { type: "ROLE", durationHours: 10 });
    expect(refused).toMatchObject({ code: "VALIDATION", field: "target" });
    const message = (refused as { message: string }).message;
    expect(message).toContain(`${tasks.quorum} (2 approvals)`);
    expect(message).toContain(`${tasks.group} (another approver group)`);
    expect(message).toContain(`${tasks.duration} (at most 8 hours)`);
    expect(message).not.toContain(tasks.laxer);
  });

  it("applies a role's stricter policy to the role group's grant for the tasks of that role (nested)", async () => {
    await createPolicy(t, { type: "ROLE_GROUP", target: "Compliance Management", approvalType: "AUTO" });
    await createRequest(t, "Compliance Management", { type: "ROLE_GROUP", durationHours: 4 });
    expect(await checkTask(t, requester, "Exchange\\New-TransportRule")).toMatchObject(
      allowedBy("ACTIVE_AUTHORIZATION"),
    );
    await createPolicy(t, { type: "ROLE", target: "Transport Rules", approvalType: "MANUAL" });
    for (const task of ["Exchange\\New-TransportRule", "Exchange\\Disable-TransportRule"]) {
      expect(await checkTask(t, requester, task)).toMatchObject(denied);
    }
    // Audit Logs, the group's other role, has no policy of its own: still covered.
    expect(await checkTask(t, requester, "Exchange\\Set-AdminAuditLogConfig")).toMatchObject(
      allowedBy("ACTIVE_AUTHORIZATION"),
    );
    const refused = await fileRequest(t, "Compliance Management", { type: "ROLE_GROUP" });
    expect((refused as { message: string }).message).toContain("Transport Rules (manual approval)");
  });

  it("lets a task's own laxer policy win over a stricter policy of its role (the most specific governs)", async () => {
    await createPolicy(t, {
      type: "ROLE",
      target: "Distribution Groups",
      approvalType: "MANUAL",
      requiredApprovals: 2,
    });
    await createPolicy(t, { target: "Exchange\\New-DistributionGroup", approvalType: "AUTO" });
    expect(await fileRequest(t, "Exchange\\New-DistributionGroup")).toMatchObject({ status: "APPROVED" });
    expect(await checkTask(t, requester, "Exchange\\New-DistributionGroup")).toMatchObject(
      allowedBy("ACTIVE_AUTHORIZATION"),
    );
    // Its sibling is governed by the role's policy, which the task grant does not reach.
    expect(await checkTask(t, requester, "Exchange\\Set-DistributionGroup")).toMatchObject(denied);
  });

  it("needs every equally specific policy satisfied when a task sits in two governed roles", async () => {
    const added = await t.as("admin@fabrikam.com", AddCatalogEntry, {
      input: { type: "ROLE", name: "Move Monitoring", members: ["exchange\\get-moverequest"] },
    });
    expect(added.addCatalogEntry.__typename).toBe("CatalogEntry");
    await createPolicy(t, {
      type: "ROLE",
      target: "Move Monitoring",
      approvalType: "MANUAL",
      approverGroup: "security@fabrikam.com",
    });
    const monitoring = await createRequest(t, "Move Monitoring", { type: "ROLE" });
    expect(await approve(t, monitoring)).toMatchObject({ status: "APPROVED" });
    expect(await checkTask(t, requester, "Exchange\\Get-MoveRequest")).toMatchObject(allowedBy("ACTIVE_AUTHORIZATION"));
    const moveMailboxes = await createPolicy(t, { type: "ROLE", target: "Move Mailboxes", approvalType: "MANUAL" });
    // Two roles, two groups, neither's approval satisfies the other: the grant of one no longer covers
    // the task, the task cannot be asked for alone, and the role is refused naming the other policy.
    expect(await checkTask(t, requester, "Exchange\\Get-MoveRequest")).toMatchObject(denied);
    expect(await fileRequest(t, "Exchange\\Get-MoveRequest")).toMatchObject({ code: "VALIDATION", field: "target" });
    expect(await fileRequest(t, "Move Monitoring", { type: "ROLE" })).toMatchObject({
      code: "VALIDATION",
      message: expect.stringContaining("Move Mailboxes (another approver group)"),
    });
    // Once the other role's policy is gone, the grant satisfies every policy over the task.
    await t.as("admin@fabrikam.com", RemovePolicy, { input: { id: moveMailboxes } });
    expect(await checkTask(t, requester, "Exchange\\Get-MoveRequest")).toMatchObject(allowedBy("ACTIVE_AUTHORIZATION"));
  });
});
