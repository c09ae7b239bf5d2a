import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createDb, type Db } from "../../src/db/client.ts";
import {
  auditCounts,
  type Fabrikam,
  insertPendingRequests,
  type JobClient,
  jobClient,
  prepareFabrikam,
  uniquePrefix,
} from "../helpers/jobs.ts";
import { spawnWorker, type WorkerProcess, waitFor } from "../helpers/processes.ts";
import { redisUrl, workerDatabaseUrl } from "../setup/test-env.ts";

let db: Db;
let fabrikam: Fabrikam;
const started: WorkerProcess[] = [];
const clients: JobClient[] = [];

beforeAll(async () => {
  db = createDb(workerDatabaseUrl());
  fabrikam = await prepareFabrikam(db);
});

// Each test starts alone: a worker a failed test left running would hold the reconciler
// lock and take the next test's jobs.
afterEach(async () => {
  await Promise.all(
    started.splice(0).map(async (worker) => {
      if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill("SIGKILL");
      await worker.exited;
    }),
  );
});

afterAll(async () => {
  for (const client of clients) await client.close();
  await db?.$disconnect();
});

async function setup(name: string, reconcileIntervalSeconds: number) {
  const queuePrefix = uniquePrefix(name);
  const jobs = await jobClient(redisUrl, queuePrefix);
  clients.push(jobs);
  const spawn = async () => {
    const worker = await spawnWorker({ redisUrl, queuePrefix, reconcileIntervalSeconds });
    started.push(worker);
    return worker;
  };
  return { jobs, spawn };
}

const countExpired = (ids: string[]) => db.accessRequest.count({ where: { id: { in: ids }, status: "EXPIRED" } });

describe("worker faults", () => {
  it("worker SIGKILLed while 1,000 expiry jobs are due: after restart every one is EXPIRED within N, none twice", async () => {
    const reconcileIntervalSeconds = 2;
    const n = (reconcileIntervalSeconds + 30) * 1000;
    const { jobs, spawn } = await setup("sigkill", reconcileIntervalSeconds);
    const expiresAt = new Date(Date.now() + 3000);
    const ids = await insertPendingRequests(db, fabrikam.requester, Array(1000).fill(expiresAt));
    await jobs.queues.schedule(
      "expireRequest",
      ids.map((requestId) => ({
        payload: { requestId, organizationId: fabrikam.requester.organizationId },
        at: expiresAt,
      })),
    );

    const first = await spawn();
    await waitFor("the first expiries", async () => (await countExpired(ids)) > 0, { intervalMs: 20 });
    first.child.kill("SIGKILL");
    expect(await first.exited).toEqual({ code: null, signal: "SIGKILL" });
    const expiredAtKill = await countExpired(ids);
    expect(expiredAtKill).toBeLessThan(ids.length);

    const restartedAt = Date.now();
    const second = await spawn();
    await waitFor("every request to expire", async () => (await countExpired(ids)) === ids.length, {
      timeoutMs: n,
      intervalMs: 250,
    });
    expect(Date.now() - restartedAt).toBeLessThan(n);

    const events = await auditCounts(db, "Expire-ElevatedAccessRequest", ids);
    expect(events.size).toBe(ids.length);
    expect([...events.values()].every((count) => count === 1)).toBe(true);
    expect(await db.accessAuthorization.count({ where: { requestId: { in: ids } } })).toBe(0);
    // One expiry mail per request, however often a job ran.
    const mails = await db.emailMessage.groupBy({
      by: ["requestId"],
      where: { requestId: { in: ids }, template: "request-expired" },
      _count: true,
    });
    expect(mails).toHaveLength(ids.length);
    expect(mails.every((group) => group._count === 1)).toBe(true);
    expect((await second.stop()).code).toBe(0);
  }, 90_000);

  it("SIGTERM during a job: the job completes, then the worker exits 0", async () => {
    const { jobs, spawn } = await setup("sigterm", 3600);
    const worker = await spawn();
    // The start-up reconciliation is over before the request exists, and the next one is an hour away.
    await worker.waitForLog("its first reconciliation", (line) => line.msg === "reconciler run");
    const expiresAt = new Date(Date.now() + 1500);
    const [id] = await insertPendingRequests(db, fabrikam.requester, [expiresAt]);
    await jobs.queues.schedule("expireRequest", [
      { payload: { requestId: id!, organizationId: fabrikam.requester.organizationId }, at: expiresAt },
    ]);

    // Hold the request's row lock, so the job blocks in the middle of its transition.
    const holder = new pg.Client({ connectionString: workerDatabaseUrl() });
    await holder.connect();
    try {
      await holder.query("BEGIN");
      await holder.query(`SELECT id FROM "AccessRequest" WHERE id = $1 FOR UPDATE`, [id]);
      await waitFor("the job to start", async () => (await jobs.jobState("expireRequest", id!)) === "active", {
        timeoutMs: 10_000,
      });
      await waitFor("the job to wait on the row lock", async () => {
        const { rows } = await holder.query(
          `SELECT count(*)::int AS waiting FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        return rows[0].waiting > 0;
      });

      worker.child.kill("SIGTERM");
      await worker.waitForLog("the shutdown", (line) => line.msg === "shutting down");
      await sleep(1000);
      expect(worker.child.exitCode).toBeNull();
      expect(await jobs.jobState("expireRequest", id!)).toBe("active");
      await holder.query("COMMIT");
    } finally {
      await holder.end();
    }

    expect(await worker.exited).toEqual({ code: 0, signal: null });
    const job = await jobs.job("expireRequest", id!);
    expect(await jobs.jobState("expireRequest", id!)).toBe("completed");
    expect(job?.returnvalue).toEqual({ expired: true });
    expect((await db.accessRequest.findUniqueOrThrow({ where: { id: id! } })).status).toBe("EXPIRED");
    expect(await auditCounts(db, "Expire-ElevatedAccessRequest", [id!])).toEqual(new Map([[id!, 1]]));
  }, 60_000);
});
