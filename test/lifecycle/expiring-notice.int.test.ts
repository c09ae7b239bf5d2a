import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  expiringNoticeMinutes,
  noticeExpiringAccess,
  revokeAccessAuthorization,
} from "../../src/domain/authorizations/authorizations.service.ts";
import { serviceContext } from "../../src/domain/context.ts";
import { jobTable } from "../../src/jobs/queues.ts";
import { testAuditKeys } from "../helpers/audit-keys.ts";
import { contextFor, type Fabrikam, insertActiveAuthorizations, prepareFabrikam } from "../helpers/jobs.ts";
import { startMailingApp } from "../helpers/mail.ts";
import { waitFor } from "../helpers/processes.ts";

// The grantee is told shortly before their access ends, with a way to extend it:
// a delayed job per grant, one mail per end time, none once the grant is over.

const notice = expiringNoticeMinutes * 60_000;
let mailing: Awaited<ReturnType<typeof startMailingApp>>;
let fabrikam: Fabrikam;

beforeAll(async () => {
  mailing = await startMailingApp();
  fabrikam = await prepareFabrikam(mailing.t.db);
});

afterAll(async () => {
  await mailing?.close();
});

/** A grant ending `notice + ms` from now, started through the effects the approval dispatches. */
async function grantEndingSoon(ms: number) {
  const endsAt = new Date(Date.now() + notice + ms);
  const [grant] = await insertActiveAuthorizations(mailing.t.db, fabrikam.requester, [endsAt]);
  await mailing.runtime.effects.dispatch([
    {
      kind: "authorizationStarted",
      authorizationId: grant!.authorizationId,
      organizationId: fabrikam.requester.organizationId,
      endsAt,
    },
  ]);
  return { ...grant!, endsAt };
}

const noticeJob = (authorizationId: string) =>
  mailing.runtime.queues.queue("noticeExpiring").getJob(jobTable.noticeExpiring.jobId(authorizationId));

describe("the expiring-soon notice", () => {
  it("mails the grantee 15 minutes before the end, once, with the command that extends it", async () => {
    const { t, smtp } = mailing;
    const grant = await grantEndingSoon(2000);
    const job = await noticeJob(grant.authorizationId);
    // BullMQ stamps the job a millisecond or so after the delay is computed.
    expect(Math.abs(job!.timestamp + job!.delay - (grant.endsAt.getTime() - notice))).toBeLessThan(1000);

    const [mail] = await smtp.messages(
      (message) => message.to === "requester@fabrikam.com" && message.subject.startsWith("Ends soon:"),
    );
    expect(mail!.text).toContain(`elevate Request-ElevatedAccessExtension -RequestId ${grant.requestId} -Hours 1`);
    const ctx = serviceContext(
      { db: t.db, effects: mailing.runtime.effects, auditKeys: testAuditKeys },
      fabrikam.requester.organizationId,
      null,
    );
    // A duplicate or retried job for the same end queues nothing more.
    expect(await noticeExpiringAccess(ctx, grant.authorizationId)).toEqual({ kind: "done" });
    const outbox = await t.db.emailMessage.findMany({
      where: { authorizationId: grant.authorizationId, template: "access-expiring" },
    });
    expect(outbox.map((message) => message.status)).toEqual(["SENT"]);
    expect(smtp.received.filter((message) => message.subject.startsWith("Ends soon:"))).toHaveLength(1);
  });

  it("is not due before its moment, and a revoked grant's notice job is removed and sends nothing", async () => {
    const { t } = mailing;
    const grant = await grantEndingSoon(60 * 60_000);
    const ctx = serviceContext(
      { db: t.db, effects: mailing.runtime.effects, auditKeys: testAuditKeys },
      fabrikam.requester.organizationId,
      null,
    );
    expect(await noticeExpiringAccess(ctx, grant.authorizationId)).toEqual({
      kind: "notDue",
      at: new Date(grant.endsAt.getTime() - notice),
    });
    expect(await noticeJob(grant.authorizationId)).toBeDefined();
    await revokeAccessAuthorization(contextFor(t.db, fabrikam.admin, mailing.runtime.effects), {
      requestId: grant.requestId,
    });
    await waitFor("the notice job to be removed", async () => (await noticeJob(grant.authorizationId)) === undefined);
    expect(await noticeExpiringAccess(ctx, grant.authorizationId)).toEqual({ kind: "settled" });
    expect(
      await t.db.emailMessage.count({ where: { authorizationId: grant.authorizationId, template: "access-expiring" } }),
    ).toBe(0);
  });
});
