import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../src/db/client.ts";
import { graphql } from "../graphql/index.ts";
import { CreateApproverGroup, EnableControl } from "../helpers/documents.ts";
import { rawId } from "../helpers/fixtures.ts";
import { decisionLink, type SmtpServer, submitDecision } from "../helpers/mail.ts";
import { type MailingApi, startMailingApi } from "../helpers/mailing-api.ts";
import { waitFor } from "../helpers/processes.ts";
import { expectType, isRefusal, type Subscriber, subscribeSse } from "../subscriptions/clients.ts";

// Issue 17, multi-stage approval: a two-stage policy (team leads, 1 approval; then
// security, 2 approvals) against an API process with its jobs and a real SMTP server.
// Mail goes out stage by stage, an approver of both stages counts once, a denial at
// stage 2 denies, and each completed stage is an event and an audit entry.

const StagedPolicy = graphql(`
  mutation StagedPolicy($input: CreateApprovalPolicyInput!) {
    createApprovalPolicy(input: $input) {
      __typename
      ... on ApprovalPolicy {
        id
        identity
        approverGroup {
          email
        }
        requiredApprovals
        stages {
          position
          approverGroup {
            email
          }
          requiredApprovals
        }
      }
      ...ErrorFields
      ... on ValidationError {
        field
      }
    }
  }
`);

const StagedFile = graphql(`
  mutation StagedFile($input: CreateAccessRequestInput!) {
    createAccessRequest(input: $input) {
      __typename
      ... on AccessRequest {
        id
        identity
        status
        stage
        stageCount
      }
      ...ErrorFields
    }
  }
`);

const StagedApprove = graphql(`
  mutation StagedApprove($input: DecideAccessRequestInput!) {
    approveAccessRequest(input: $input) {
      __typename
      ... on AccessRequest {
        status
        stage
        requiredApprovals
        approverGroup {
          email
        }
        nextStages {
          position
        }
        decisions {
          approver {
            email
          }
          approved
          stage
        }
      }
      ...ErrorFields
    }
  }
`);

const StagedDeny = graphql(`
  mutation StagedDeny($input: DecideAccessRequestInput!) {
    denyAccessRequest(input: $input) {
      __typename
      ... on AccessRequest {
        status
        stage
      }
      ...ErrorFields
    }
  }
`);

const StagedUpdate = graphql(`
  mutation StagedUpdate($input: UpdateApprovalPolicyInput!) {
    updateApprovalPolicy(input: $input) {
      __typename
      ...ErrorFields
      ... on ValidationError {
        field
      }
    }
  }
`);

const StagedAudit = graphql(`
  query StagedAudit {
    auditEvents(first: 100, order: NEWEST_FIRST) {
      edges {
        node {
          action
          subjectId
          details
        }
      }
    }
    verifyAuditLog {
      ok
    }
  }
`);

let session: MailingApi;
let smtp: SmtpServer;
let db: Db;
let events: Subscriber;
let twoStage: { id: string; approverGroup: { email: string }; requiredApprovals: number; stages: unknown[] };

const as: MailingApi["as"] = (email, document, variables) => session.as(email, document, variables);

const admin = "admin@fabrikam.com";
const lead = "approver1@fabrikam.com"; // in both groups
const security = ["approver1@fabrikam.com", "approver2@fabrikam.com", "auditor@fabrikam.com"];

/** Who the outbox holds approval mail for, for a request: written in the decision's own transaction. */
async function approvalRecipients(requestId: string): Promise<string[]> {
  const rows = await db.emailMessage.findMany({
    where: { requestId: rawId(requestId), template: "approval-needed" },
    select: { recipient: { select: { email: true } } },
  });
  return rows.map((row) => row.recipient.email).sort();
}

const mailed = (to: string, requestId: string) =>
  smtp.messages(
    (mail) => mail.to === to && mail.subject.startsWith("Approval needed") && mail.text.includes(requestId),
  );

async function file(target: string) {
  return expectType(
    (await as("requester@fabrikam.com", StagedFile, { input: { target, reason: "Two-stage approval test" } }))
      .createAccessRequest,
    "AccessRequest",
  );
}

beforeAll(async () => {
  session = await startMailingApi("multi-stage");
  ({ smtp, db } = session);
  expectType(
    (await as(admin, EnableControl, { input: { adminGroup: "pamapprovers@fabrikam.com" } }))
      .enableElevatedAccessControl,
    "ElevatedAccessControl",
  );
  for (const [name, email, memberEmails] of [
    ["Team leads", "leads@fabrikam.com", [lead]],
    ["Security", "security@fabrikam.com", security],
  ] as const) {
    expectType(
      (await as(admin, CreateApproverGroup, { input: { name, email, memberEmails: [...memberEmails] } }))
        .createApproverGroup,
      "ApproverGroup",
    );
  }
  for (const target of ["Exchange\\New-MoveRequest", "Exchange\\Set-Mailbox"]) {
    twoStage = expectType(
      (
        await as(admin, StagedPolicy, {
          input: {
            target,
            approvalType: "MANUAL",
            stages: [
              { approverGroup: "leads@fabrikam.com", requiredApprovals: 1 },
              { approverGroup: "security@fabrikam.com", requiredApprovals: 2 },
            ],
          },
        })
      ).createApprovalPolicy,
      "ApprovalPolicy",
    );
  }
  const subscribed = await subscribeSse(session.api.url, await session.tokenOf("requester@fabrikam.com"));
  if (isRefusal(subscribed)) throw new Error(`subscription refused: ${subscribed.status} ${subscribed.body}`);
  events = subscribed;
});

afterAll(async () => {
  await events?.close();
  await session?.close();
});

