import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeGlobalId } from "../src/domain/global-id.ts";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import {
  AddMembers,
  AuthorizeTask,
  CancelRequest,
  DenyRequest,
  EnableControl,
  GetPolicy,
  GetRequest,
  ListAuthorizations,
  ListPolicies,
  ListRequests,
  NodeLookup,
  RemovePolicy,
  RevokeAuthorization,
} from "./helpers/documents.ts";
import { approve, createPolicy, createRequest, enableControl } from "./helpers/fixtures.ts";
import { seededAuditActions } from "./helpers/seed.ts";

let t: TestApp;
let policyId: string;
let pendingId: string;
let approvedId: string;
let authorizationId: string;
beforeAll(async () => {
  t = await startTestApp();
  await enableControl(t);
  policyId = await createPolicy(t, { target: "Exchange\\New-MoveRequest", approvalType: "MANUAL" });
  approvedId = await createRequest(t, "Exchange\\New-MoveRequest");
  const approved = await approve(t, approvedId);
  if (approved.__typename !== "AccessRequest" || !approved.authorization) throw new Error("setup failed");
  authorizationId = approved.authorization.id;
  // A requester keeps one open request per target: the pending one comes once the first is decided.
  pendingId = await createRequest(t, "Exchange\\New-MoveRequest");
  await t.as("requester@fabrikam.com", AuthorizeTask, { input: { task: "Exchange\\New-MoveRequest" } });
});
afterAll(() => t.close());

describe("another organization sees and touches nothing", () => {
  it("cannot read Fabrikam's entities by global ID, list or get", async () => {
    const group = await t.db.approverGroup.findFirstOrThrow({ where: { email: "pamapprovers@fabrikam.com" } });
    const audit = await t.db.auditEvent.findFirstOrThrow();
    const ids = [
      policyId,
      pendingId,
      approvedId,
      authorizationId,
      encodeGlobalId("ApproverGroup", group.id),
      encodeGlobalId("AuditEvent", audit.id),
    ];
    for (const email of ["admin@contoso.com", "requester@contoso.com"]) {
      for (const id of ids) expect((await t.as(email, NodeLookup, { id })).node).toBeNull();
      expect((await t.as(email, GetRequest, { id: pendingId })).accessRequest).toBeNull();
      expect((await t.as(email, ListRequests, {})).accessRequests.totalCount).toBe(0);
      const grants = await t.as(email, ListAuthorizations);
      expect([grants.accessAuthorizations.totalCount, grants.taskExecutions.totalCount]).toEqual([0, 0]);
    }
    // Policies are read by admins, auditors and approvers only (requesters are refused outright).
    expect((await t.as("admin@contoso.com", GetPolicy, { id: policyId })).approvalPolicy).toBeNull();
    expect((await t.as("admin@contoso.com", ListPolicies)).approvalPolicies.totalCount).toBe(0);
    // The same IDs resolve inside Fabrikam, so the nulls above are the tenant boundary.
    for (const id of ids) expect((await t.as("admin@fabrikam.com", NodeLookup, { id })).node).not.toBeNull();
  });

  it("cannot decide, cancel, revoke, remove or reconfigure Fabrikam's entities", async () => {
    const group = await t.db.approverGroup.findFirstOrThrow({ where: { email: "pamapprovers@fabrikam.com" } });
    const answers = [
      await approve(t, pendingId, "admin@contoso.com"),
      (await t.as("admin@contoso.com", DenyRequest, { input: { requestId: pendingId } })).denyAccessRequest,
      (await t.as("requester@contoso.com", CancelRequest, { input: { requestId: pendingId } })).cancelAccessRequest,
      (await t.as("admin@contoso.com", RevokeAuthorization, { input: { requestId: approvedId } }))
        .revokeAccessAuthorization,
      (await t.as("admin@contoso.com", RemovePolicy, { input: { id: policyId } })).removeApprovalPolicy,
      (await t.as("admin@contoso.com", AddMembers, { input: { groupId: group.id, emails: ["admin@contoso.com"] } }))
        .addApproverGroupMembers,
      (await t.as("admin@contoso.com", EnableControl, { input: { adminGroup: "pamapprovers@fabrikam.com" } }))
        .enableElevatedAccessControl,
    ];
    expect(answers.map((answer) => ("code" in answer ? answer.code : answer.__typename))).toEqual(
      Array(answers.length).fill("NOT_FOUND"),
    );
    const pending = await t.as("requester@fabrikam.com", GetRequest, { id: pendingId });
    expect(pending.accessRequest?.status).toBe("PENDING");
    const approved = await t.as("requester@fabrikam.com", GetRequest, { id: approvedId });
    expect(approved.accessRequest?.authorization?.status).toBe("ACTIVE");
    expect(await t.db.auditEvent.count({ where: { organization: { name: "Contoso" } } })).toBe(
      seededAuditActions.length,
    );
  });
});

describe("inside an organization", () => {
  it("shows requesters their own requests, approvers their group's, auditors all", async () => {
    await createRequest(t, "Exchange\\New-MoveRequest", { as: "guest@partner.example" });
    const emails = async (as: string) =>
      new Set((await t.as(as, ListRequests, {})).accessRequests.edges.map((edge) => edge.node.requester.email));
    expect(await emails("requester@fabrikam.com")).toEqual(new Set(["requester@fabrikam.com"]));
    expect(await emails("guest@partner.example")).toEqual(new Set(["guest@partner.example"]));
    expect(await emails("approver2@fabrikam.com")).toEqual(
      new Set(["requester@fabrikam.com", "guest@partner.example"]),
    );
    expect(await emails("auditor@fabrikam.com")).toEqual(new Set(["requester@fabrikam.com", "guest@partner.example"]));
    expect((await t.as("guest@partner.example", GetRequest, { id: pendingId })).accessRequest).toBeNull();
  });

  it("lists what awaits the caller's decision", async () => {
    const awaiting = await t.as("approver1@fabrikam.com", ListRequests, { filter: { awaitingMyDecision: true } });
    expect(awaiting.accessRequests.edges.every((edge) => edge.node.status === "PENDING")).toBe(true);
    expect(awaiting.accessRequests.totalCount).toBe(2);
    const requesterView = await t.as("requester@fabrikam.com", ListRequests, { filter: { awaitingMyDecision: true } });
    expect(requesterView.accessRequests.totalCount).toBe(0);
  });
});
