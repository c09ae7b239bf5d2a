import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyAuditLog } from "../../src/domain/audit/audit.service.ts";
import { createEventBus } from "../../src/events/event-bus.ts";
import { jobTable } from "../../src/jobs/queues.ts";
import { graphql } from "../graphql/index.ts";
import { testAuditKeys } from "../helpers/audit-keys.ts";
import { approve, checkTask, createPolicy, createRequest, enableControl, rawId } from "../helpers/fixtures.ts";
import { target } from "../helpers/jobs.ts";
import { startMailingApp } from "../helpers/mail.ts";
import { waitFor } from "../helpers/processes.ts";
import { isRefusal, type Subscriber, subscribeSse } from "../subscriptions/clients.ts";

const EndAuthorization = graphql(`
  mutation EndAuthorization($input: EndAccessAuthorizationInput!) {
    endAccessAuthorization(input: $input) {
      __typename
      ... on AccessAuthorization {
        id
        status
        endsAt
        endedAt
        endComment
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

const _until = (at: Date) => sleep(Math.max(0, at.getTime() - Date.now()));

describe("the grantee ends their own grant early, through the API", () => {
  let mailing: Awaited<ReturnType<typeof startMailingApp>>;
  let subscriber: Subscriber | undefined;

  beforeAll(async () => {
    mailing = await startMailingApp({ events: createEventBus() });
    await enableControl(mailing.t);
    await createPolicy(mailing.t, { target, approvalType: "MANUAL" });
  });

  afterAll(async () => {
    await subscriber?.close();
    await mailing?.close();
  });

  it("ends it at once: ENDED with the reason, end job gone, audit event, ENDED event, one mail, access refused", async () => {
    const { t, smtp, runtime } = mailing;
    const requestId = await createRequest(t, target, { durationHours: 2 });
    const approved = await approve(t, requestId);
    if (approved.__typename !== "AccessRequest" || !approved.authorization) throw new Error("not approved");
    const authorizationId = approved.authorization.id;
    const uuid = rawId(authorizationId);
    const endJob = () => runtime.queues.queue("endAuthorization").getJob(jobTable.endAuthorization.jobId(uuid));
    expect(await endJob()).toBeDefined();

    const stream = await subscribeSse(mailing.publicUrl, await t.tokenFor("requester@fabrikam.com"), { requestId });
    if (isRefusal(stream)) throw new Error(`subscription refused: ${stream.body}`);
    subscriber = stream;

    // Approvers and admins revoke; ending early is the grantee's own act.
    const byApprover = (await t.as("approver1@fabrikam.com", EndAuthorization, { input: { authorizationId } }))
      .endAccessAuthorization;
    expect(byApprover).toMatchObject({ __typename: "ForbiddenError", code: "FORBIDDEN" });

    const ended = (
      await t.as("requester@fabrikam.com", EndAuthorization, {
        input: { authorizationId, reason: "Mailbox moved, done" },
      })
    ).endAccessAuthorization;
    if (ended.__typename !== "AccessAuthorization") throw new Error(JSON.stringify(ended));
    expect(ended.status).toBe("ENDED");
    expect(ended.endComment).toBe("Mailbox moved, done");
    expect(new Date(ended.endedAt!).getTime()).toBeLessThan(new Date(ended.endsAt).getTime());

    expect(await endJob()).toBeUndefined();
    expect(await checkTask(t, "requester@fabrikam.com", target)).toMatchObject({ allowed: false });

    const [mail] = await smtp.messages(
      (message) => message.to === "requester@fabrikam.com" && message.subject.startsWith("Ended:"),
    );
    expect(mail!.text).toContain("You ended your access early, at");
    expect(mail!.text).toContain("> Mailbox moved, done");

    await waitFor("the ENDED event", async () => stream.events.some((event) => event.type === "ENDED"));
    expect(stream.events.filter((event) => event.type === "ENDED")).toHaveLength(1);

    const audit = await t.db.auditEvent.findMany({ where: { subjectId: uuid } });
    expect(audit.map((event) => [event.action, event.details])).toEqual([
      ["Stop-ElevatedAccessAuthorization", { requestId: rawId(requestId), reason: "Mailbox moved, done" }],
    ]);

    // Once ended, it stays ended: a second try is a conflict and changes nothing.
    const again = (await t.as("requester@fabrikam.com", EndAuthorization, { input: { authorizationId } }))
      .endAccessAuthorization;
    expect(again).toMatchObject({ __typename: "ConflictError", message: "authorization is already ENDED" });
    expect(await t.db.auditEvent.count({ where: { subjectId: uuid } })).toBe(1);
    const outbox = await t.db.emailMessage.findMany({ where: { authorizationId: uuid, template: "access-ended" } });
    expect(outbox.map((message) => message.status)).toEqual(["SENT"]);
    expect(smtp.received.filter((message) => message.subject.startsWith("Ended:"))).toHaveLength(1);
    const { organizationId } = await t.db.accessAuthorization.findUniqueOrThrow({ where: { id: uuid } });
    expect(await verifyAuditLog(t.db, testAuditKeys, organizationId)).toMatchObject({ ok: true });
  });

  it("names the field of bad input and writes nothing", async () => {
    const { t } = mailing;
    const before = await t.db.auditEvent.count();
    const badId = (await t.as("requester@fabrikam.com", EndAuthorization, { input: { authorizationId: "nope" } }))
      .endAccessAuthorization;
    expect(badId).toMatchObject({ __typename: "ValidationError", field: "authorizationId" });
    const unknown = (
      await t.as("requester@fabrikam.com", EndAuthorization, {
        input: { authorizationId: "00000000-0000-4000-8000-000000000000" },
      })
    ).endAccessAuthorization;
    expect(unknown).toMatchObject({ __typename: "NotFoundError", field: "authorizationId" });
    const longReason = (
      await t.as("requester@fabrikam.com", EndAuthorization, {
        input: { authorizationId: "00000000-0000-4000-8000-000000000000", reason: "x".repeat(2001) },
      })
    ).endAccessAuthorization;
    expect(longReason).toMatchObject({ __typename: "ValidationError", field: "reason" });
    expect(await t.db.auditEvent.count()).toBe(before);
  });
});
