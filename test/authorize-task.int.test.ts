import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { graphql } from "./graphql/index.ts";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import { AuthorizeTask, RemovePolicy } from "./helpers/documents.ts";
import { approve, createPolicy, createRequest, enableControl, rawId } from "./helpers/fixtures.ts";
import { statementsDuring } from "./helpers/statements.ts";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  await enableControl(t, ["sys1@fabrikam.com"]);
});
afterAll(() => t.close());

async function check(as: string, task: string, userEmail?: string) {
  return (await t.as(as, AuthorizeTask, { input: { task, userEmail } })).authorizeTask;
}

describe("coverage", () => {
  it("governs every task of a ROLE policy and grants them all through one role authorization", async () => {
    await createPolicy(t, { type: "ROLE", target: "Mailbox Import Export", approvalType: "MANUAL" });
    const exportTask = "Exchange\\New-MailboxExportRequest";
    expect(await check("requester@fabrikam.com", exportTask)).toMatchObject({
      allowed: false,
      reason: "NO_AUTHORIZATION",
    });
    expect(await check("requester@fabrikam.com", "Exchange\\New-MailboxImportRequest")).toMatchObject({
      allowed: false,
    });

    const requestId = await createRequest(t, "Mailbox Import Export", { type: "ROLE" });
    expect(await approve(t, requestId)).toMatchObject({ status: "APPROVED" });
    for (const task of [exportTask, "Exchange\\New-MailboxImportRequest", "Exchange\\Remove-MailboxExportRequest"]) {
      expect(await check("requester@fabrikam.com", task)).toMatchObject({
        allowed: true,
        reason: "ACTIVE_AUTHORIZATION",
      });
    }
    // A task outside the role is not governed by it.
    expect(await check("requester@fabrikam.com", "Exchange\\Set-OrganizationConfig")).toMatchObject({
      allowed: true,
      reason: "NOT_GOVERNED",
    });
  });

  it("governs the tasks of every role in a ROLE_GROUP policy", async () => {
    await createPolicy(t, { type: "ROLE_GROUP", target: "Compliance Management", approvalType: "MANUAL" });
    // Compliance Management contains Transport Rules, which contains New-TransportRule.
    expect(await check("requester@fabrikam.com", "Exchange\\New-TransportRule")).toMatchObject({
      allowed: false,
      reason: "NO_AUTHORIZATION",
    });
    const requestId = await createRequest(t, "Compliance Management", { type: "ROLE_GROUP" });
    await approve(t, requestId, "approver2@fabrikam.com");
    expect(await check("requester@fabrikam.com", "Exchange\\New-TransportRule")).toMatchObject({ allowed: true });
    expect(await check("requester@fabrikam.com", "Exchange\\Set-AdminAuditLogConfig")).toMatchObject({ allowed: true });
    // Another user has no authorization of their own.
    expect(await check("approver1@fabrikam.com", "Exchange\\New-TransportRule")).toMatchObject({ allowed: false });
  });

  it("lets a task request fall under a role policy that contains it", async () => {
    const requestId = await createRequest(t, "Exchange\\New-MailboxImportRequest", { as: "approver1@fabrikam.com" });
    const approved = await approve(t, requestId, "approver2@fabrikam.com");
    expect(approved).toMatchObject({ status: "APPROVED" });
    expect(await check("approver1@fabrikam.com", "Exchange\\New-MailboxImportRequest")).toMatchObject({
      allowed: true,
    });
    // The grant is for the requested task only, not the whole role.
    expect(await check("approver1@fabrikam.com", "Exchange\\New-MailboxExportRequest")).toMatchObject({
      allowed: false,
    });
  });

  it("stops governing a task at once when its policy is removed", async () => {
    const policyId = await createPolicy(t, { target: "Exchange\\New-InboundConnector", approvalType: "MANUAL" });
    expect(await check("requester@fabrikam.com", "Exchange\\New-InboundConnector")).toMatchObject({ allowed: false });
    await t.as("admin@fabrikam.com", RemovePolicy, { input: { id: policyId } });
    expect(await check("requester@fabrikam.com", "Exchange\\New-InboundConnector")).toMatchObject({
      allowed: true,
      reason: "NOT_GOVERNED",
    });
  });
});

