import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyAuditLog } from "../../src/domain/audit/audit.service.ts";
import { serviceContext } from "../../src/domain/context.ts";
import { remindApprovers } from "../../src/domain/requests/reminders.service.ts";
import { approveAccessRequest } from "../../src/domain/requests/requests.service.ts";
import { testAuditKeys } from "../helpers/audit-keys.ts";
import { auditCounts, contextFor, insertPendingRequests } from "../helpers/jobs.ts";
import { type SmtpServer, startSmtpServer } from "../helpers/mail.ts";
import { waitFor } from "../helpers/processes.ts";
import { withWorker } from "../helpers/worker-file.ts";

// A reminder falling due as the request is decided, against a real worker process and a
// real SMTP server: the decision stands, a reminder goes out only while the request was
// still PENDING, and nobody is reminded twice.

const hour = 3_600_000;
const until = (at: Date) => sleep(Math.max(0, at.getTime() - Date.now()));

let smtp: SmtpServer;
// Started before the worker (registered first), which mails to it.
beforeAll(async () => {
  smtp = await startSmtpServer();
});
afterAll(async () => {
  await smtp?.close();
});
const file = withWorker("reminder-race", {
  reconcileIntervalSeconds: 2,
  connections: 12,
  env: () => ({ SMTP_URL: smtp.url }),
});

describe("a reminder due as the request is decided", () => {
  it("each request is approved once; a reminder went out only before the decision, and at most once", async () => {
    const { db, fabrikam, jobs } = file;
    const ids = await insertPendingRequests(db, fabrikam.requester, Array(16).fill(new Date(Date.now() + 20 * hour)));
    // Timed from the end of setup (a loaded machine takes long over it): filed 4 hours
    // before remindAt, so the 4-hour reminder point falls due at remindAt.
    const remindAt = new Date(Date.now() + 2500);
    await db.accessRequest.updateMany({
      where: { id: { in: ids } },
      data: { createdAt: new Date(remindAt.getTime() - 4 * hour) },
    });
    await jobs.queues.schedule(
      "remindApprovers",
      ids.map((requestId) => ({
        payload: { requestId, organizationId: fabrikam.requester.organizationId },
        at: remindAt,
      })),
    );
    // approver1 approves each in turn from 1.2 s before to 0.8 s after the reminder point
    // (one after another: the race is each approval against the reminder jobs).
    const approver = contextFor(db, fabrikam.approver, jobs.effects);
    const outcomes: string[] = [];
    for (const [index, requestId] of ids.entries()) {
      await until(new Date(remindAt.getTime() - 1200 + (2000 * index) / ids.length));
      outcomes.push((await approveAccessRequest(approver, { requestId })).status);
    }
    // The decision stands whatever the reminder did.
    expect(outcomes.every((status) => status === "APPROVED")).toBe(true);

    const mailOf = { requestId: { in: ids }, template: { in: ["approval-reminder", "request-approved"] } };
    await waitFor(
      "every approval mail and reminder to be sent or skipped",
      async () =>
        (await db.emailMessage.count({ where: mailOf })) >= ids.length &&
        (await db.emailMessage.count({ where: { ...mailOf, status: "QUEUED" } })) === 0,
      { timeoutMs: 30_000 },
    );
    // Every reminder job has run or was removed by the decision.
    await waitFor("no reminder job left waiting", async () => {
      const states = await Promise.all(ids.map((id) => jobs.jobState("remindApprovers", id)));
      return states.every((state) => state === "completed" || state === "unknown");
    });

    const requests = await db.accessRequest.findMany({ where: { id: { in: ids } } });
    expect(requests.every((request) => request.status === "APPROVED")).toBe(true);
    const approvals = await auditCounts(db, "Approve-ElevatedAccessRequest", ids);
    expect(ids.every((id) => approvals.get(id) === 1)).toBe(true);
    expect(await db.accessAuthorization.count({ where: { requestId: { in: ids } } })).toBe(ids.length);

    const reminders = await db.emailMessage.findMany({
      where: { requestId: { in: ids }, template: "approval-reminder" },
    });
    const received = smtp.received.filter((mail) => mail.subject.startsWith("Reminder:"));
    // One reminder row per request and approver at most, and one message at most each.
    const perRow = new Set(reminders.map((row) => `${row.requestId}:${row.recipientId}`));
    expect(perRow.size).toBe(reminders.length);
    const perMessage = new Set(received.map((mail) => mail.messageId));
    expect(perMessage.size).toBe(received.length);
    expect(received.length).toBe(reminders.filter((row) => row.status === "SENT").length);
    // approver1 decided, so a reminder to them was either out before the decision or skipped at sending.
    for (const row of reminders) expect(["SENT", "SKIPPED"]).toContain(row.status);

    // Once settled, the reminder transition does nothing more.
    const system = serviceContext(
      { db, effects: jobs.effects, auditKeys: testAuditKeys },
      fabrikam.requester.organizationId,
      null,
    );
    for (const id of ids) expect(await remindApprovers(system, id)).toEqual({ kind: "settled" });
    expect(await db.emailMessage.count({ where: { requestId: { in: ids }, template: "approval-reminder" } })).toBe(
      reminders.length,
    );

    // The race went both ways: some requests were reminded first, some decided first.
    const reminded = new Set(reminders.map((row) => row.requestId));
    expect(reminded.size).toBeGreaterThan(0);
    expect(reminded.size).toBeLessThan(ids.length);
    expect(await verifyAuditLog(db, testAuditKeys, fabrikam.requester.organizationId)).toMatchObject({ ok: true });
  });
});
