import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decideByLink } from "../../src/domain/approval-tokens/decide-by-link.ts";
import {
  createApproverGroup,
  removeApproverGroupMembers,
} from "../../src/domain/approver-groups/approver-groups.service.ts";
import { verifyAuditLog } from "../../src/domain/audit/audit.service.ts";
import { NotAnApproverError } from "../../src/domain/errors.ts";
import { approveAccessRequest } from "../../src/domain/requests/requests.service.ts";
import { testAuditKeys } from "../helpers/audit-keys.ts";
import { actorFor, auditCounts, contextFor, insertPendingRequests } from "../helpers/jobs.ts";
import { decisionLink, type SmtpServer, startSmtpServer } from "../helpers/mail.ts";
import { waitFor } from "../helpers/processes.ts";
import { withWorker } from "../helpers/worker-file.ts";

// An escalation group member removed before or as the escalation fires, against a real
// worker process and a real SMTP server: removed first, they get no mail; whatever the
// order, once removed they cannot decide (API or link) and nothing is granted.

const until = (at: Date) => sleep(Math.max(0, at.getTime() - Date.now()));
const groups = 12;

let smtp: SmtpServer;
// Started before the worker (registered first), which mails to it.
beforeAll(async () => {
  smtp = await startSmtpServer();
});
afterAll(async () => {
  await smtp?.close();
});
const file = withWorker("escalation-race", {
  reconcileIntervalSeconds: 2,
  connections: 12,
  env: () => ({ SMTP_URL: smtp.url }),
});

/** Group i: stays<i>@ and leaves<i>@, both eligible members; returns its id. */
async function escalationGroup(index: number): Promise<string> {
  const { db, fabrikam } = file;
  const { organizationId } = fabrikam.admin;
  for (const who of ["stays", "leaves"]) {
    await db.user.create({
      data: {
        organizationId,
        email: `${who}${index}@fabrikam.com`,
        displayName: `${who} ${index}`,
        subject: randomUUID(),
      },
    });
  }
  const group = await createApproverGroup(contextFor(db, fabrikam.admin), {
    name: `Escalation ${index}`,
    email: `escalation${index}@fabrikam.com`,
    memberEmails: [`stays${index}@fabrikam.com`, `leaves${index}@fabrikam.com`],
  });
  return group.id;
}

describe("escalation after a group member is removed", () => {
  it("removed before: no mail; removed as it fires: cannot decide; nothing granted; one escalation each", async () => {
    const { db, fabrikam, jobs } = file;
    const groupIds: string[] = [];
    for (let index = 0; index < groups; index++) groupIds.push(await escalationGroup(index));
    const ids = await insertPendingRequests(
      db,
      fabrikam.requester,
      Array(groups).fill(new Date(Date.now() + 3_600_000)),
    );
    for (const [index, id] of ids.entries()) {
      await db.accessRequest.update({ where: { id }, data: { escalationGroupId: groupIds[index]! } });
    }
    // Group 0's leaver goes before the escalation is even scheduled; the others from 0.5 s before to 0.5 s after it.
    const admin = contextFor(db, fabrikam.admin, jobs.effects);
    await removeApproverGroupMembers(admin, { groupId: groupIds[0]!, emails: ["leaves0@fabrikam.com"] });
    // Timed from the end of setup, so a loaded machine's slow setup cannot eat the margin.
    const escalateAt = new Date(Date.now() + 2500);
    await db.accessRequest.updateMany({ where: { id: { in: ids } }, data: { escalateAt } });
    await jobs.queues.schedule(
      "escalateRequest",
      ids.map((requestId) => ({
        payload: { requestId, organizationId: fabrikam.requester.organizationId },
        at: escalateAt,
      })),
    );
    await Promise.all(
      groupIds.slice(1).map(async (groupId, offset) => {
        await until(new Date(escalateAt.getTime() - 500 + (1000 * offset) / (groups - 1)));
        await removeApproverGroupMembers(admin, { groupId, emails: [`leaves${offset + 1}@fabrikam.com`] });
      }),
    );

    await waitFor(
      "every request to escalate and its mail to be sent or skipped",
      async () =>
        (await db.accessRequest.count({ where: { id: { in: ids }, escalatedAt: null } })) === 0 &&
        (await db.emailMessage.count({ where: { requestId: { in: ids }, status: "QUEUED" } })) === 0,
      { timeoutMs: 30_000 },
    );
    expect(smtp.received.filter((mail) => mail.to === "leaves0@fabrikam.com")).toHaveLength(0);
    expect(
      await db.emailMessage.count({ where: { requestId: ids[0]!, recipient: { email: "leaves0@fabrikam.com" } } }),
    ).toBe(0);

    const escalations = await auditCounts(db, "Escalate-ElevatedAccessRequest", ids);
    for (const [index, id] of ids.entries()) {
      expect(escalations.get(id), `escalations of request ${index}`).toBe(1);
      // The member who stays gets exactly one mail.
      expect(smtp.received.filter((mail) => mail.to === `stays${index}@fabrikam.com`)).toHaveLength(1);
      const leaver = await actorFor(db, `leaves${index}@fabrikam.com`);
      // However the race went, the removed member cannot decide now: not through the API...
      await expect(approveAccessRequest(contextFor(db, leaver, jobs.effects), { requestId: id })).rejects.toThrow(
        NotAnApproverError,
      );
      // ...nor through a link that went out before the removal.
      const [mail] = smtp.received.filter((message) => message.to === `leaves${index}@fabrikam.com`);
      if (mail) {
        const token = decisionLink(mail, "Approve").split("/decide/")[1]!;
        const decided = await decideByLink({ db, effects: jobs.effects, auditKeys: testAuditKeys }, token, null);
        expect(decided).toMatchObject({ kind: "refused", code: "NOT_AN_APPROVER" });
      }
    }
    // Nothing was granted; the requests wait for their remaining approvers.
    const requests = await db.accessRequest.findMany({ where: { id: { in: ids } } });
    expect(requests.every((request) => request.status === "PENDING")).toBe(true);
    expect(await db.accessAuthorization.count({ where: { requestId: { in: ids } } })).toBe(0);
    // The member who stayed decides.
    const stays = await actorFor(db, "stays1@fabrikam.com");
    expect(await approveAccessRequest(contextFor(db, stays, jobs.effects), { requestId: ids[1]! })).toMatchObject({
      status: "APPROVED",
    });
    expect(await verifyAuditLog(db, testAuditKeys, fabrikam.requester.organizationId)).toMatchObject({ ok: true });
  });
});