describe("who is checked", () => {
  it("allows and logs a system account's executions as SYSTEM_ACCOUNT", async () => {
    const result = await check("sys1@fabrikam.com", "Exchange\\New-MailboxExportRequest");
    expect(result).toMatchObject({
      allowed: true,
      reason: "SYSTEM_ACCOUNT",
      execution: { reason: "SYSTEM_ACCOUNT", user: { email: "sys1@fabrikam.com" } },
    });
    const logged = await t.db.taskExecution.findMany({ where: { user: { email: "sys1@fabrikam.com" } } });
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ allowed: true, reason: "SYSTEM_ACCOUNT" });
  });

  it("lets an enforcement service check on behalf of a user of its organization", async () => {
    const onBehalf = await check(
      "enforcer@fabrikam.com",
      "Exchange\\New-MailboxExportRequest",
      "requester@fabrikam.com",
    );
    expect(onBehalf).toMatchObject({ allowed: true, reason: "ACTIVE_AUTHORIZATION" });
    const forOther = await check(
      "enforcer@fabrikam.com",
      "Exchange\\New-MailboxExportRequest",
      "approver2@fabrikam.com",
    );
    expect(forOther).toMatchObject({ allowed: false, reason: "NO_AUTHORIZATION" });
    const execution = await t.db.taskExecution.findFirstOrThrow({
      where: { caller: { email: "enforcer@fabrikam.com" }, user: { email: "approver2@fabrikam.com" } },
    });
    expect(execution.allowed).toBe(false);
    // Contoso's users are not the enforcer's to check.
    expect(
      await check("enforcer@fabrikam.com", "Exchange\\New-MailboxExportRequest", "requester@contoso.com"),
    ).toMatchObject({ code: "NOT_FOUND", field: "userEmail" });
  });

  it("refuses on-behalf checks from anyone but an enforcement service, and logs the refusal with why", async () => {
    const before = await t.db.taskExecution.count();
    expect(
      await check("approver1@fabrikam.com", "Exchange\\New-MailboxExportRequest", "requester@fabrikam.com"),
    ).toMatchObject({ code: "FORBIDDEN" });
    expect(await t.db.taskExecution.count()).toBe(before + 1);
    const logged = await t.db.taskExecution.findFirstOrThrow({ orderBy: { id: "desc" }, include: { caller: true } });
    expect(logged).toMatchObject({
      task: "Exchange\\New-MailboxExportRequest",
      allowed: false,
      reason: "REFUSED",
      refusal: "FORBIDDEN: only enforcement services may check tasks on behalf of another user",
      caller: { email: "approver1@fabrikam.com" },
    });
  });
});

describe("under load", () => {
  it("logs each of many concurrent checks before answering, each with its own execution", async () => {
    const callers = ["requester@fabrikam.com", "approver1@fabrikam.com", "approver2@fabrikam.com", "sys1@fabrikam.com"];
    const tokens = await Promise.all(callers.map((email) => t.tokenFor(email)));
    const tasks = ["Exchange\\New-TransportRule", "Exchange\\Set-Mailbox"];
    const calls = Array.from({ length: 40 }, (_, index) => ({
      caller: callers[index % callers.length]!,
      token: tokens[index % callers.length]!,
      task: tasks[index % tasks.length]!,
    }));
    const answers = await Promise.all(
      calls.map(async ({ token, task }) => {
        const result = await t.request(token, AuthorizeTask, { input: { task } });
        return result.data?.authorizeTask;
      }),
    );
    const executionIds = answers.map((answer) => {
      if (answer?.__typename !== "TaskAuthorization") throw new Error(JSON.stringify(answer));
      return answer.execution.id;
    });
    expect(new Set(executionIds).size).toBe(calls.length);
    // Each answer names its own logged row: the caller, the task and the verdict it answered.
    answers.forEach((answer, index) => {
      expect(answer).toMatchObject({ execution: { task: calls[index]!.task, user: { email: calls[index]!.caller } } });
    });
    const logged = await t.db.taskExecution.findMany({
      where: { id: { in: executionIds.map(rawId) } },
      include: { caller: true },
    });
    expect(logged).toHaveLength(calls.length);
    const byId = new Map(logged.map((row) => [row.id, row]));
    executionIds.forEach((id, index) => {
      expect(byId.get(rawId(id))).toMatchObject({ task: calls[index]!.task, caller: { email: calls[index]!.caller } });
    });
  });

  it("refuses a caller deactivated after their token was accepted, before any cache hears of it", async () => {
    const token = await t.tokenFor("auditor@fabrikam.com");
    const task = "Exchange\\Set-Mailbox";
    expect((await t.request(token, AuthorizeTask, { input: { task } })).data?.authorizeTask).toMatchObject({
      allowed: true,
      reason: "NOT_GOVERNED",
    });
    // Written straight to the database: no transition, no invalidation, as on an instance
    // the change has not reached yet. The execution log has the last word.
    const auditor = await t.db.user.findFirstOrThrow({ where: { email: "auditor@fabrikam.com" } });
    await t.db.user.update({ where: { id: auditor.id }, data: { active: false } });
    try {
      const before = await t.db.taskExecution.count({ where: { callerId: auditor.id, allowed: true } });
      expect((await t.request(token, AuthorizeTask, { input: { task } })).data?.authorizeTask).toMatchObject({
        code: "FORBIDDEN",
      });
      expect(await t.db.taskExecution.count({ where: { callerId: auditor.id, allowed: true } })).toBe(before);
    } finally {
      await t.db.user.update({ where: { id: auditor.id }, data: { active: true } });
    }
  });

  it("refuses on-behalf checks of a service whose enforcer role was taken after its token was accepted", async () => {
    const token = await t.tokenFor("enforcer@fabrikam.com");
    const input = { task: "Exchange\\Set-Mailbox", userEmail: "requester@fabrikam.com" };
    expect((await t.request(token, AuthorizeTask, { input })).data?.authorizeTask).toMatchObject({ allowed: true });
    const enforcer = await t.db.user.findFirstOrThrow({ where: { email: "enforcer@fabrikam.com" } });
    await t.db.user.update({ where: { id: enforcer.id }, data: { roles: [] } });
    try {
      expect((await t.request(token, AuthorizeTask, { input })).data?.authorizeTask).toMatchObject({
        code: "FORBIDDEN",
      });
    } finally {
      await t.db.user.update({ where: { id: enforcer.id }, data: { roles: enforcer.roles } });
    }
  });
});

