import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyAuditLog } from "../../src/domain/audit/audit.service.ts";
import { jobTable } from "../../src/jobs/queues.ts";
import { graphql } from "../graphql/index.ts";
import { testAuditKeys } from "../helpers/audit-keys.ts";
import { createPolicy, createRequest, enableControl, rawId } from "../helpers/fixtures.ts";
import { decisionLink, startMailingApp } from "../helpers/mail.ts";

// An approver approves for fewer hours than the requester asked for: through the API,
// with the grant, its end job, the audit chain and the requester's mail.

const hour = 3_600_000;
const quorumTarget = "Exchange\\Add-MailboxPermission";
const target = "Exchange\\New-MoveRequest";

const Decide = graphql(`
  mutation ApproveShorter($input: DecideAccessRequestInput!) {
    approveAccessRequest(input: $input) {
      __typename
      ... on AccessRequest {
        status
        durationHours
        decisions {
          approver {
            email
          }
          durationHours
        }
        authorization {
          id
          startsAt
          endsAt
        }
      }
      ...ErrorFields
      ... on ValidationError {
        field
      }
    }
  }
`);

const DenyWithHours = graphql(`
  mutation DenyWithHours($input: DecideAccessRequestInput!) {
    denyAccessRequest(input: $input) {
      __typename
      ...ErrorFields
      ... on ValidationError {
        field
      }
    }
  }
`);

let mailing: Awaited<ReturnType<typeof startMailingApp>>;

beforeAll(async () => {
  mailing = await startMailingApp();
  await enableControl(mailing.t);
  await createPolicy(mailing.t, { target, approvalType: "MANUAL" });
  await createPolicy(mailing.t, { target: quorumTarget, approvalType: "MANUAL", requiredApprovals: 2 });
});

afterAll(async () => {
  await mailing?.close();
});

function windowHours(authorization: { startsAt: string; endsAt: string } | null | undefined): number {
  if (!authorization) throw new Error("no authorization");
  return (new Date(authorization.endsAt).getTime() - new Date(authorization.startsAt).getTime()) / hour;
}

