import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jobTable } from "../../src/jobs/queues.ts";
import { graphql } from "../graphql/index.ts";
import { approve, checkTask, createPolicy, enableControl, rawId, targetsOf } from "../helpers/fixtures.ts";
import { reconcilerFor } from "../helpers/jobs.ts";
import { startMailingApp } from "../helpers/mail.ts";
import { waitFor } from "../helpers/processes.ts";

// A request asks for access starting later: approved before then, the grant is
// SCHEDULED and becomes ACTIVE at startsAt (a delayed job, the reconciler as backstop);
// authorizeTask allows only inside [startsAt, endsAt).

const hour = 3_600_000;
const day = 24 * hour;
const requester = "requester@fabrikam.com";

const FileScheduled = graphql(`
  mutation FileScheduled($input: CreateAccessRequestInput!) {
    createAccessRequest(input: $input) {
      __typename
      ... on AccessRequest {
        id
        startsAt
        expiresAt
        createdAt
      }
      ...ErrorFields
      ... on ValidationError {
        field
      }
    }
  }
`);

let mailing: Awaited<ReturnType<typeof startMailingApp>>;
const targets = ["Exchange\\New-MoveRequest", "Exchange\\Set-Mailbox", "Exchange\\Add-MailboxPermission"];

beforeAll(async () => {
  mailing = await startMailingApp();
  await enableControl(mailing.t);
  for (const target of targets) await createPolicy(mailing.t, { target, approvalType: "MANUAL" });
  await createPolicy(mailing.t, { type: "ROLE_GROUP", target: "Recipient Management", approvalType: "MANUAL" });
});

afterAll(async () => {
  await mailing?.close();
});

async function fileScheduled(target: string, startsAt: Date, as = requester) {
  const filed = (
    await mailing.t.as(as, FileScheduled, {
      input: { target, reason: "Planned maintenance", durationHours: 1, startsAt: startsAt.toISOString() },
    })
  ).createAccessRequest;
  if (filed.__typename !== "AccessRequest") throw new Error(JSON.stringify(filed));
  return filed;
}

const until = (at: Date) => sleep(Math.max(0, at.getTime() - Date.now()));

const grantOf = (requestId: string) =>
  mailing.t.db.accessAuthorization.findUniqueOrThrow({ where: { requestId: rawId(requestId) } });
const startJob = (authorizationId: string) =>
  mailing.runtime.queues.queue("activateAuthorization").getJob(jobTable.activateAuthorization.jobId(authorizationId));

