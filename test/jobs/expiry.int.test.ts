import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { revokeAccessAuthorization } from "../../src/domain/authorizations/authorizations.service.ts";
import { ConflictError } from "../../src/domain/errors.ts";
import { approveAccessRequest, createAccessRequest } from "../../src/domain/requests/requests.service.ts";
import {
  actorFor,
  auditCounts,
  contextFor,
  insertActiveAuthorizations,
  insertPendingRequests,
  noEffects,
  reconcilerFor,
  target,
} from "../helpers/jobs.ts";
import { waitFor } from "../helpers/processes.ts";
import { withWorker } from "../helpers/worker-file.ts";
import { workerDatabaseUrl } from "../setup/test-env.ts";

const reconcileIntervalSeconds = 2;
const hour = 3_600_000;

const env = withWorker("expiry", { reconcileIntervalSeconds });

const until = (at: Date) => sleep(Math.max(0, at.getTime() - Date.now()));

/** A PENDING request (a copy of a real one) expiring `ms` from now, with no job yet. */
async function requestExpiringIn(ms: number): Promise<{ id: string; expiresAt: Date }> {
  const expiresAt = new Date(Date.now() + ms);
  const [id] = await insertPendingRequests(env.db, env.fabrikam.requester, [expiresAt]);
  return { id: id!, expiresAt };
}

async function statusOf(requestId: string) {
  return (await env.db.accessRequest.findUniqueOrThrow({ where: { id: requestId } })).status;
}

