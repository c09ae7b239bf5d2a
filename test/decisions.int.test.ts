import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import {
  AddMembers,
  ApproveRequest,
  CancelRequest,
  CreateRequest,
  DenyRequest,
  GetRequest,
} from "./helpers/documents.ts";
import { approve, createPolicy, createRequest, enableControl, rawId, targetsOf } from "./helpers/fixtures.ts";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  await enableControl(t);
  await createPolicy(t, { type: "ROLE_GROUP", target: "Recipient Management", approvalType: "MANUAL" });
  await createPolicy(t, { target: "Exchange\\Add-MailboxPermission", approvalType: "MANUAL", requiredApprovals: 2 });
  await createPolicy(t, { target: "Exchange\\Get-MoveRequest", approvalType: "AUTO" });
  // GUEST and SERVICE principals join the group: membership alone must never let them approve.
  await t.as("admin@fabrikam.com", AddMembers, {
    input: {
      groupId: (await t.db.approverGroup.findFirstOrThrow({ where: { email: "pamapprovers@fabrikam.com" } })).id,
      emails: ["guest@partner.example", "enforcer@fabrikam.com"],
    },
  });
});
afterAll(() => t.close());

// Each request its own task under the role group's policy: a requester keeps one open request per target.
const nextTarget = targetsOf("Recipient Management", ["Exchange\\Add-MailboxPermission", "Exchange\\Get-MoveRequest"]);
const permission = "Exchange\\Add-MailboxPermission";

async function auditCount(requestId: string, action: string) {
  return t.db.auditEvent.count({ where: { subjectId: rawId(requestId), action } });
}

describe("races", () => {
  it("50 concurrent approvals make one transition, one authorization and one audit event", async () => {
    const requestId = await createRequest(t, nextTarget());
    const [token1, token2] = [await t.tokenFor("approver1@fabrikam.com"), await t.tokenFor("approver2@fabrikam.com")];
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        t.request(index % 2 ? token1 : token2, ApproveRequest, { input: { requestId } }),
      ),
    );
    const outcomes = results.map((result) => {
      const answer = result.data?.approveAccessRequest;
      return answer?.__typename === "AccessRequest" ? "APPROVED" : answer && "code" in answer ? answer.code : "ERROR";
    });
    expect(outcomes.filter((outcome) => outcome === "APPROVED")).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome !== "APPROVED").every((outcome) => outcome === "ALREADY_DECIDED")).toBe(
      true,
    );
    expect(await t.db.accessAuthorization.count({ where: { requestId: rawId(requestId) } })).toBe(1);
    expect(await t.db.accessDecision.count({ where: { requestId: rawId(requestId) } })).toBe(1);
    expect(await auditCount(requestId, "Approve-ElevatedAccessRequest")).toBe(1);
    expect(
      await t.db.emailMessage.count({ where: { requestId: rawId(requestId), template: "request-approved" } }),
    ).toBe(1);
  });

  it("approve and deny sent concurrently: exactly one wins, and the terminal request rejects later writes", async () => {
    const requestId = await createRequest(t, nextTarget());
    // Both tokens first, so neither call starts before the other is sent.
    const [token1, token2] = [await t.tokenFor("approver1@fabrikam.com"), await t.tokenFor("approver2@fabrikam.com")];
    const [approval, denial] = await Promise.all([
      t.request(token1, ApproveRequest, { input: { requestId } }),
      t.request(token2, DenyRequest, { input: { requestId } }),
    ]);
    const approved = approval.data?.approveAccessRequest.__typename === "AccessRequest";
    const denied = denial.data?.denyAccessRequest.__typename === "AccessRequest";
    expect(approved !== denied).toBe(true);
    const loser = approved ? denial.data?.denyAccessRequest : approval.data?.approveAccessRequest;
    expect(loser && "code" in loser ? loser.code : null).toMatch(/^(ALREADY_DECIDED|CONFLICT)$/);

    const row = await t.db.accessRequest.findUniqueOrThrow({ where: { id: rawId(requestId) } });
    expect(row.status).toBe(approved ? "APPROVED" : "DENIED");
    expect(await t.db.accessAuthorization.count({ where: { requestId: row.id } })).toBe(approved ? 1 : 0);

    const later = [
      (await t.as("approver1@fabrikam.com", DenyRequest, { input: { requestId } })).denyAccessRequest,
      (await t.as("approver2@fabrikam.com", ApproveRequest, { input: { requestId } })).approveAccessRequest,
      (await t.as("requester@fabrikam.com", CancelRequest, { input: { requestId } })).cancelAccessRequest,
    ];
    expect(later.map((answer) => ("code" in answer ? answer.code : answer.__typename))).toEqual([
      "ALREADY_DECIDED",
      "ALREADY_DECIDED",
      "ALREADY_DECIDED",
    ]);
    expect((await t.db.accessRequest.findUniqueOrThrow({ where: { id: row.id } })).status).toBe(row.status);
  });
});