// What an enforcement service asks, nothing more: each other field is a query of its own.
const Verdict = graphql(`
  mutation AuthorizeTaskVerdict($input: AuthorizeTaskInput!) {
    authorizeTask(input: $input) {
      __typename
      ... on TaskAuthorization {
        allowed
        reason
      }
    }
  }
`);

describe("the grants a verdict is decided on", () => {
  it("are the ones last read while the database still has them, else read again before answering", async () => {
    const task = "Exchange\\New-OutboundConnector";
    await createPolicy(t, { target: task, approvalType: "MANUAL" });
    const requestId = await createRequest(t, task, { as: "approver2@fabrikam.com" });
    await approve(t, requestId, "approver1@fabrikam.com");
    const token = await t.tokenFor("approver2@fabrikam.com");
    const checkWith = () =>
      statementsDuring(async () => (await t.request(token, Verdict, { input: { task } })).data?.authorizeTask);
    expect((await checkWith()).result).toMatchObject({ allowed: true, reason: "ACTIVE_AUTHORIZATION" });

    // Nothing changed: the log's INSERT alone, which finds the grants the verdict saw.
    const unchanged = await checkWith();
    expect(unchanged.result).toMatchObject({ allowed: true, reason: "ACTIVE_AUTHORIZATION" });
    expect(unchanged.statements).toBe(1);

    // Revoked straight in the database, as by another instance: the INSERT finds another
    // grant set, writes nothing, and the call decides again on what it reads now.
    const grant = await t.db.accessAuthorization.findFirstOrThrow({ where: { requestId: rawId(requestId) } });
    await t.db.accessAuthorization.update({ where: { id: grant.id }, data: { status: "REVOKED" } });
    const revoked = await checkWith();
    expect(revoked.result).toMatchObject({ allowed: false, reason: "NO_AUTHORIZATION" });
    expect(revoked.statements).toBe(3);
    const logged = await t.db.taskExecution.findMany({
      where: { task, userId: grant.userId },
      orderBy: { at: "desc" },
      take: 3,
    });
    expect(logged.map((row) => row.reason)).toEqual([
      "NO_AUTHORIZATION",
      "ACTIVE_AUTHORIZATION",
      "ACTIVE_AUTHORIZATION",
    ]);

    // A grant that is still there but changed (here: ends sooner) is read again too.
    await t.db.accessAuthorization.update({
      where: { id: grant.id },
      data: { status: "ACTIVE", endsAt: new Date(Date.now() + 60_000) },
    });
    const changed = await checkWith();
    expect(changed.result).toMatchObject({ allowed: true, reason: "ACTIVE_AUTHORIZATION" });
    expect(changed.statements).toBe(3);
    // Its end passes: refused by the window, the same on both sides, with no read.
    await t.db.accessAuthorization.update({ where: { id: grant.id }, data: { endsAt: new Date(Date.now() - 1) } });
    expect((await checkWith()).result).toMatchObject({ allowed: false, reason: "NO_AUTHORIZATION" });
  });
});