describe("request expiry", () => {
  it("expires a PENDING request when its lifetime runs out, with its audit event and no authorization, not before", async () => {
    const { id, expiresAt } = await requestExpiringIn(2500);
    await env.jobs.effects.dispatch([
      { kind: "requestCreated", requestId: id, organizationId: env.fabrikam.requester.organizationId, expiresAt },
    ]);
    expect(await env.jobs.jobState("expireRequest", id)).toBe("delayed");
    // Scheduled, not run: still waiting (the audit time below shows it ended no earlier than due).
    expect(await statusOf(id)).toBe("PENDING");

    await waitFor("the request to expire", async () => (await statusOf(id)) === "EXPIRED", { timeoutMs: 10_000 });
    const events = await env.db.auditEvent.findMany({
      where: { subjectId: id, action: "Expire-ElevatedAccessRequest" },
    });
    expect(events).toHaveLength(1);
    expect(events[0]!.actorId).toBeNull();
    expect(events[0]!.at.getTime()).toBeGreaterThanOrEqual(expiresAt.getTime());
    expect(await env.db.accessAuthorization.count({ where: { requestId: id } })).toBe(0);
  });

  it("keeps a request approved before its expiry job runs APPROVED: the stale job changes nothing", async () => {
    const { id, expiresAt } = await requestExpiringIn(2500);
    await env.jobs.queues.schedule("expireRequest", [
      { payload: { requestId: id, organizationId: env.fabrikam.requester.organizationId }, at: expiresAt },
    ]);
    // No effect sink: the job stays in Redis, as when its removal was lost.
    await approveAccessRequest(contextFor(env.db, env.fabrikam.approver), { requestId: id });

    const job = await waitFor(
      "the stale job to finish",
      async () => (await env.jobs.jobState("expireRequest", id)) === "completed" && env.jobs.job("expireRequest", id),
      { timeoutMs: 10_000 },
    );
    expect(job!.returnvalue).toEqual({ expired: false });
    expect(job!.finishedOn).toBeGreaterThanOrEqual(expiresAt.getTime());
    expect(await statusOf(id)).toBe("APPROVED");
    const authorization = await env.db.accessAuthorization.findUniqueOrThrow({ where: { requestId: id } });
    expect(authorization.status).toBe("ACTIVE");
    expect((await auditCounts(env.db, "Expire-ElevatedAccessRequest", [id])).size).toBe(0);
    expect(await env.db.emailMessage.count({ where: { requestId: id, template: "request-expired" } })).toBe(0);
  });

  it("puts a job that runs before its request is due back to sleep until then", async () => {
    const { id, expiresAt } = await requestExpiringIn(2500);
    await env.jobs.queues.schedule("expireRequest", [
      { payload: { requestId: id, organizationId: env.fabrikam.requester.organizationId }, at: new Date() },
    ]);
    await waitFor(
      "the early job to go back to sleep",
      async () => (await env.jobs.jobState("expireRequest", id)) === "delayed",
    );
    expect(await statusOf(id)).toBe("PENDING");
    const job = await waitFor(
      "the job to finish",
      async () => (await env.jobs.jobState("expireRequest", id)) === "completed" && env.jobs.job("expireRequest", id),
      { timeoutMs: 10_000 },
    );
    expect(job!.finishedOn).toBeGreaterThanOrEqual(expiresAt.getTime());
    expect(await statusOf(id)).toBe("EXPIRED");
  });

  it("does nothing for a job whose request or authorization was deleted", async () => {
    const { id: requestId } = await requestExpiringIn(hour);
    await env.db.accessRequest.delete({ where: { id: requestId } });
    const [grant] = await insertActiveAuthorizations(env.db, env.fabrikam.requester, [new Date(Date.now() + hour)]);
    await env.db.accessAuthorization.delete({ where: { id: grant!.authorizationId } });
    await env.db.accessRequest.delete({ where: { id: grant!.requestId } });
    // The reconciler may have added their jobs, due in an hour, meanwhile: start over.
    await env.jobs.queues.cancel("expireRequest", requestId);
    await env.jobs.queues.cancel("endAuthorization", grant!.authorizationId);
    const organizationId = env.fabrikam.requester.organizationId;
    await env.jobs.queues.schedule("expireRequest", [{ payload: { requestId, organizationId }, at: new Date() }]);
    await env.jobs.queues.schedule("endAuthorization", [
      { payload: { authorizationId: grant!.authorizationId, organizationId }, at: new Date() },
    ]);

    const expiry = await waitFor(
      "the expiry job to finish",
      async () =>
        (await env.jobs.jobState("expireRequest", requestId)) === "completed" &&
        env.jobs.job("expireRequest", requestId),
    );
    const end = await waitFor(
      "the end job to finish",
      async () =>
        (await env.jobs.jobState("endAuthorization", grant!.authorizationId)) === "completed" &&
        env.jobs.job("endAuthorization", grant!.authorizationId),
    );
    expect(expiry!.returnvalue).toEqual({ expired: false });
    expect(end!.returnvalue).toEqual({ ended: false });
    expect((await auditCounts(env.db, "Expire-ElevatedAccessRequest", [requestId])).size).toBe(0);
    expect((await auditCounts(env.db, "End-ElevatedAccessAuthorization", [grant!.authorizationId])).size).toBe(0);
  });

  it("fails a job with a malformed payload at once, without retrying it", async () => {
    await env.jobs.queues
      .queue("expireRequest")
      .add("expireRequest", { requestId: "not-a-uuid" }, { jobId: "expire-malformed" });
    const job = await waitFor("the job to fail", async () => {
      const found = await env.jobs.queues.queue("expireRequest").getJob("expire-malformed");
      return found?.failedReason ? found : null;
    });
    expect(job.failedReason).toMatch(/invalid expireRequest payload/);
    expect(job.attemptsMade).toBe(1);
  });
  it("expires a burst falling due together each once, with its own audit event and mail carrying its own job's request id", async () => {
    const expiresAt = new Date(Date.now() + 2000);
    const ids = await insertPendingRequests(env.db, env.fabrikam.requester, Array(60).fill(expiresAt));
    await env.jobs.queues.schedule(
      "expireRequest",
      ids.map((requestId, index) => ({
        payload: { requestId, organizationId: env.fabrikam.requester.organizationId, correlationId: `burst-${index}` },
        at: expiresAt,
      })),
    );
    await waitFor(
      "the burst to expire",
      async () => (await env.db.accessRequest.count({ where: { id: { in: ids }, status: "EXPIRED" } })) === ids.length,
      { timeoutMs: 20_000 },
    );
    const events = await auditCounts(env.db, "Expire-ElevatedAccessRequest", ids);
    expect(ids.map((id) => events.get(id))).toEqual(ids.map(() => 1));
    const audited = await env.db.auditEvent.findMany({
      where: { action: "Expire-ElevatedAccessRequest", subjectId: { in: ids } },
    });
    expect(audited.every((event) => event.at.getTime() >= expiresAt.getTime())).toBe(true);
    const mails = await env.db.emailMessage.findMany({
      where: { template: "request-expired", requestId: { in: ids } },
    });
    expect(mails).toHaveLength(ids.length);
    const correlationOf = new Map(mails.map((mail) => [mail.requestId, mail.correlationId]));
    expect(ids.map((id) => correlationOf.get(id))).toEqual(ids.map((_, index) => `burst-${index}`));
  });
});

