import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyAuditLog } from "../../src/domain/audit/audit.service.ts";
import { jobTable } from "../../src/jobs/queues.ts";
import { graphql } from "../graphql/index.ts";
import { testAuditKeys } from "../helpers/audit-keys.ts";
import { approve, createPolicy, createRequest, enableControl, rawId } from "../helpers/fixtures.ts";
import { startMailingApp } from "../helpers/mail.ts";

// The grantee extends an ACTIVE grant: through the API, decided under the grant's
// policy, with the end job, the approvers' and the grantee's mail and the audit chain.

const hour = 3_600_000;
const manualTarget = "Exchange\\New-MoveRequest";
const autoTarget = "Exchange\\Set-Mailbox";

const Extend = graphql(`
  mutation Extend($input: RequestAccessExtensionInput!) {
    requestAccessExtension(input: $input) {
      __typename
      ... on AccessRequest {
        id
        status
        durationHours
        target
        extendsAuthorization {
          id
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

const EndGrant = graphql(`
  mutation EndGrantBeforeExtension($input: EndAccessAuthorizationInput!) {
    endAccessAuthorization(input: $input) {
      __typename
      ... on AccessAuthorization {
        status
      }
      ...ErrorFields
    }
  }
`);

const requester = "requester@fabrikam.com";
let mailing: Awaited<ReturnType<typeof startMailingApp>>;

beforeAll(async () => {
  mailing = await startMailingApp();
  await enableControl(mailing.t);
  await createPolicy(mailing.t, { target: manualTarget, approvalType: "MANUAL", maxDurationHours: 6 });
  await createPolicy(mailing.t, { target: autoTarget, approvalType: "AUTO" });
});

afterAll(async () => {
  await mailing?.close();
});

async function grantOf(requestId: string) {
  return mailing.t.db.accessAuthorization.findUniqueOrThrow({ where: { requestId: rawId(requestId) } });
}

describe("extending an ACTIVE grant", () => {
  let manualRequestId: string;
  let manualGrantId: string;

  it("MANUAL: the approvers decide it as a request; on approval endsAt and the end job move, the grantee is told", async () => {
    const { t, smtp, runtime } = mailing;
    manualRequestId = await createRequest(t, manualTarget, { durationHours: 2 });
    await approve(t, manualRequestId);
    const grant = await grantOf(manualRequestId);
    manualGrantId = grant.id;

    // The policy's maximum (6 hours) applies to the whole grant.
    const tooLong = (await t.as(requester, Extend, { input: { authorizationId: grant.id, hours: 5, reason: "more" } }))
      .requestAccessExtension;
    expect(tooLong).toMatchObject({ __typename: "ValidationError", field: "hours" });
    expect((tooLong as { message: string }).message).toMatch(/would last 7 hours in all; its policy allows at most 6/);
    const byOther = (
      await t.as("approver2@fabrikam.com", Extend, { input: { authorizationId: grant.id, hours: 1, reason: "x" } })
    ).requestAccessExtension;
    expect(byOther).toMatchObject({ __typename: "ForbiddenError" });

    const filed = (
      await t.as(requester, Extend, { input: { authorizationId: grant.id, hours: 3, reason: "Move takes longer" } })
    ).requestAccessExtension;
    if (filed.__typename !== "AccessRequest") throw new Error(JSON.stringify(filed));
    expect(filed).toMatchObject({ status: "PENDING", durationHours: 3, target: manualTarget });
    expect(rawId(filed.extendsAuthorization!.id)).toBe(grant.id);

    const [asked] = await smtp.messages(
      (mail) => mail.to === "approver1@fabrikam.com" && mail.subject.includes("asks to extend"),
    );
    expect(asked!.text).toContain(`Extension by 3 hours of access that now ends at`);

    const approved = await approve(t, filed.id);
    expect(approved).toMatchObject({ __typename: "AccessRequest", status: "APPROVED" });
    const extended = await grantOf(manualRequestId);
    expect(extended.status).toBe("ACTIVE");
    expect(extended.endsAt.getTime() - grant.endsAt.getTime()).toBe(3 * hour);
    const end = await runtime.queues.queue("endAuthorization").getJob(jobTable.endAuthorization.jobId(grant.id));
    // BullMQ stamps the job a millisecond or so after the delay is computed.
    expect(Math.abs(end!.timestamp + end!.delay - extended.endsAt.getTime())).toBeLessThan(1000);

    const [told] = await smtp.messages((mail) => mail.to === requester && mail.subject.startsWith("Extended:"));
    expect(told!.text).toContain("Your access was extended by 3 hours.");
    const [set] = await t.db.auditEvent.findMany({
      where: { subjectId: grant.id, action: "Set-ElevatedAccessAuthorization" },
    });
    expect(set!.details).toMatchObject({
      extensionRequestId: rawId(filed.id),
      hours: 3,
      endsAt: { from: grant.endsAt.toISOString(), to: extended.endsAt.toISOString() },
    });
    expect(await verifyAuditLog(t.db, testAuditKeys, grant.organizationId)).toMatchObject({ ok: true });
  });

  it("AUTO: extends at once", async () => {
    const { t } = mailing;
    const requestId = await createRequest(t, autoTarget, { durationHours: 1 });
    const grant = await grantOf(requestId);
    const filed = (await t.as(requester, Extend, { input: { authorizationId: grant.id, hours: 2, reason: "more" } }))
      .requestAccessExtension;
    expect(filed).toMatchObject({ __typename: "AccessRequest", status: "APPROVED" });
    expect((await grantOf(requestId)).endsAt.getTime() - grant.endsAt.getTime()).toBe(2 * hour);
  });

  it("ending the grant cancels its pending extension, which then cannot be approved", async () => {
    const { t } = mailing;
    const filed = (
      await t.as(requester, Extend, { input: { authorizationId: manualGrantId, hours: 1, reason: "one more" } })
    ).requestAccessExtension;
    if (filed.__typename !== "AccessRequest") throw new Error(JSON.stringify(filed));
    expect(filed.status).toBe("PENDING");
    const ended = (await t.as(requester, EndGrant, { input: { authorizationId: manualGrantId } }))
      .endAccessAuthorization;
    expect(ended).toMatchObject({ status: "ENDED" });
    const extension = await t.db.accessRequest.findUniqueOrThrow({ where: { id: rawId(filed.id) } });
    expect(extension.status).toBe("CANCELED");
    expect(await approve(t, filed.id)).toMatchObject({ __typename: "AlreadyDecidedError" });
    const late = (
      await t.as(requester, Extend, { input: { authorizationId: manualGrantId, hours: 1, reason: "late" } })
    ).requestAccessExtension;
    expect(late).toMatchObject({ __typename: "ConflictError", message: "authorization is already ENDED" });
  });
});
