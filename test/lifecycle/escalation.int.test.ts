import { randomUUID } from "node:crypto";
import type { VariablesOf } from "@graphql-typed-document-node/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyAuditLog } from "../../src/domain/audit/audit.service.ts";
import { serviceContext } from "../../src/domain/context.ts";
import { escalateRequest } from "../../src/domain/requests/escalation.service.ts";
import { jobTable } from "../../src/jobs/queues.ts";
import { graphql } from "../graphql/index.ts";
import { testAuditKeys } from "../helpers/audit-keys.ts";
import { CreateApproverGroup } from "../helpers/documents.ts";
import { approve, createPolicy, createRequest, enableControl, rawId } from "../helpers/fixtures.ts";
import { reconcilerFor } from "../helpers/jobs.ts";
import { decisionLink, startMailingApp, submitDecision } from "../helpers/mail.ts";
import { databaseSnapshot } from "../helpers/snapshot.ts";

// A policy names an escalation group and hours: a request still undecided then escalates
// once (a delayed job, the reconciler as backstop), the group's members are mailed with
// decision links and may decide it through every door; never after it settled, never twice.

const hour = 3_600_000;
const oncallGroup = "oncall@fabrikam.com";
const targets = {
  escalating: "Exchange\\New-MoveRequest",
  decidedFirst: "Exchange\\Set-Mailbox",
  stepUp: "Exchange\\Add-MailboxPermission",
  reconciled: "Exchange\\Set-MailUser",
  later: "Exchange\\New-MailContact",
};

const PolicyWithEscalation = graphql(`
  mutation PolicyWithEscalation($input: CreateApprovalPolicyInput!) {
    createApprovalPolicy(input: $input) {
      __typename
      ... on ApprovalPolicy {
        id
        escalateAfterHours
        escalationGroup {
          email
        }
      }
      ...ErrorFields
      ... on ValidationError {
        field
      }
      ... on NotFoundError {
        field
      }
    }
  }
`);

const ChangeEscalation = graphql(`
  mutation ChangeEscalation($input: UpdateApprovalPolicyInput!) {
    updateApprovalPolicy(input: $input) {
      __typename
      ... on ApprovalPolicy {
        escalateAfterHours
        escalationGroup {
          email
        }
      }
      ...ErrorFields
      ... on ValidationError {
        field
      }
    }
  }
`);

const EscalationState = graphql(`
  query EscalationState($id: ID!) {
    accessRequest(id: $id) {
      status
      escalatesAt
      escalatedAt
      escalationGroup {
        email
      }
      awaitsMyDecision
    }
  }
`);

const AwaitingMe = graphql(`
  query AwaitingMe {
    accessRequests(first: 50, filter: { awaitingMyDecision: true }) {
      edges {
        node {
          id
        }
      }
    }
  }
`);

const ApproveAsOncall = graphql(`
  mutation ApproveAsOncall($input: DecideAccessRequestInput!) {
    approveAccessRequest(input: $input) {
      __typename
      ... on AccessRequest {
        status
      }
      ...ErrorFields
    }
  }
`);

let mailing: Awaited<ReturnType<typeof startMailingApp>>;

beforeAll(async () => {
  mailing = await startMailingApp();
  const { t } = mailing;
  await enableControl(t);
  const organization = await t.db.organization.findFirstOrThrow({ where: { name: "Fabrikam" } });
  for (const [email, displayName] of [
    ["oncall1@fabrikam.com", "Olga Oncall"],
    ["oncall2@fabrikam.com", "Otto Oncall"],
  ] as const) {
    await t.db.user.create({ data: { organizationId: organization.id, email, displayName, subject: randomUUID() } });
  }
  const group = (
    await t.as("admin@fabrikam.com", CreateApproverGroup, {
      input: { name: "On call", email: oncallGroup, memberEmails: ["oncall1@fabrikam.com", "oncall2@fabrikam.com"] },
    })
  ).createApproverGroup;
  expect(group.__typename).toBe("ApproverGroup");
});

afterAll(async () => {
  await mailing?.close();
});

