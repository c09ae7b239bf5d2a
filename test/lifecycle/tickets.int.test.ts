import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { graphql } from "../graphql/index.ts";
import { enableControl, rawId } from "../helpers/fixtures.ts";
import { startMailingApp } from "../helpers/mail.ts";

// Policies that require a ticket reference, optionally matching an admin's pattern:
// through the API, with the approvers' mail and the audit chain.

const target = "Exchange\\New-MoveRequest";
const otherTarget = "Exchange\\Set-Mailbox";

const PolicyWithTicket = graphql(`
  mutation PolicyWithTicket($input: CreateApprovalPolicyInput!) {
    createApprovalPolicy(input: $input) {
      __typename
      ... on ApprovalPolicy {
        id
        ticketRequired
        ticketPattern
      }
      ...ErrorFields
      ... on ValidationError {
        field
      }
    }
  }
`);

const SetTicketPattern = graphql(`
  mutation SetTicketPattern($input: UpdateApprovalPolicyInput!) {
    updateApprovalPolicy(input: $input) {
      __typename
      ... on ApprovalPolicy {
        ticketRequired
        ticketPattern
      }
      ...ErrorFields
      ... on ValidationError {
        field
      }
    }
  }
`);

const FileWithTicket = graphql(`
  mutation FileWithTicket($input: CreateAccessRequestInput!) {
    createAccessRequest(input: $input) {
      __typename
      ... on AccessRequest {
        id
        ticket
      }
      ...ErrorFields
      ... on ValidationError {
        field
      }
    }
  }
`);

const Governed = graphql(`
  query GovernedTickets {
    governedTargets {
      target
      ticketRequired
      ticketPattern
    }
  }
`);

let mailing: Awaited<ReturnType<typeof startMailingApp>>;
let policyId: string;

beforeAll(async () => {
  mailing = await startMailingApp();
  await enableControl(mailing.t);
});

afterAll(async () => {
  await mailing?.close();
});

const admin = "admin@fabrikam.com";
const requester = "requester@fabrikam.com";

describe("ticket references", () => {
  it("refuses patterns RE2 cannot run in linear time, broken ones and long ones, naming ticketPattern", async () => {
    const { t } = mailing;
    const before = await t.db.approvalPolicy.count();
    for (const ticketPattern of ["(INC)\\1", "INC(?=[0-9])", "INC[0-9", "x".repeat(201)]) {
      const answer = (await t.as(admin, PolicyWithTicket, { input: { target, approvalType: "MANUAL", ticketPattern } }))
        .createApprovalPolicy;
      expect(answer, ticketPattern).toMatchObject({ __typename: "ValidationError", field: "ticketPattern" });
    }
    expect(await t.db.approvalPolicy.count()).toBe(before);
  });

  it("a policy that requires a ticket matching INC[0-9]{7}: members see the rule, requests without or off-pattern are refused", async () => {
    const { t } = mailing;
    const created = (
      await t.as(admin, PolicyWithTicket, {
        input: { target, approvalType: "MANUAL", ticketRequired: true, ticketPattern: "INC[0-9]{7}" },
      })
    ).createApprovalPolicy;
    if (created.__typename !== "ApprovalPolicy") throw new Error(JSON.stringify(created));
    policyId = created.id;
    expect(created).toMatchObject({ ticketRequired: true, ticketPattern: "INC[0-9]{7}" });
    expect((await t.as(requester, Governed)).governedTargets).toContainEqual({
      target,
      ticketRequired: true,
      ticketPattern: "INC[0-9]{7}",
    });

    const before = await t.db.accessRequest.count();
    const cases: [string | undefined, RegExp][] = [
      [undefined, /ticket: is required by the request's policy \(matching INC\[0-9\]\{7\}\)/],
      ["INC123", /ticket: must match the policy's pattern INC\[0-9\]\{7\}/],
      // The pattern matches the whole reference, anchors or not.
      ["xINC1234567", /must match/],
      ["   ", /ticket: must not be empty/],
      ["I".repeat(65), /ticket: must be at most 64 characters/],
    ];
    for (const [ticket, message] of cases) {
      const answer = (await t.as(requester, FileWithTicket, { input: { target, reason: "Move a mailbox", ticket } }))
        .createAccessRequest;
      expect(answer, String(ticket)).toMatchObject({ __typename: "ValidationError", field: "ticket" });
      expect((answer as { message: string }).message).toMatch(message);
    }
    expect(await t.db.accessRequest.count()).toBe(before);
  });

  it("a request with a matching ticket carries it to the approvers' mail and the audit chain", async () => {
    const { t, smtp } = mailing;
    const filed = (
      await t.as(requester, FileWithTicket, { input: { target, reason: "Move a mailbox", ticket: "INC0012345" } })
    ).createAccessRequest;
    if (filed.__typename !== "AccessRequest") throw new Error(JSON.stringify(filed));
    expect(filed.ticket).toBe("INC0012345");
    const mails = await smtp.messages(
      (mail) => mail.subject.startsWith("Approval needed") && mail.text.includes("INC0012345"),
    );
    expect(mails[0]!.text).toContain("Ticket:    INC0012345");
    const [audit] = await t.db.auditEvent.findMany({
      where: { subjectId: rawId(filed.id), action: "New-ElevatedAccessRequest" },
    });
    expect(audit!.details).toMatchObject({ ticket: "INC0012345" });
  });

  it("an admin's pathological pattern answers at once: RE2 matches in linear time", async () => {
    const { t } = mailing;
    const created = (
      await t.as(admin, PolicyWithTicket, {
        input: { target: otherTarget, approvalType: "MANUAL", ticketPattern: "(a+)+$" },
      })
    ).createApprovalPolicy;
    expect(created).toMatchObject({ __typename: "ApprovalPolicy", ticketRequired: false });
    // A backtracking engine would take 2^63 steps on this ticket; the answer would never come.
    const answer = (
      await t.as(requester, FileWithTicket, {
        input: { target: otherTarget, reason: "Fix a mailbox", ticket: `${"a".repeat(63)}!` },
      })
    ).createAccessRequest;
    expect(answer).toMatchObject({ __typename: "ValidationError", field: "ticket" });
  });

  it("Set- clears the pattern and keeps the requirement, audited", async () => {
    const { t } = mailing;
    const updated = (await t.as(admin, SetTicketPattern, { input: { id: policyId, ticketPattern: null } }))
      .updateApprovalPolicy;
    expect(updated).toMatchObject({ __typename: "ApprovalPolicy", ticketRequired: true, ticketPattern: null });
    const [audit] = await t.db.auditEvent.findMany({
      where: { subjectId: rawId(policyId), action: "Set-ElevatedAccessApprovalPolicy" },
    });
    expect(audit!.details).toMatchObject({ changes: { ticketPattern: { from: "INC[0-9]{7}", to: null } } });
    const bad = (await t.as(admin, SetTicketPattern, { input: { id: policyId, ticketPattern: "(a)\\1" } }))
      .updateApprovalPolicy;
    expect(bad).toMatchObject({ __typename: "ValidationError", field: "ticketPattern" });
  });
});