describe("authorization end", () => {
  it("ends an ACTIVE authorization when its duration runs out, not before", async () => {
    const endsAt = new Date(Date.now() + 2500);
    const [grant] = await insertActiveAuthorizations(env.db, env.fabrikam.requester, [endsAt]);
    const authorization = await env.db.accessAuthorization.findUniqueOrThrow({ where: { id: grant!.authorizationId } });
    await env.jobs.effects.dispatch([
      {
        kind: "authorizationStarted",
        authorizationId: authorization.id,
        organizationId: authorization.organizationId,
        endsAt,
      },
    ]);
    expect(await env.jobs.jobState("endAuthorization", authorization.id)).toBe("delayed");

    const status = async () =>
      (await env.db.accessAuthorization.findUniqueOrThrow({ where: { id: authorization.id } })).status;
    // Scheduled, not run: still active (endedAt below shows it ended no earlier than due).
    expect(await status()).toBe("ACTIVE");

    await waitFor("the authorization to end", async () => (await status()) === "ENDED", { timeoutMs: 10_000 });
    const ended = await env.db.accessAuthorization.findUniqueOrThrow({ where: { id: authorization.id } });
    expect(ended.endedAt!.getTime()).toBeGreaterThanOrEqual(endsAt.getTime());
    expect(await auditCounts(env.db, "End-ElevatedAccessAuthorization", [authorization.id])).toEqual(
      new Map([[authorization.id, 1]]),
    );
    expect(await statusOf(grant!.requestId)).toBe("APPROVED");
  });

  it("revoke racing the natural end: each authorization ends once, with one audit event", async () => {
    const endsAt = new Date(Date.now() + 5000);
    const grants = await insertActiveAuthorizations(env.db, env.fabrikam.requester, Array(30).fill(endsAt));
    // Two anchors make the race go both ways whatever the machine's load: the first grant
    // is revoked now, well before its end; the last only after its end job has ended it.
    const first = grants.shift()!;
    const last = grants.pop()!;
    await revokeAccessAuthorization(contextFor(env.db, env.fabrikam.admin, env.jobs.effects), {
      requestId: first.requestId,
    });
    await env.jobs.queues.schedule(
      "endAuthorization",
      [...grants, last].map(({ authorizationId }) => ({
        payload: { authorizationId, organizationId: env.fabrikam.requester.organizationId },
        at: endsAt,
      })),
    );
    // Revocations spread from 1 s before to 0.5 s after the end, as the end job fires.
    const outcomes = await Promise.all(
      grants.map(async ({ requestId }, index) => {
        await until(new Date(endsAt.getTime() - 1000 + (1500 * index) / grants.length));
        try {
          await revokeAccessAuthorization(contextFor(env.db, env.fabrikam.admin, env.jobs.effects), { requestId });
          return "revoked";
        } catch (error) {
          if (error instanceof ConflictError) return "lost";
          throw error;
        }
      }),
    );
    await waitFor(
      "the last grant's end",
      async () =>
        (await env.db.accessAuthorization.findUniqueOrThrow({ where: { id: last.authorizationId } })).status ===
        "ENDED",
      { timeoutMs: 15_000 },
    );
    const lateRevoke = await revokeAccessAuthorization(contextFor(env.db, env.fabrikam.admin, env.jobs.effects), {
      requestId: last.requestId,
    }).then(
      () => "revoked",
      (error) => (error instanceof ConflictError ? "lost" : Promise.reject(error)),
    );
    expect(lateRevoke).toBe("lost");
    outcomes.push("revoked", "lost");
    grants.push(first, last);
    const ids = grants.map((grant) => grant.authorizationId);
    const settled = await waitFor(
      "every authorization to settle",
      async () => {
        const rows = await env.db.accessAuthorization.findMany({ where: { id: { in: ids } } });
        return rows.every((row) => row.status !== "ACTIVE") && rows;
      },
      { timeoutMs: 10_000 },
    );
    const ended = await auditCounts(env.db, "End-ElevatedAccessAuthorization", ids);
    const revoked = await auditCounts(env.db, "Revoke-ElevatedAccessAuthorization", ids);
    const mails = await env.db.emailMessage.groupBy({
      by: ["authorizationId"],
      where: { authorizationId: { in: ids }, template: { in: ["access-revoked", "access-ended"] } },
      _count: true,
    });
    const mailCount = new Map(mails.map((group) => [group.authorizationId, group._count]));
    for (const row of settled) {
      expect((ended.get(row.id) ?? 0) + (revoked.get(row.id) ?? 0), `audit events of ${row.id}`).toBe(1);
      expect(mailCount.get(row.id), `mail about ${row.id}`).toBe(1);
      if (row.status === "REVOKED") {
        expect(revoked.get(row.id)).toBe(1);
        expect(row.revokedAt!.getTime()).toBeLessThan(row.endsAt.getTime());
        expect(row.endedAt).toBeNull();
      } else {
        expect(row.status).toBe("ENDED");
        expect(ended.get(row.id)).toBe(1);
        expect(row.endedAt!.getTime()).toBeGreaterThanOrEqual(row.endsAt.getTime());
        expect(row.revokedAt).toBeNull();
      }
    }
    const revokedRows = settled.filter((row) => row.status === "REVOKED").length;
    expect(outcomes.filter((outcome) => outcome === "revoked")).toHaveLength(revokedRows);
    // Both ways, at least through the anchors.
    expect(revokedRows).toBeGreaterThan(0);
    expect(revokedRows).toBeLessThan(grants.length);
  });
});

