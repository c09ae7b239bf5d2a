import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AutoApprovalConditionsInput, Weekday } from "../graphql/graphql.ts";
import { graphql } from "../graphql/index.ts";
import { CreateApproverGroup, EnableControl } from "../helpers/documents.ts";
import type { SmtpServer } from "../helpers/mail.ts";
import { type MailingApi, startMailingApi } from "../helpers/mailing-api.ts";
import { expectType } from "../subscriptions/clients.ts";

// Issue 17, conditional auto-approval: each condition met (the request is approved at
// once, an AUTO grant) and not met (the policy's approvers are mailed), against an API
// process with its jobs and a real SMTP server.

const ConditionalPolicy = graphql(`
  mutation ConditionalPolicy($input: CreateApprovalPolicyInput!) {
    createApprovalPolicy(input: $input) {
      __typename
      ... on ApprovalPolicy {
        id
        identity
        autoApproveWhen {
          requesterInGroup {
            email
          }
          maxDurationHours
          window {
            days
            start
            end
          }
          ticketGiven
        }
      }
      ...ErrorFields
      ... on ValidationError {
        field
      }
    }
  }
`);

const ChangeConditions = graphql(`
  mutation ChangeConditions($input: UpdateApprovalPolicyInput!) {
    updateApprovalPolicy(input: $input) {
      __typename
      ... on ApprovalPolicy {
        autoApproveWhen {
          window {
            start
            end
          }
        }
      }
      ...ErrorFields
    }
  }
`);

const SetTimeZone = graphql(`
  mutation SetTimeZone($input: UpdateElevatedAccessControlInput!) {
    updateElevatedAccessControl(input: $input) {
      __typename
      ... on ElevatedAccessControl {
        timeZone
      }
      ...ErrorFields
      ... on ValidationError {
        field
      }
    }
  }
`);

const FileRequest = graphql(`
  mutation ConditionalFile($input: CreateAccessRequestInput!) {
    createAccessRequest(input: $input) {
      __typename
      ... on AccessRequest {
        id
        identity
        status
        approvalType
        authorization {
          status
        }
      }
      ...ErrorFields
    }
  }
`);

