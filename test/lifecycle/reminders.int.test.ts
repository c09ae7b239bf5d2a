import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serviceContext } from "../../src/domain/context.ts";
import { updateElevatedAccessControl } from "../../src/domain/control/control.service.ts";
import { ValidationError } from "../../src/domain/errors.ts";
import { nextReminder, remindApprovers } from "../../src/domain/requests/reminders.service.ts";
import { approveAccessRequest } from "../../src/domain/requests/requests.service.ts";
import { jobTable } from "../../src/jobs/queues.ts";
import { testAuditKeys } from "../helpers/audit-keys.ts";
import { contextFor, type Fabrikam, insertPendingRequests, prepareFabrikam, reconcilerFor } from "../helpers/jobs.ts";
import { startMailingApp } from "../helpers/mail.ts";
import { waitFor } from "../helpers/processes.ts";

// Approvers who have not decided are reminded at the organization's points (4 and 20
// hours after creation unless it sets others): one job per request, one mail per point
// and approver, nothing once the request is decided.

const hour = 3_600_000;
let mailing: Awaited<ReturnType<typeof startMailingApp>>;
let fabrikam: Fabrikam;

beforeAll(async () => {
  mailing = await startMailingApp();
  fabrikam = await prepareFabrikam(mailing.t.db);
});

afterAll(async () => {
  await mailing?.close();
});

/** A PENDING request filed `age` ago, its job added as filing adds it. */
async function requestFiledAgo(age: number) {
  const { db } = mailing.t;
  const createdAt = new Date(Date.now() - age);
  const [id] = await insertPendingRequests(db, fabrikam.requester, [new Date(createdAt.getTime() + 24 * hour)]);
  const request = await db.accessRequest.update({ where: { id: id! }, data: { createdAt } });
  await mailing.runtime.effects.dispatch([
    {
      kind: "requestCreated",
      requestId: request.id,
      organizationId: request.organizationId,
      expiresAt: request.expiresAt,
      remindAt: nextReminder([4, 20], request, new Date()),
    },
  ]);
  return request;
}

const reminderJob = (requestId: string) =>
  mailing.runtime.queues.queue("remindApprovers").getJob(jobTable.remindApprovers.jobId(requestId));
const systemContext = () =>
  serviceContext(
    { db: mailing.t.db, effects: mailing.runtime.effects, auditKeys: testAuditKeys },
    fabrikam.requester.organizationId,
    null,
  );

describe("reminders to approvers", () => {
  it("reminds each undecided approver at 4 hours with fresh links, once, then sleeps until 20 hours", async () => {
    const { t, smtp } = mailing;
    const request = await requestFiledAgo(4 * hour - 2000);
    const job = await reminderJob(request.id);
    // BullMQ stamps the job a millisecond or so after the delay is computed.
    expect(Math.abs(job!.timestamp + job!.delay - (request.createdAt.getTime() + 4 * hour))).toBeLessThan(1000);

    const [mail] = await smtp.messages(
      (message) => message.to === "approver1@fabrikam.com" && message.subject.startsWith("Reminder:"),
    );
    expect(mail!.text).toMatch(/Approve:\s+\S+\/decide\//);
    await waitFor(
      "the job to sleep until the 20-hour point",
      async () =>
        (await mailing.runtime.queues.queue("remindApprovers").getJobState(`remind-${request.id}`)) === "delayed",
    );
    const outbox = () =>
      t.db.emailMessage.findMany({ where: { requestId: request.id, template: "approval-reminder" } });
    const sent = await outbox();
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.every((message) => message.dedupeKey.endsWith(":4h"))).toBe(true);

    // The same point again (a retried or duplicated job) queues nothing more.
    expect(await remindApprovers(systemContext(), request.id)).toEqual({
      kind: "notDue",
      at: new Date(request.createdAt.getTime() + 20 * hour),
    });
    expect(await outbox()).toHaveLength(sent.length);
  });

  it("sends nothing once the request is decided, and its job is removed", async () => {
    const { t } = mailing;
    const request = await requestFiledAgo(hour);
    expect(await reminderJob(request.id)).toBeDefined();
    await approveAccessRequest(contextFor(t.db, fabrikam.approver, mailing.runtime.effects), { requestId: request.id });
    await waitFor("the reminder job to be removed", async () => (await reminderJob(request.id)) === undefined);
    expect(await remindApprovers(systemContext(), request.id)).toEqual({ kind: "settled" });
    expect(await t.db.emailMessage.count({ where: { requestId: request.id, template: "approval-reminder" } })).toBe(0);
  });

  it("the organization sets its own points: sorted, once each, whole hours within a request's lifetime", async () => {
    const admin = contextFor(mailing.t.db, fabrikam.admin);
    const control = await updateElevatedAccessControl(admin, { reminderHours: [20, 2, 2] });
    expect(control.reminderHours).toEqual([2, 20]);
    await expect(updateElevatedAccessControl(admin, { reminderHours: [0] })).rejects.toThrow(ValidationError);
    await expect(updateElevatedAccessControl(admin, { reminderHours: [1, 2, 3, 4, 5, 6] })).rejects.toThrow(
      /reminderHours: must list at most 5 points/,
    );
    expect(await updateElevatedAccessControl(admin, { reminderHours: [] })).toMatchObject({ reminderHours: [] });
    await updateElevatedAccessControl(admin, { reminderHours: [4, 20] });
  });

  it("the reconciler re-adds a lost reminder job at the request's next point", async () => {
    const { t, runtime } = mailing;
    const request = await requestFiledAgo(hour);
    await runtime.queues.queue("remindApprovers").remove(jobTable.remindApprovers.jobId(request.id));
    const reconciler = reconcilerFor(t.db, runtime.effects, runtime.queues);
    const report = await reconciler.runOnce();
    expect(report?.requeued?.reminders).toBeGreaterThanOrEqual(1);
    const job = await reminderJob(request.id);
    expect(Math.abs(job!.timestamp + job!.delay - (request.createdAt.getTime() + 4 * hour))).toBeLessThan(1000);
  });
});