describe("scheduled start", () => {
  it("approved before its start: SCHEDULED and refused until startsAt, then ACTIVE by its start job and allowed", async () => {
    const { t, smtp } = mailing;
    const target = targets[0]!;
    const startsAt = new Date(Date.now() + 8000);
    const filed = await fileScheduled(target, startsAt);
    expect(new Date(filed.startsAt!).getTime()).toBe(startsAt.getTime());
    // The request's lifetime runs from its filing, as for every request.
    expect(new Date(filed.expiresAt).getTime() - new Date(filed.createdAt).getTime()).toBe(day);

    await approve(t, filed.id);
    const grant = await grantOf(filed.id);
    expect(grant).toMatchObject({ status: "SCHEDULED", startsAt });
    expect(grant.endsAt.getTime()).toBe(startsAt.getTime() + hour);
    const job = await startJob(grant.id);
    // BullMQ stamps the job a millisecond or so after the delay is computed.
    expect(Math.abs(job!.timestamp + job!.delay - startsAt.getTime())).toBeLessThan(1000);
    expect(await checkTask(t, requester, target)).toMatchObject({ allowed: false, reason: "NO_AUTHORIZATION" });
    const [mail] = await smtp.messages((message) => message.to === requester && message.subject.startsWith("Approved"));
    expect(mail!.text).toContain(`From:      ${startsAt.toISOString().slice(0, 10)}`);

    await waitFor("the grant to start", async () => (await grantOf(filed.id)).status === "ACTIVE", {
      timeoutMs: 20_000,
    });
    expect(Date.now()).toBeGreaterThanOrEqual(startsAt.getTime());
    expect(await checkTask(t, requester, target)).toMatchObject({ allowed: true, reason: "ACTIVE_AUTHORIZATION" });
    const audit = await t.db.auditEvent.findMany({ where: { subjectId: grant.id } });
    expect(audit.map((event) => event.action)).toEqual(["Start-ElevatedAccessAuthorization"]);
  });

  it("approved after its requested start (approval racing the start): ACTIVE at once, from the approval", async () => {
    const { t } = mailing;
    const target = targets[1]!;
    const startsAt = new Date(Date.now() + 1500);
    const filed = await fileScheduled(target, startsAt);
    await sleep(startsAt.getTime() - Date.now() + 100);
    await approve(t, filed.id);
    const grant = await grantOf(filed.id);
    const request = await t.db.accessRequest.findUniqueOrThrow({ where: { id: rawId(filed.id) } });
    expect(grant.status).toBe("ACTIVE");
    expect(grant.startsAt).toEqual(request.decidedAt);
    expect(grant.endsAt.getTime() - grant.startsAt.getTime()).toBe(hour);
    expect(await startJob(grant.id)).toBeUndefined();
    expect(await checkTask(t, requester, target)).toMatchObject({ allowed: true });
  });

  it("refuses a start in the past or more than 14 days ahead, naming startsAt and writing nothing", async () => {
    const { t } = mailing;
    const before = await t.db.accessRequest.count();
    for (const startsAt of [new Date(Date.now() - 60_000), new Date(Date.now() + 15 * day)]) {
      const answer = (
        await t.as(requester, FileScheduled, {
          input: { target: targets[2]!, reason: "x", startsAt: startsAt.toISOString() },
        })
      ).createAccessRequest;
      expect(answer).toMatchObject({ __typename: "ValidationError", field: "startsAt" });
    }
    expect(await t.db.accessRequest.count()).toBe(before);
  });

  it("the reconciler starts a grant whose start job Redis lost, and puts back the job of one still ahead", async () => {
    const { t, runtime } = mailing;
    const near = await fileScheduled(targets[2]!, new Date(Date.now() + hour));
    const far = await fileScheduled(targets[0]!, new Date(Date.now() + 2 * day), "approver2@fabrikam.com");
    await approve(t, near.id);
    await approve(t, far.id);
    const nearGrant = await grantOf(near.id);
    const farGrant = await grantOf(far.id);
    // Redis loses both start jobs, then the near grant's start passes (moved in the
    // database rather than waited for: a start a second or two ahead could fire its job
    // before the removal on a loaded machine).
    for (const grant of [nearGrant, farGrant]) {
      expect(
        await runtime.queues.queue("activateAuthorization").remove(jobTable.activateAuthorization.jobId(grant.id)),
      ).toBe(1);
    }
    await t.db.accessAuthorization.update({
      where: { id: nearGrant.id },
      data: { startsAt: new Date(Date.now() - 1000) },
    });

    const reconciler = reconcilerFor(t.db, runtime.effects, runtime.queues);
    const report = await reconciler.runOnce();
    expect(report?.startedAuthorizations).toBeGreaterThanOrEqual(1);
    expect((await grantOf(near.id)).status).toBe("ACTIVE");
    expect((await grantOf(far.id)).status).toBe("SCHEDULED");
    const job = await startJob(farGrant.id);
    // BullMQ stamps the job a millisecond or so after the delay is computed.
    expect(Math.abs(job!.timestamp + job!.delay - farGrant.startsAt.getTime())).toBeLessThan(1000);
  });
  it("approvals racing the requested start: each grant starts at the later of its approval and startsAt, once", async () => {
    const { t } = mailing;
    const nextTarget = targetsOf("Recipient Management", targets);
    const startsAt = new Date(Date.now() + 6000);
    const filed: { id: string; target: string }[] = [];
    for (let index = 0; index < 6; index++) {
      const target = nextTarget();
      filed.push({ id: (await fileScheduled(target, startsAt)).id, target });
    }
    // Approved one after another from 1.5 s before to 1 s after the start, each checked at once.
    for (const [index, request] of filed.entries()) {
      await until(new Date(startsAt.getTime() - 1500 + (2500 * index) / filed.length));
      expect(await approve(t, request.id)).toMatchObject({ status: "APPROVED" });
      await checkTask(t, requester, request.target);
    }
    await waitFor(
      "every grant to be ACTIVE",
      async () => (await Promise.all(filed.map((request) => grantOf(request.id)))).every((g) => g.status === "ACTIVE"),
      { timeoutMs: 20_000 },
    );
    let scheduledFirst = 0;
    for (const request of filed) {
      const grant = await grantOf(request.id);
      const decided = await t.db.accessRequest.findUniqueOrThrow({ where: { id: rawId(request.id) } });
      const before = decided.decidedAt! < startsAt;
      if (before) scheduledFirst += 1;
      expect(grant.startsAt.getTime()).toBe(Math.max(startsAt.getTime(), decided.decidedAt!.getTime()));
      expect(grant.endsAt.getTime() - grant.startsAt.getTime()).toBe(hour);
      const starts = await t.db.auditEvent.count({
        where: { subjectId: grant.id, action: "Start-ElevatedAccessAuthorization" },
      });
      expect(starts).toBe(before ? 1 : 0);
      // No call was allowed before the grant's start.
      const early = await t.db.taskExecution.count({
        where: { authorizationId: grant.id, allowed: true, at: { lt: grant.startsAt } },
      });
      expect(early).toBe(0);
    }
    // The race went both ways.
    expect(scheduledFirst).toBeGreaterThan(0);
    expect(scheduledFirst).toBeLessThan(filed.length);
  });
});