const ConditionalAudit = graphql(`
  query ConditionalAudit {
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
const as: MailingApi["as"] = (email, document, variables) => session.as(email, document, variables);

const admin = "admin@fabrikam.com";

async function policy(input: {
  target: string;
  approvalType?: "MANUAL" | "AUTO";
  autoApproveWhen: AutoApprovalConditionsInput;
}) {
  return (await as(admin, ConditionalPolicy, { input: { approvalType: "MANUAL", ...input } })).createApprovalPolicy;
}

async function file(email: string, target: string, durationHours = 1) {
  return expectType(
    (await as(email, FileRequest, { input: { target, reason: "Conditional auto-approval test", durationHours } }))
      .createAccessRequest,
    "AccessRequest",
  );
}

/** The approval mail of a request that fell back to its approvers. */
const approvalMail = (requestId: string) =>
  smtp.messages((mail) => mail.subject.startsWith("Approval needed") && mail.text.includes(`/requests/${requestId}`));

async function auditOf(subjectId: string) {
  const { auditEvents, verifyAuditLog } = await as(admin, ConditionalAudit);
  expect(verifyAuditLog.ok).toBe(true);
  return auditEvents.edges.map(({ node }) => node).filter((event) => event.subjectId === subjectId);
}

/**
 * A fixed-offset zone (Etc/GMT-N is UTC+N) where it is now between 11:00 and 13:00, so
 * windows around noon hold (or do not) however long the test takes.
 */
function zoneAroundNoon(): string {
  const offset = 12 - new Date().getUTCHours();
  return offset === 0 ? "Etc/UTC" : `Etc/GMT${offset > 0 ? "-" : "+"}${Math.abs(offset)}`;
}

beforeAll(async () => {
  session = await startMailingApi("auto-approval");
  smtp = session.smtp;
  expectType(
    (await as(admin, EnableControl, { input: { adminGroup: "pamapprovers@fabrikam.com" } }))
      .enableElevatedAccessControl,
    "ElevatedAccessControl",
  );
  expectType(
    (
      await as(admin, CreateApproverGroup, {
        input: { name: "On call", email: "oncall@fabrikam.com", memberEmails: ["requester@fabrikam.com"] },
      })
    ).createApproverGroup,
    "ApproverGroup",
  );
});

afterAll(async () => {
  await session?.close();
});

describe("conditional auto-approval", () => {
  it("approves a member of the named group at once and sends anyone else to the approvers", async () => {
    const created = expectType(
      await policy({
        target: "Exchange\\New-MoveRequest",
        autoApproveWhen: { requesterInGroup: "oncall@fabrikam.com" },
      }),
      "ApprovalPolicy",
    );
    expect(created.autoApproveWhen).toEqual({
      requesterInGroup: { email: "oncall@fabrikam.com" },
      maxDurationHours: null,
      window: null,
      ticketGiven: false,
    });
    const member = await file("requester@fabrikam.com", "Exchange\\New-MoveRequest");
    expect(member).toMatchObject({ status: "APPROVED", approvalType: "AUTO", authorization: { status: "ACTIVE" } });
    await smtp.messages((mail) => mail.to === "requester@fabrikam.com" && mail.text.includes(member.identity));
    expect((await auditOf(member.identity)).map((event) => [event.action, event.details])).toEqual(
      expect.arrayContaining([
        ["New-ElevatedAccessRequest", expect.objectContaining({ autoApproval: { met: true, unmet: [] } })],
        ["Approve-ElevatedAccessRequest", expect.objectContaining({ channel: "AUTO", by: "conditions" })],
      ]),
    );

    const outsider = await file("approver1@fabrikam.com", "Exchange\\New-MoveRequest");
    expect(outsider).toMatchObject({ status: "PENDING", approvalType: "MANUAL", authorization: null });
    const mails = await approvalMail(outsider.identity);
    expect(mails.map((mail) => mail.to)).toContain("approver2@fabrikam.com");
    const [filed] = await auditOf(outsider.identity);
    expect(filed?.details).toMatchObject({ autoApproval: { met: false, unmet: ["requesterInGroup"] } });
  });

  it("approves at most N hours at once, and asks the approvers for more", async () => {
    expectType(
      await policy({ target: "Exchange\\Set-Mailbox", autoApproveWhen: { maxDurationHours: 2 } }),
      "ApprovalPolicy",
    );
    expect(await file("requester@fabrikam.com", "Exchange\\Set-Mailbox", 2)).toMatchObject({ status: "APPROVED" });
    const longer = await file("requester@fabrikam.com", "Exchange\\Set-Mailbox", 3);
    expect(longer.status).toBe("PENDING");
    await approvalMail(longer.identity);
    const [filed] = await auditOf(longer.identity);
    expect(filed?.details).toMatchObject({ autoApproval: { met: false, unmet: ["maxDurationHours"] } });
  });

  it("approves inside a weekly window in the organization's time zone, and not outside it", async () => {
    const zone = zoneAroundNoon();
    expect(
      expectType(
        (await as(admin, SetTimeZone, { input: { timeZone: zone } })).updateElevatedAccessControl,
        "ElevatedAccessControl",
      ).timeZone,
    ).toBe(zone);
    const everyDay: Weekday[] = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];
    const created = expectType(
      await policy({
        target: "Exchange\\Search-Mailbox",
        autoApproveWhen: { window: { days: everyDay, start: "10:00", end: "14:00" } },
      }),
      "ApprovalPolicy",
    );
    expect(await file("requester@fabrikam.com", "Exchange\\Search-Mailbox")).toMatchObject({ status: "APPROVED" });

    const moved = expectType(
      (
        await as(admin, ChangeConditions, {
          input: { id: created.id, autoApproveWhen: { window: { days: everyDay, start: "14:00", end: "16:00" } } },
        })
      ).updateApprovalPolicy,
      "ApprovalPolicy",
    );
    expect(moved.autoApproveWhen?.window).toEqual({ start: "14:00", end: "16:00" });
    const changes = (await auditOf(created.identity)).find(
      (event) => event.action === "Set-ElevatedAccessApprovalPolicy",
    );
    expect(changes?.details).toMatchObject({
      changes: {
        autoApproveWhen: {
          from: { window: { start: "10:00", end: "14:00" } },
          to: { window: { start: "14:00", end: "16:00" } },
        },
      },
    });
    const outside = await file("approver1@fabrikam.com", "Exchange\\Search-Mailbox");
    expect(outside.status).toBe("PENDING");
    await approvalMail(outside.identity);
    const [filed] = await auditOf(outside.identity);
    expect(filed?.details).toMatchObject({ autoApproval: { met: false, unmet: ["window"] } });
  });

  it("approves a request that gives a ticket at once, and sends one without to the approvers", async () => {
    const target = "Exchange\\New-MailboxSearch";
    const created = expectType(await policy({ target, autoApproveWhen: { ticketGiven: true } }), "ApprovalPolicy");
    expect(created.autoApproveWhen).toMatchObject({ ticketGiven: true, maxDurationHours: null });
    const [withTicket, withoutTicket] = [
      { as: "requester@fabrikam.com", ticket: "INC0012345" },
      { as: "approver1@fabrikam.com", ticket: null },
    ];
    const given = expectType(
      (
        await as(withTicket.as, FileRequest, {
          input: { target, reason: "Ticketed change", durationHours: 1, ticket: withTicket.ticket },
        })
      ).createAccessRequest,
      "AccessRequest",
    );
    expect(given).toMatchObject({ status: "APPROVED", approvalType: "AUTO", authorization: { status: "ACTIVE" } });
    const none = await file(withoutTicket.as, target);
    expect(none).toMatchObject({ status: "PENDING", approvalType: "MANUAL" });
    await approvalMail(none.identity);
    const [filed] = await auditOf(none.identity);
    expect(filed?.details).toMatchObject({ autoApproval: { met: false, unmet: ["ticketGiven"] } });

    // Changing the condition is audited with what it was and what it is.
    expectType(
      (await as(admin, ChangeConditions, { input: { id: created.id, autoApproveWhen: { maxDurationHours: 1 } } }))
        .updateApprovalPolicy,
      "ApprovalPolicy",
    );
    const changes = (await auditOf(created.identity)).find(
      (event) => event.action === "Set-ElevatedAccessApprovalPolicy",
    );
    expect(changes?.details).toMatchObject({
      changes: { autoApproveWhen: { from: { ticketGiven: true }, to: { ticketGiven: false, maxDurationHours: 1 } } },
    });
    const refused = expectType(
      await policy({ target: "Exchange\\New-Mailbox", autoApproveWhen: { ticketGiven: false } }),
      "ValidationError",
    );
    expect(refused.message).toContain("must name at least one condition");
  });

  it("refuses bad conditions and time zones naming the field, writing nothing", async () => {
    const policies = await session.db.approvalPolicy.count();
    const backwards = expectType(
      await policy({
        target: "Exchange\\New-Mailbox",
        autoApproveWhen: { window: { days: ["MON"], start: "17:00", end: "09:00" } },
      }),
      "ValidationError",
    );
    expect(backwards).toMatchObject({ code: "VALIDATION", field: "autoApproveWhen.window.end" });
    const onAuto = expectType(
      await policy({ target: "Exchange\\New-Mailbox", approvalType: "AUTO", autoApproveWhen: { maxDurationHours: 1 } }),
      "ValidationError",
    );
    expect(onAuto.field).toBe("autoApproveWhen");
    const empty = expectType(await policy({ target: "Exchange\\New-Mailbox", autoApproveWhen: {} }), "ValidationError");
    expect(empty.field).toBe("autoApproveWhen");
    const unknownGroup = expectType(
      await policy({ target: "Exchange\\New-Mailbox", autoApproveWhen: { requesterInGroup: "nobody@fabrikam.com" } }),
      "NotFoundError",
    );
    expect(unknownGroup.message).toContain("autoApproveWhen.requesterInGroup");
    expect(await session.db.approvalPolicy.count()).toBe(policies);
    const zone = expectType(
      (await as(admin, SetTimeZone, { input: { timeZone: "Mars/Olympus" } })).updateElevatedAccessControl,
      "ValidationError",
    );
    expect(zone.field).toBe("timeZone");
  });
});