/** Brings a filed request's escalation to `at` (as if filed escalateAfterHours before), its job moved with it. */
async function escalateAt(requestId: string, at: Date) {
  const { t, runtime } = mailing;
  const request = await t.db.accessRequest.update({ where: { id: requestId }, data: { escalateAt: at } });
  await runtime.queues.queue("escalateRequest").remove(jobTable.escalateRequest.jobId(requestId));
  await runtime.queues.schedule("escalateRequest", [
    { payload: { requestId, organizationId: request.organizationId }, at },
  ]);
}

const escalationMail = (requestId: string) =>
  mailing.t.db.emailMessage.findMany({ where: { requestId, template: "approval-escalated" } });
const systemContext = (organizationId: string) =>
  serviceContext(
    { db: mailing.t.db, effects: mailing.runtime.effects, auditKeys: testAuditKeys },
    organizationId,
    null,
  );

describe("escalation", () => {
  it("a policy takes a group and hours, both or neither, MANUAL only, sooner than the request lifetime", async () => {
    const { t } = mailing;
    const before = await databaseSnapshot(t.db);
    const refused = async (input: Omit<VariablesOf<typeof PolicyWithEscalation>["input"], "target">) =>
      (await t.as("admin@fabrikam.com", PolicyWithEscalation, { input: { target: targets.later, ...input } }))
        .createApprovalPolicy;
    expect(await refused({ approvalType: "MANUAL", escalationGroup: oncallGroup })).toMatchObject({
      __typename: "ValidationError",
      field: "escalateAfterHours",
    });
    expect(await refused({ approvalType: "MANUAL", escalateAfterHours: 2 })).toMatchObject({
      __typename: "ValidationError",
      field: "escalationGroup",
    });
    expect(
      await refused({ approvalType: "MANUAL", escalationGroup: oncallGroup, escalateAfterHours: 24 }),
    ).toMatchObject({
      __typename: "ValidationError",
      field: "escalateAfterHours",
      message: expect.stringMatching(/less than .*24/),
    });
    for (const hours of [0, -1]) {
      expect(
        await refused({ approvalType: "MANUAL", escalationGroup: oncallGroup, escalateAfterHours: hours }),
      ).toMatchObject({ __typename: "ValidationError", field: "escalateAfterHours" });
    }
    expect(await refused({ approvalType: "AUTO", escalationGroup: oncallGroup, escalateAfterHours: 2 })).toMatchObject({
      __typename: "ValidationError",
      field: "escalationGroup",
    });
    expect(
      await refused({ approvalType: "MANUAL", escalationGroup: "nobody@fabrikam.com", escalateAfterHours: 2 }),
    ).toMatchObject({ __typename: "NotFoundError", field: "escalationGroup" });
    expect(await databaseSnapshot(t.db)).toEqual(before);

    const created = await refused({ approvalType: "MANUAL", escalationGroup: oncallGroup, escalateAfterHours: 2 });
    expect(created).toMatchObject({ escalateAfterHours: 2, escalationGroup: { email: oncallGroup } });
    const id = created.__typename === "ApprovalPolicy" ? created.id : "";
    const change = async (input: Omit<VariablesOf<typeof ChangeEscalation>["input"], "id">) =>
      (await t.as("admin@fabrikam.com", ChangeEscalation, { input: { id, ...input } })).updateApprovalPolicy;
    expect(await change({ escalateAfterHours: 6 })).toMatchObject({ escalateAfterHours: 6 });
    expect(await change({ escalationGroup: null })).toMatchObject({ field: "escalationGroup" });
    expect(await change({ escalationGroup: null, escalateAfterHours: null })).toMatchObject({
      escalateAfterHours: null,
      escalationGroup: null,
    });
    const audit = await t.db.auditEvent.findMany({ where: { subjectId: rawId(id) }, orderBy: { sequence: "asc" } });
    expect(audit.map((event) => event.action)).toEqual([
      "New-ElevatedAccessApprovalPolicy",
      "Set-ElevatedAccessApprovalPolicy",
      "Set-ElevatedAccessApprovalPolicy",
    ]);
    expect(audit[0]!.details).toMatchObject({ escalationGroup: oncallGroup, escalateAfterHours: 2 });
    // A group a policy escalates to is kept while the policy names it.
    await change({ escalationGroup: oncallGroup, escalateAfterHours: 3 });
    const group = await t.db.approverGroup.findFirstOrThrow({ where: { email: oncallGroup } });
    await expect(t.db.approvalPolicy.count({ where: { escalationGroupId: group.id } })).resolves.toBeGreaterThan(0);
  });

  it("undecided at its hour: escalates once, mails the group with links, and its members may decide", async () => {
    const { t, smtp } = mailing;
    await createPolicy(t, {
      target: targets.escalating,
      approvalType: "MANUAL",
      escalationGroup: oncallGroup,
      escalateAfterHours: 2,
    });
    const requestId = await createRequest(t, targets.escalating);
    const filed = await t.db.accessRequest.findUniqueOrThrow({ where: { id: rawId(requestId) } });
    expect(filed.escalateAt!.getTime() - filed.createdAt.getTime()).toBe(2 * hour);
    const job = await mailing.runtime.queues.queue("escalateRequest").getJob(jobTable.escalateRequest.jobId(filed.id));
    expect(Math.abs(job!.timestamp + job!.delay - filed.escalateAt!.getTime())).toBeLessThan(1000);

    // Before it escalates the group neither sees nor decides it.
    expect((await t.as("oncall1@fabrikam.com", EscalationState, { id: requestId })).accessRequest).toBeNull();
    expect(
      (await t.as("oncall1@fabrikam.com", ApproveAsOncall, { input: { requestId } })).approveAccessRequest,
    ).toMatchObject({ code: "NOT_AN_APPROVER" });
    expect((await t.as("oncall1@fabrikam.com", AwaitingMe)).accessRequests.edges).toHaveLength(0);

    await escalateAt(filed.id, new Date(Date.now() + 500));
    const mails = await smtp.messages((mail) => mail.subject.startsWith("Escalated:"), 2);
    expect(mails.map((mail) => mail.to).sort()).toEqual(["oncall1@fabrikam.com", "oncall2@fabrikam.com"]);
    const escalated = await t.db.accessRequest.findUniqueOrThrow({ where: { id: filed.id } });
    expect(escalated.escalatedAt).not.toBeNull();
    expect(
      (await t.db.auditEvent.findMany({ where: { subjectId: filed.id, action: "Escalate-ElevatedAccessRequest" } }))
        .length,
    ).toBe(1);

    // The stage's own approvers were asked already: no escalation mail for them.
    expect((await escalationMail(filed.id)).map((mail) => mail.recipientId).sort()).toHaveLength(2);
    expect((await t.as("oncall2@fabrikam.com", EscalationState, { id: requestId })).accessRequest).toMatchObject({
      status: "PENDING",
      escalationGroup: { email: oncallGroup },
      awaitsMyDecision: true,
    });
    expect((await t.as("oncall2@fabrikam.com", AwaitingMe)).accessRequests.edges).toEqual([
      { node: { id: requestId } },
    ]);

    // Once more (a retried job, the reconciler after it): nothing.
    expect(await escalateRequest(systemContext(filed.organizationId), filed.id)).toEqual({ kind: "settled" });
    expect(await escalationMail(filed.id)).toHaveLength(2);

    // The email link decides as any approver's does.
    const mail = mails.find((message) => message.to === "oncall1@fabrikam.com")!;
    const decided = await submitDecision(decisionLink(mail, "Approve"), "on call, approved");
    expect(decided.status).toBe(200);
    const approved = await t.db.accessRequest.findUniqueOrThrow({
      where: { id: filed.id },
      include: { decisions: { include: { approver: true } } },
    });
    expect(approved.status).toBe("APPROVED");
    expect(approved.decisions.map((decision) => [decision.approver.email, decision.channel])).toEqual([
      ["oncall1@fabrikam.com", "EMAIL"],
    ]);
    expect(await verifyAuditLog(t.db, testAuditKeys, filed.organizationId)).toMatchObject({ ok: true });
  });

  it("a request decided before its hour never escalates: its job is removed, nothing is mailed", async () => {
    const { t, runtime } = mailing;
    await createPolicy(t, {
      target: targets.decidedFirst,
      approvalType: "MANUAL",
      escalationGroup: oncallGroup,
      escalateAfterHours: 1,
    });
    const requestId = await createRequest(t, targets.decidedFirst);
    const id = rawId(requestId);
    expect(await approve(t, requestId)).toMatchObject({ status: "APPROVED" });
    const job = () => runtime.queues.queue("escalateRequest").getJob(jobTable.escalateRequest.jobId(id));
    expect(await job()).toBeUndefined();
    await t.db.accessRequest.update({ where: { id }, data: { escalateAt: new Date(Date.now() - 1000) } });
    expect(
      await escalateRequest(
        systemContext((await t.db.accessRequest.findUniqueOrThrow({ where: { id } })).organizationId),
        id,
      ),
    ).toEqual({
      kind: "settled",
    });
    expect(await escalationMail(id)).toHaveLength(0);
    expect((await t.db.accessRequest.findUniqueOrThrow({ where: { id } })).escalatedAt).toBeNull();
  });

  it("under a step-up policy the escalation mail carries no decision links, as the approvers' mail", async () => {
    const { t, smtp } = mailing;
    await createPolicy(t, {
      target: targets.stepUp,
      approvalType: "MANUAL",
      requireMfa: true,
      escalationGroup: oncallGroup,
      escalateAfterHours: 1,
    });
    const requestId = await createRequest(t, targets.stepUp);
    await escalateAt(rawId(requestId), new Date(Date.now() + 200));
    const mails = await smtp.messages(
      (mail) => mail.subject.startsWith("Escalated:") && mail.subject.includes("Add-MailboxPermission"),
      2,
    );
    for (const mail of mails) {
      expect(mail.text).not.toContain("/decide/");
      expect(mail.text).toContain(`/requests/${rawId(requestId)}`);
    }
  });

  it("the reconciler escalates a request whose job Redis lost, and puts back the job of one still ahead", async () => {
    const { t, runtime, smtp } = mailing;
    await createPolicy(t, {
      target: targets.reconciled,
      approvalType: "MANUAL",
      escalationGroup: oncallGroup,
      escalateAfterHours: 3,
    });
    const overdue = rawId(await createRequest(t, targets.reconciled));
    const ahead = rawId(await createRequest(t, targets.reconciled, { as: "approver2@fabrikam.com" }));
    await t.db.accessRequest.update({ where: { id: overdue }, data: { escalateAt: new Date(Date.now() - 1000) } });
    for (const id of [overdue, ahead]) {
      await runtime.queues.queue("escalateRequest").remove(jobTable.escalateRequest.jobId(id));
    }
    const reconciler = reconcilerFor(t.db, runtime.effects, runtime.queues);
    const report = await reconciler.runOnce();
    expect(report?.escalatedRequests).toBeGreaterThanOrEqual(1);
    expect(report?.requeued?.escalations).toBeGreaterThanOrEqual(1);
    expect((await t.db.accessRequest.findUniqueOrThrow({ where: { id: overdue } })).escalatedAt).not.toBeNull();
    expect((await t.db.accessRequest.findUniqueOrThrow({ where: { id: ahead } })).escalatedAt).toBeNull();
    await smtp.messages((mail) => mail.subject.startsWith("Escalated:") && mail.subject.includes("Set-MailUser"), 2);
    const aheadRow = await t.db.accessRequest.findUniqueOrThrow({ where: { id: ahead } });
    const job = await runtime.queues.queue("escalateRequest").getJob(jobTable.escalateRequest.jobId(ahead));
    expect(Math.abs(job!.timestamp + job!.delay - aheadRow.escalateAt!.getTime())).toBeLessThan(1000);
  });
});