describe("quorum", () => {
  it("counts the same approver once and approves on the second distinct approver", async () => {
    const requestId = await createRequest(t, permission);
    const first = await approve(t, requestId, "approver1@fabrikam.com");
    expect(first).toMatchObject({ __typename: "AccessRequest", status: "PENDING", authorization: null });
    const again = await approve(t, requestId, "approver1@fabrikam.com");
    expect(again).toMatchObject({ __typename: "ConflictError", code: "CONFLICT" });
    expect((await t.as("requester@fabrikam.com", GetRequest, { id: requestId })).accessRequest?.status).toBe("PENDING");
    const second = await approve(t, requestId, "approver2@fabrikam.com");
    expect(second).toMatchObject({ status: "APPROVED", authorization: { status: "ACTIVE" } });
    if (second.__typename !== "AccessRequest") throw new Error("not approved");
    expect(second.decisions.map((decision) => decision.approver.email)).toEqual([
      "approver1@fabrikam.com",
      "approver2@fabrikam.com",
    ]);
  });

  it("one denial denies, even after an approval", async () => {
    const requestId = await createRequest(t, permission);
    expect(await approve(t, requestId, "approver1@fabrikam.com")).toMatchObject({ status: "PENDING" });
    const denied = (
      await t.as("approver2@fabrikam.com", DenyRequest, { input: { requestId, comment: "Not during the freeze" } })
    ).denyAccessRequest;
    expect(denied).toMatchObject({ status: "DENIED", authorization: null });
    expect(await t.db.accessAuthorization.count({ where: { requestId: rawId(requestId) } })).toBe(0);
  });
});

describe("who may decide", () => {
  it("refuses a requester approving their own request", async () => {
    const requestId = await createRequest(t, nextTarget(), { as: "approver1@fabrikam.com" });
    expect(await approve(t, requestId, "approver1@fabrikam.com")).toMatchObject({
      __typename: "SelfApprovalError",
      code: "SELF_APPROVAL",
    });
    expect((await t.db.accessRequest.findUniqueOrThrow({ where: { id: rawId(requestId) } })).status).toBe("PENDING");
  });

  it("never lets GUEST or SERVICE principals approve, even as group members", async () => {
    const requestId = await createRequest(t, nextTarget());
    for (const principal of ["guest@partner.example", "enforcer@fabrikam.com"]) {
      expect(await approve(t, requestId, principal)).toMatchObject({ code: "NOT_AN_APPROVER" });
      const denial = (await t.as(principal, DenyRequest, { input: { requestId } })).denyAccessRequest;
      expect(denial).toMatchObject({ code: "NOT_AN_APPROVER" });
    }
    expect(await approve(t, requestId, "admin@fabrikam.com")).toMatchObject({ code: "NOT_AN_APPROVER" });
    expect((await t.db.accessRequest.findUniqueOrThrow({ where: { id: rawId(requestId) } })).status).toBe("PENDING");
    expect(await t.db.accessDecision.count({ where: { requestId: rawId(requestId) } })).toBe(0);
  });
});

describe("lifecycle", () => {
  it("approves AUTO policies at once, with an authorization from that moment", async () => {
    const result = (
      await t.as("requester@fabrikam.com", CreateRequest, {
        input: { target: "Exchange\\Get-MoveRequest", reason: "Check move status" },
      })
    ).createAccessRequest;
    expect(result).toMatchObject({ __typename: "AccessRequest", status: "APPROVED", durationHours: 4 });
    if (result.__typename !== "AccessRequest") throw new Error("not created");
    expect(result.authorization?.status).toBe("ACTIVE");
    expect(result.authorization?.startsAt).toBe(result.createdAt);
    const audit = await t.db.auditEvent.findFirstOrThrow({
      where: { subjectId: rawId(result.id), action: "Approve-ElevatedAccessRequest" },
    });
    expect(audit.details).toMatchObject({ channel: "AUTO" });
  });

  it("lets the requester cancel while PENDING, and nobody else", async () => {
    const requestId = await createRequest(t, nextTarget());
    const byOther = (await t.as("approver1@fabrikam.com", CancelRequest, { input: { requestId } })).cancelAccessRequest;
    expect(byOther).toMatchObject({ code: "FORBIDDEN" });
    const canceled = (await t.as("requester@fabrikam.com", CancelRequest, { input: { requestId } }))
      .cancelAccessRequest;
    expect(canceled).toMatchObject({ __typename: "AccessRequest", status: "CANCELED" });
    expect(await approve(t, requestId)).toMatchObject({ code: "ALREADY_DECIDED" });
  });

  it("treats a request past expiresAt as expired before any job has run", async () => {
    const requestId = await createRequest(t, nextTarget());
    await t.db.accessRequest.update({
      where: { id: rawId(requestId) },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    expect(await approve(t, requestId)).toMatchObject({ __typename: "RequestExpiredError", code: "REQUEST_EXPIRED" });
    const denial = (await t.as("approver2@fabrikam.com", DenyRequest, { input: { requestId } })).denyAccessRequest;
    expect(denial).toMatchObject({ code: "REQUEST_EXPIRED" });
    const row = await t.db.accessRequest.findUniqueOrThrow({ where: { id: rawId(requestId) } });
    expect(row).toMatchObject({ status: "PENDING", decidedAt: null });
    expect(await t.db.accessAuthorization.count({ where: { requestId: row.id } })).toBe(0);
  });
});