describe("approving for fewer hours than asked", () => {
  it("grants the shorter window, moves the end job with it, audits it and tells the requester", async () => {
    const { t, smtp, runtime } = mailing;
    const requestId = await createRequest(t, target, { durationHours: 4 });
    const approved = (
      await t.as("approver1@fabrikam.com", Decide, { input: { requestId, comment: "two is enough", durationHours: 2 } })
    ).approveAccessRequest;
    if (approved.__typename !== "AccessRequest") throw new Error(JSON.stringify(approved));
    expect(approved.status).toBe("APPROVED");
    // The request keeps what was asked; the decision and the grant carry what was given.
    expect(approved.durationHours).toBe(4);
    expect(approved.decisions).toEqual([{ approver: { email: "approver1@fabrikam.com" }, durationHours: 2 }]);
    expect(windowHours(approved.authorization)).toBe(2);

    const authorizationId = rawId(approved.authorization!.id);
    const end = await runtime.queues.queue("endAuthorization").getJob(jobTable.endAuthorization.jobId(authorizationId));
    // BullMQ stamps the job a millisecond or so after the delay is computed.
    expect(Math.abs(end!.timestamp + end!.delay - new Date(approved.authorization!.endsAt).getTime())).toBeLessThan(
      1000,
    );

    const [mail] = await smtp.messages(
      (message) => message.to === "requester@fabrikam.com" && message.subject.startsWith("Approved"),
    );
    expect(mail!.subject).toBe(`Approved for 2 hours: your access to ${target}`);
    expect(mail!.text).toContain("You asked for 4 hours; the approver shortened it to 2 hours.");

    const [audit] = await t.db.auditEvent.findMany({
      where: { subjectId: rawId(requestId), action: "Approve-ElevatedAccessRequest" },
    });
    expect(audit!.details).toMatchObject({ comment: "two is enough", durationHours: 2, grantedHours: 2 });
    const { organizationId } = await t.db.accessRequest.findUniqueOrThrow({ where: { id: rawId(requestId) } });
    expect(await verifyAuditLog(t.db, testAuditKeys, organizationId)).toMatchObject({ ok: true });
  });

  it("with a quorum, grants the fewest hours any approver gave", async () => {
    const { t } = mailing;
    const requestId = await createRequest(t, quorumTarget, { durationHours: 6 });
    const first = (await t.as("approver1@fabrikam.com", Decide, { input: { requestId, durationHours: 3 } }))
      .approveAccessRequest;
    expect(first).toMatchObject({ __typename: "AccessRequest", status: "PENDING", authorization: null });
    const second = (await t.as("approver2@fabrikam.com", Decide, { input: { requestId } })).approveAccessRequest;
    if (second.__typename !== "AccessRequest") throw new Error(JSON.stringify(second));
    expect(second.status).toBe("APPROVED");
    expect(windowHours(second.authorization)).toBe(3);
  });

  it("refuses more hours than asked, zero, fractions and hours on a denial, naming durationHours and writing nothing", async () => {
    const { t } = mailing;
    const requestId = await createRequest(t, target, { as: "approver2@fabrikam.com", durationHours: 4 });
    const before = await t.db.auditEvent.count();
    for (const durationHours of [5, 0, -1]) {
      const answer = (await t.as("approver1@fabrikam.com", Decide, { input: { requestId, durationHours } }))
        .approveAccessRequest;
      expect(answer, String(durationHours)).toMatchObject({ __typename: "ValidationError", field: "durationHours" });
    }
    const tooMany = (await t.as("approver1@fabrikam.com", Decide, { input: { requestId, durationHours: 5 } }))
      .approveAccessRequest;
    expect(tooMany).toMatchObject({ message: expect.stringContaining("at most the 4 hours asked for") });
    const fraction = await t.request(await t.tokenFor("approver1@fabrikam.com"), Decide, {
      input: { requestId, durationHours: 1.5 },
    });
    expect(fraction.errors?.[0]?.message).toMatch(/Int/);
    const denial = (await t.as("approver1@fabrikam.com", DenyWithHours, { input: { requestId, durationHours: 2 } }))
      .denyAccessRequest;
    expect(denial).toMatchObject({ __typename: "ValidationError", field: "durationHours" });

    const request = await t.db.accessRequest.findUniqueOrThrow({
      where: { id: rawId(requestId) },
      include: { decisions: true },
    });
    expect(request.status).toBe("PENDING");
    expect(request.decisions).toEqual([]);
    expect(await t.db.auditEvent.count()).toBe(before);
  });

  it("through the email link: the confirmation page takes the hours, and refuses more than asked without deciding", async () => {
    const { t, smtp } = mailing;
    const requestId = await createRequest(t, quorumTarget, { as: "approver2@fabrikam.com", durationHours: 3 });
    const [mail] = await smtp.messages(
      (message) => message.to === "approver1@fabrikam.com" && message.text.includes(rawId(requestId)),
    );
    const link = decisionLink(mail!, "Approve");
    const post = async (hours: string) => {
      const page = await fetch(link);
      const html = await page.text();
      expect(html).toContain('<input id="hours" name="hours" type="number" min="1" max="3" step="1">');
      const csrf = html.match(/name="csrf" value="([^"]+)"/)![1]!;
      const cookie = page.headers.get("set-cookie")!.split(";")[0]!;
      const response = await fetch(link, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", cookie, origin: new URL(link).origin },
        body: new URLSearchParams({ csrf, comment: "", hours }).toString(),
      });
      return response.text();
    };
    expect(await post("4")).toContain("durationHours: must be at most the 3 hours asked for");
    expect(await t.db.accessDecision.count({ where: { requestId: rawId(requestId) } })).toBe(0);
    await post("1");
    const decision = await t.db.accessDecision.findFirstOrThrow({ where: { requestId: rawId(requestId) } });
    expect(decision).toMatchObject({ approved: true, channel: "EMAIL", durationHours: 1 });
  });
});
