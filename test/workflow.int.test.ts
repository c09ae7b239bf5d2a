import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import {
  ApproveRequest,
  AuthorizeTask,
  ControlState,
  CreateApproverGroup,
  CreatePolicy,
  CreateRequest,
  DisableControl,
  EnableControl,
  GetRequest,
  ListPolicies,
  RemovePolicy,
  RevokeAuthorization,
} from "./helpers/documents.ts";
import { seededAuditActions } from "./helpers/seed.ts";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const task = "Exchange\\New-MoveRequest";

// The four steps of Office 365 privileged access management, end to end through GraphQL.
describe("the Office 365 procedure", () => {
  it("walks from an approver group to a revoked authorization", async () => {
    // Step 1: an approver group.
    const group = (
      await t.as("admin@fabrikam.com", CreateApproverGroup, {
        input: {
          name: "Move Approvers",
          email: "moveapprovers@fabrikam.com",
          description: "Approve mailbox moves",
          memberEmails: ["approver1@fabrikam.com", "approver2@fabrikam.com"],
        },
      })
    ).createApproverGroup;
    expect(group).toMatchObject({ __typename: "ApproverGroup", email: "moveapprovers@fabrikam.com" });

    // Step 2: enable the control with sys1 excluded.
    const enabled = (
      await t.as("admin@fabrikam.com", EnableControl, {
        input: { adminGroup: "moveapprovers@fabrikam.com", systemAccounts: ["sys1@fabrikam.com"] },
      })
    ).enableElevatedAccessControl;
    expect(enabled).toEqual({
      __typename: "ElevatedAccessControl",
      enabled: true,
      defaultApproverGroup: { email: "moveapprovers@fabrikam.com" },
      systemAccounts: [{ email: "sys1@fabrikam.com" }],
    });

    // Step 3: a MANUAL policy for New-MoveRequest with the group.
    const policy = (
      await t.as("admin@fabrikam.com", CreatePolicy, {
        input: { target: task, approvalType: "MANUAL", approverGroup: "moveapprovers@fabrikam.com" },
      })
    ).createApprovalPolicy;
    if (policy.__typename !== "ApprovalPolicy") throw new Error(JSON.stringify(policy));
    expect(policy).toMatchObject({ type: "TASK", target: task, approvalType: "MANUAL", requiredApprovals: 1 });

    // Step 4: request it for 4 hours with a reason.
    const created = (
      await t.as("requester@fabrikam.com", CreateRequest, {
        input: { target: task, reason: "Move the CEO mailbox to the new database", durationHours: 4 },
      })
    ).createAccessRequest;
    if (created.__typename !== "AccessRequest") throw new Error(JSON.stringify(created));
    expect(created.status).toBe("PENDING");
    expect(new Date(created.expiresAt).getTime() - new Date(created.createdAt).getTime()).toBe(24 * 3_600_000);

    const pending = (await t.as("requester@fabrikam.com", GetRequest, { id: created.id })).accessRequest;
    // The requester sees their request, but not the policy's approval details; the admin sees both.
    expect(pending).toMatchObject({ status: "PENDING", authorization: null, policy: null });
    expect((await t.as("admin@fabrikam.com", GetRequest, { id: created.id })).accessRequest).toMatchObject({
      policy: { id: policy.id },
    });

    // Approve as approver1 with a comment.
    const approved = (
      await t.as("approver1@fabrikam.com", ApproveRequest, {
        input: { requestId: created.id, comment: "Approved for the migration window" },
      })
    ).approveAccessRequest;
    if (approved.__typename !== "AccessRequest") throw new Error(JSON.stringify(approved));
    expect(approved.status).toBe("APPROVED");
    expect(approved.decisions).toEqual([
      {
        approver: { email: "approver1@fabrikam.com" },
        approved: true,
        comment: "Approved for the migration window",
        channel: "API",
      },
    ]);
    expect(approved.authorization?.status).toBe("ACTIVE");
    const window =
      new Date(approved.authorization!.endsAt).getTime() - new Date(approved.authorization!.startsAt).getTime();
    expect(window).toBe(4 * 3_600_000);

    // Run the task three times: all allowed, all logged.
    for (let run = 0; run < 3; run++) {
      const check = (await t.as("requester@fabrikam.com", AuthorizeTask, { input: { task, parameters: { run } } }))
        .authorizeTask;
      expect(check).toMatchObject({
        __typename: "TaskAuthorization",
        allowed: true,
        reason: "ACTIVE_AUTHORIZATION",
        authorization: { id: approved.authorization!.id },
      });
    }
    const afterRuns = (await t.as("requester@fabrikam.com", GetRequest, { id: created.id })).accessRequest;
    expect(afterRuns?.authorization?.executions.totalCount).toBe(3);
    expect(afterRuns?.authorization?.executions.edges.map((edge) => edge.node.reason)).toEqual([
      "ACTIVE_AUTHORIZATION",
      "ACTIVE_AUTHORIZATION",
      "ACTIVE_AUTHORIZATION",
    ]);

    // Revoke, then the next execution is denied.
    const revoked = (
      await t.as("approver2@fabrikam.com", RevokeAuthorization, {
        input: { requestId: created.id, comment: "Migration finished early" },
      })
    ).revokeAccessAuthorization;
    expect(revoked).toMatchObject({
      __typename: "AccessAuthorization",
      status: "REVOKED",
      revokedBy: { email: "approver2@fabrikam.com" },
      revocationComment: "Migration finished early",
    });
    const denied = (await t.as("requester@fabrikam.com", AuthorizeTask, { input: { task } })).authorizeTask;
    expect(denied).toMatchObject({ allowed: false, reason: "NO_AUTHORIZATION", authorization: null });
    expect(await t.db.taskExecution.count({ where: { task, allowed: false } })).toBe(1);

    // Disable the control: the policy is kept, and nothing is gated.
    expect((await t.as("admin@fabrikam.com", DisableControl)).disableElevatedAccessControl).toMatchObject({
      enabled: false,
    });
    const policies = (await t.as("admin@fabrikam.com", ListPolicies)).approvalPolicies;
    expect(policies.edges.map((edge) => edge.node.id)).toEqual([policy.id]);
    const ungated = (await t.as("requester@fabrikam.com", AuthorizeTask, { input: { task } })).authorizeTask;
    expect(ungated).toMatchObject({ allowed: true, reason: "CONTROL_DISABLED" });
    expect((await t.as("auditor@fabrikam.com", ControlState)).elevatedAccessControl.enabled).toBe(false);

    // Remove the policy by its ID.
    const removed = (await t.as("admin@fabrikam.com", RemovePolicy, { input: { id: policy.id } })).removeApprovalPolicy;
    expect(removed).toMatchObject({
      __typename: "ApprovalPolicy",
      id: policy.id,
      approverGroup: { email: group.__typename === "ApproverGroup" ? group.email : "" },
    });
    expect((await t.as("admin@fabrikam.com", ListPolicies)).approvalPolicies.totalCount).toBe(0);

    // Every step left its cmdlet in the audit log.
    const actions = (
      await t.db.auditEvent.findMany({ where: { organization: { name: "Fabrikam" } }, orderBy: { sequence: "asc" } })
    ).map((event) => event.action);
    expect(actions).toEqual([
      ...seededAuditActions,
      "New-DistributionGroup",
      "Enable-ElevatedAccessControl",
      "New-ElevatedAccessApprovalPolicy",
      "New-ElevatedAccessRequest",
      "Approve-ElevatedAccessRequest",
      "Revoke-ElevatedAccessAuthorization",
      "Disable-ElevatedAccessControl",
      "Remove-ElevatedAccessApprovalPolicy",
    ]);
  });
});