describe("multi-stage approval", () => {
  it("shows a policy's stages, the first being its own group and quorum, and refuses stages mixed with those", async () => {
    expect(twoStage).toMatchObject({
      approverGroup: { email: "leads@fabrikam.com" },
      requiredApprovals: 1,
      stages: [
        { position: 1, approverGroup: { email: "leads@fabrikam.com" }, requiredApprovals: 1 },
        { position: 2, approverGroup: { email: "security@fabrikam.com" }, requiredApprovals: 2 },
      ],
    });
    const mixed = expectType(
      (
        await as(admin, StagedPolicy, {
          input: {
            target: "Exchange\\New-Mailbox",
            approvalType: "MANUAL",
            approverGroup: "leads@fabrikam.com",
            stages: [{ approverGroup: "security@fabrikam.com" }],
          },
        })
      ).createApprovalPolicy,
      "ValidationError",
    );
    expect(mixed.field).toBe("stages");
    const unknown = expectType(
      (
        await as(admin, StagedPolicy, {
          input: {
            target: "Exchange\\New-Mailbox",
            approvalType: "MANUAL",
            stages: [{ approverGroup: "x@fabrikam.com" }],
          },
        })
      ).createApprovalPolicy,
      "NotFoundError",
    );
    expect(unknown.message).toContain("stages.0.approverGroup");
    const toAuto = expectType(
      (await as(admin, StagedUpdate, { input: { id: twoStage.id, approvalType: "AUTO" } })).updateApprovalPolicy,
      "ValidationError",
    );
    expect(toAuto.field).toBe("approvalType");
    expect(await db.approvalPolicy.count({ where: { target: "Exchange\\New-Mailbox" } })).toBe(0);
  });

  it("mails stage by stage, counts an approver of both stages once, and approves at stage 2's quorum", async () => {
    const request = await file("Exchange\\New-MoveRequest");
    expect(request).toMatchObject({ status: "PENDING", stage: 1, stageCount: 2 });
    // Only the first stage's approvers are asked while it is open.
    expect(await approvalRecipients(request.id)).toEqual([lead]);
    await mailed(lead, request.identity);

    const first = expectType(
      (await as(lead, StagedApprove, { input: { requestId: request.id } })).approveAccessRequest,
      "AccessRequest",
    );
    expect(first).toMatchObject({
      status: "PENDING",
      stage: 2,
      requiredApprovals: 2,
      approverGroup: { email: "security@fabrikam.com" },
      nextStages: [],
    });
    // Stage 2's approvers are mailed now, except the lead who already decided.
    expect(await approvalRecipients(request.id)).toEqual([
      "approver1@fabrikam.com",
      "approver2@fabrikam.com",
      "auditor@fabrikam.com",
    ]);
    await mailed("approver2@fabrikam.com", request.identity);
    await mailed("auditor@fabrikam.com", request.identity);

    const twice = expectType(
      (await as(lead, StagedApprove, { input: { requestId: request.id } })).approveAccessRequest,
      "ConflictError",
    );
    expect(twice.message).toContain("already decided");

    const second = expectType(
      (await as("approver2@fabrikam.com", StagedApprove, { input: { requestId: request.id } })).approveAccessRequest,
      "AccessRequest",
    );
    expect(second).toMatchObject({ status: "PENDING", stage: 2 });
    const done = expectType(
      (await as("auditor@fabrikam.com", StagedApprove, { input: { requestId: request.id } })).approveAccessRequest,
      "AccessRequest",
    );
    expect(done.status).toBe("APPROVED");
    expect(done.decisions.map((decision) => [decision.approver.email, decision.stage])).toEqual([
      [lead, 1],
      ["approver2@fabrikam.com", 2],
      ["auditor@fabrikam.com", 2],
    ]);

    const { auditEvents, verifyAuditLog } = await as(admin, StagedAudit);
    expect(verifyAuditLog.ok).toBe(true);
    const stageEvents = auditEvents.edges
      .map(({ node }) => node)
      .filter(
        (event) => event.subjectId === request.identity && event.action === "Complete-ElevatedAccessRequestStage",
      );
    expect(stageEvents.map((event) => event.details)).toEqual([
      { stage: 1, approvals: 1, nextStage: 2, approverGroup: "security@fabrikam.com", requiredApprovals: 2 },
    ]);
    const seen = await waitFor("the request's APPROVED event", async () => {
      const types = events.events.filter((event) => event.requestId === request.id).map((event) => event.type);
      return types.includes("APPROVED") ? types : null;
    });
    expect(seen.indexOf("STAGE_COMPLETED")).toBeGreaterThanOrEqual(0);
    expect(seen.indexOf("STAGE_COMPLETED")).toBeLessThan(seen.indexOf("APPROVED"));
  });

  it("completes stage 1 through the lead's email link, then denies at stage 2 on one denial", async () => {
    const request = await file("Exchange\\Set-Mailbox");
    const [mail] = await mailed(lead, request.identity);
    const page = await submitDecision(decisionLink(mail!, "Approve"));
    expect(page.status).toBe(200);
    // The page counts the stage the request is at now: stage 2 starts with none of its 2.
    expect(page.html).toContain("Approval recorded");
    expect(page.html).toContain("<dd>0 of 2</dd>");
    expect(await db.accessRequest.findUniqueOrThrow({ where: { id: rawId(request.id) } })).toMatchObject({ stage: 2 });
    const denied = expectType(
      (await as("approver2@fabrikam.com", StagedDeny, { input: { requestId: request.id } })).denyAccessRequest,
      "AccessRequest",
    );
    expect(denied).toMatchObject({ status: "DENIED", stage: 2 });
    await smtp.messages((mail) => mail.to === "requester@fabrikam.com" && mail.subject.startsWith("Denied"));
    expect(await db.accessAuthorization.count({ where: { requestId: rawId(request.id) } })).toBe(0);
  });
});