describe("effects", () => {
  it("schedule the expiry at creation, swap it for the end at approval and cancel the end at revocation", async () => {
    // Another requester: the bulk rows of other tests keep the requester's one open request for the target.
    const requester = await actorFor(env.db, "approver2@fabrikam.com");
    const created = await createAccessRequest(contextFor(env.db, requester, env.jobs.effects), {
      target,
      reason: "effects test",
    });
    const expiry = await env.jobs.job("expireRequest", created.id);
    expect(expiry?.data).toEqual({ requestId: created.id, organizationId: created.organizationId });
    expect(await env.jobs.jobState("expireRequest", created.id)).toBe("delayed");
    expect(Math.abs(expiry!.timestamp + expiry!.delay - created.expiresAt.getTime())).toBeLessThan(1000);

    await approveAccessRequest(contextFor(env.db, env.fabrikam.approver, env.jobs.effects), { requestId: created.id });
    const authorization = await env.db.accessAuthorization.findUniqueOrThrow({ where: { requestId: created.id } });
    expect(await env.jobs.job("expireRequest", created.id)).toBeUndefined();
    const end = await env.jobs.job("endAuthorization", authorization.id);
    expect(end?.data).toEqual({ authorizationId: authorization.id, organizationId: authorization.organizationId });
    expect(Math.abs(end!.timestamp + end!.delay - authorization.endsAt.getTime())).toBeLessThan(1000);
    expect(authorization.endsAt.getTime() - Date.now()).toBeGreaterThan(3 * hour);

    await revokeAccessAuthorization(contextFor(env.db, env.fabrikam.admin, env.jobs.effects), {
      requestId: created.id,
    });
    expect(await env.jobs.job("endAuthorization", authorization.id)).toBeUndefined();
  });
});

describe("reconciler", () => {
  it("delivers the expiry of a request whose job was never added (API crash between commit and enqueue)", async () => {
    const near = await requestExpiringIn(1500);
    // Another requester: the bulk rows above keep the requester's one open request for the target.
    const other = await actorFor(env.db, "auditor@fabrikam.com");
    const far = await createAccessRequest(contextFor(env.db, other), { target, reason: "far" });
    const [grant] = await insertActiveAuthorizations(env.db, env.fabrikam.requester, [new Date(Date.now() + 4 * hour)]);

    await waitFor("the unscheduled request to expire", async () => (await statusOf(near.id)) === "EXPIRED", {
      timeoutMs: (reconcileIntervalSeconds + 10) * 1000,
    });
    const expired = await env.db.auditEvent.findFirstOrThrow({
      where: { subjectId: near.id, action: "Expire-ElevatedAccessRequest" },
    });
    expect(expired.at.getTime()).toBeGreaterThanOrEqual(near.expiresAt.getTime());

    // Future deadlines get their jobs back, at their own time.
    const farJob = await waitFor("the far request's job", () => env.jobs.job("expireRequest", far.id), {
      timeoutMs: 10_000,
    });
    expect(Math.abs(farJob.timestamp + farJob.delay - far.expiresAt.getTime())).toBeLessThan(1000);
    expect(await env.jobs.jobState("expireRequest", far.id)).toBe("delayed");
    await waitFor(
      "the authorization's job",
      async () => (await env.jobs.jobState("endAuthorization", grant!.authorizationId)) === "delayed",
      { timeoutMs: 10_000 },
    );
    expect(await statusOf(far.id)).toBe("PENDING");
  });

  it("skips a run while another process holds the reconciler lock", async () => {
    const reconciler = reconcilerFor(env.db, noEffects, env.jobs.queues);
    const holder = new pg.Client({ connectionString: workerDatabaseUrl() });
    let overdue: string | undefined;
    await holder.connect();
    try {
      await holder.query("BEGIN");
      await holder.query("SELECT pg_advisory_xact_lock(hashtext('elevate:exclusive'), hashtext('reconciler'))");
      // The overdue row appears only once the lock is held: the worker this file started
      // reconciles too, and must not get to it first (it skips while the lock is held).
      [overdue] = await insertPendingRequests(env.db, env.fabrikam.requester, [new Date(Date.now() - 1000)]);
      expect(await reconciler.runOnce()).toBeNull();
      expect(await statusOf(overdue!)).toBe("PENDING");
      await holder.query("COMMIT");
    } finally {
      await holder.end();
    }
    // The spawned worker may get there first; either way the request expires exactly once.
    await reconciler.runOnce();
    await waitFor("the request to expire", async () => (await statusOf(overdue!)) === "EXPIRED");
    expect(await auditCounts(env.db, "Expire-ElevatedAccessRequest", [overdue!])).toEqual(new Map([[overdue!, 1]]));
  });
});
