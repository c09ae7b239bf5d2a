import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type Db } from "../../src/db/client.ts";
import { createApprovalPolicy } from "../../src/domain/policies/policies.service.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { approve, createRequest, rawId, targetsOf } from "../helpers/fixtures.ts";
import {
  contextFor,
  type Fabrikam,
  insertActiveAuthorizations,
  insertPendingRequests,
  type JobClient,
  jobClient,
  prepareFabrikam,
  target,
  uniquePrefix,
} from "../helpers/jobs.ts";
import { type RedisServer, spawnWorker, startRedisServer, type WorkerProcess, waitFor } from "../helpers/processes.ts";
import { workerDatabaseUrl } from "../setup/test-env.ts";

const reconcileIntervalSeconds = 2;
/** RELIABILITY's N: the reconciler interval plus 30 seconds. */
const n = (reconcileIntervalSeconds + 30) * 1000;
const hour = 3_600_000;

const nextTarget = targetsOf("Recipient Management", [target]);
let db: Db;
let fabrikam: Fabrikam;
const servers: RedisServer[] = [];
const workers: WorkerProcess[] = [];
const clients: JobClient[] = [];

beforeAll(async () => {
  db = createDb(workerDatabaseUrl());
  fabrikam = await prepareFabrikam(db);
  // The bulk rows these tests insert would count against the requester's cap of waiting requests.
  await db.elevatedAccessControl.update({
    where: { organizationId: fabrikam.requester.organizationId },
    data: { maxPendingRequestsPerUser: 100_000 },
  });
  // The API-level requests below stay open side by side: one task each, under a role group's policy.
  await createApprovalPolicy(contextFor(db, fabrikam.admin), {
    type: "ROLE_GROUP",
    target: "Recipient Management",
    approvalType: "MANUAL",
  });
});

afterAll(async () => {
  for (const worker of workers) worker.child.kill("SIGKILL");
  for (const client of clients) await client.close();
  for (const server of servers) {
    server.resume();
    await server.kill();
  }
  await db?.$disconnect();
});

async function redisOfItsOwn(redisArgs: string[]): Promise<RedisServer> {
  const redis = await startRedisServer(redisArgs);
  servers.push(redis);
  return redis;
}

async function workerOn(redis: RedisServer, queuePrefix: string): Promise<WorkerProcess> {
  const worker = await spawnWorker({ redisUrl: redis.url, queuePrefix, reconcileIntervalSeconds });
  workers.push(worker);
  return worker;
}

/** A Redis of its own, a producer on it and a worker process, under a fresh queue prefix. */
async function isolated(name: string, redisArgs: string[] = []) {
  const redis = await redisOfItsOwn(redisArgs);
  const queuePrefix = uniquePrefix(name);
  const jobs = await jobClient(redis.url, queuePrefix);
  clients.push(jobs);
  const worker = await workerOn(redis, queuePrefix);
  return { redis, jobs, worker };
}

const organizationId = () => fabrikam.requester.organizationId;

describe("Redis faults", () => {
  it("Redis FLUSHALL with 500 pending requests and 200 active authorizations: overdue ones end within N, none early, future jobs come back", async () => {
    const { redis, jobs, worker } = await isolated("flushall");
    // Every deadline is an hour away while the rows and jobs are set up, however long that
    // takes; the "due" half is brought forward only once Redis has lost everything.
    let dueAt = new Date(Date.now() + hour);
    const laterAt = new Date(Date.now() + 2 * hour);
    const dueRequests = await insertPendingRequests(db, fabrikam.requester, Array(250).fill(dueAt));
    const laterRequests = await insertPendingRequests(db, fabrikam.requester, Array(250).fill(laterAt));
    const dueGrants = await insertActiveAuthorizations(db, fabrikam.requester, Array(100).fill(dueAt));
    const laterGrants = await insertActiveAuthorizations(db, fabrikam.requester, Array(100).fill(laterAt));
    const dueAuthorizations = dueGrants.map((grant) => grant.authorizationId);
    const laterAuthorizations = laterGrants.map((grant) => grant.authorizationId);
    const requestWakeups = (ids: string[], at: Date) =>
      ids.map((requestId) => ({ payload: { requestId, organizationId: organizationId() }, at }));
    const endWakeups = (ids: string[], at: Date) =>
      ids.map((authorizationId) => ({ payload: { authorizationId, organizationId: organizationId() }, at }));
    await jobs.queues.schedule("expireRequest", [
      ...requestWakeups(dueRequests, dueAt),
      ...requestWakeups(laterRequests, laterAt),
    ]);
    await jobs.queues.schedule("endAuthorization", [
      ...endWakeups(dueAuthorizations, dueAt),
      ...endWakeups(laterAuthorizations, laterAt),
    ]);
    expect(await jobs.queues.missing("expireRequest", [...dueRequests, ...laterRequests])).toEqual([]);
    expect(await jobs.queues.missing("endAuthorization", [...dueAuthorizations, ...laterAuthorizations])).toEqual([]);

    // Everything Redis held is gone at once, before any of it was due.
    const [, [, size]] = (await jobs.redis.multi().flushall().dbsize().exec()) as [unknown, [unknown, number]];
    expect(size).toBe(0);
    dueAt = new Date(Date.now() + 2000);
    await db.accessRequest.updateMany({ where: { id: { in: dueRequests } }, data: { expiresAt: dueAt } });
    await db.accessAuthorization.updateMany({ where: { id: { in: dueAuthorizations } }, data: { endsAt: dueAt } });

    await waitFor(
      "the overdue rows to end",
      async () => {
        const [expired, ended] = await Promise.all([
          db.accessRequest.count({ where: { id: { in: dueRequests }, status: "EXPIRED" } }),
          db.accessAuthorization.count({ where: { id: { in: dueAuthorizations }, status: "ENDED" } }),
        ]);
        return expired === dueRequests.length && ended === dueAuthorizations.length;
      },
      { timeoutMs: dueAt.getTime() + n - Date.now(), intervalMs: 250 },
    );

    // None early.
    const expiries = await db.auditEvent.findMany({
      where: { action: "Expire-ElevatedAccessRequest", subjectId: { in: dueRequests } },
    });
    expect(expiries).toHaveLength(dueRequests.length);
    expect(expiries.every((event) => event.at >= dueAt)).toBe(true);
    const ends = await db.accessAuthorization.findMany({ where: { id: { in: dueAuthorizations } } });
    expect(ends.every((row) => row.endedAt! >= dueAt)).toBe(true);
    expect(
      await db.auditEvent.count({
        where: { action: "End-ElevatedAccessAuthorization", subjectId: { in: dueAuthorizations } },
      }),
    ).toBe(dueAuthorizations.length);

    // The future is untouched, and its jobs are back, due at their own time.
    expect(await db.accessRequest.count({ where: { id: { in: laterRequests }, status: "PENDING" } })).toBe(250);
    expect(await db.accessAuthorization.count({ where: { id: { in: laterAuthorizations }, status: "ACTIVE" } })).toBe(
      100,
    );
    await waitFor(
      "the future jobs to be re-added",
      async () =>
        (await jobs.queues.missing("expireRequest", laterRequests)).length === 0 &&
        (await jobs.queues.missing("endAuthorization", laterAuthorizations)).length === 0,
      { timeoutMs: n },
    );
    const sample = await jobs.job("expireRequest", laterRequests[0]!);
    expect(await jobs.jobState("expireRequest", laterRequests[0]!)).toBe("delayed");
    expect(sample!.timestamp + sample!.delay).toBeGreaterThan(laterAt.getTime() - 5000);

    expect((await worker.stop()).code).toBe(0);
    await redis.kill();
  }, 90_000);

  it("Redis down or hung: mutations commit without waiting for it, the reconciler re-adds their jobs once it is back, the worker stops cleanly", async () => {
    const { redis, jobs, worker } = await isolated("outage");
    const t: TestApp = await startTestApp({
      effects: jobs.effects,
      readinessChecks: { redis: () => jobs.queues.ping() },
    });
    t.app.server.listen(0, "127.0.0.1");
    await once(t.app.server, "listening");
    const apiUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    const probe = async (url: string) => {
      const response = await fetch(url);
      return { status: response.status, body: await response.json() };
    };

    try {
      const first = rawId(await createRequest(t, nextTarget()));
      expect(await jobs.jobState("expireRequest", first)).toBe("delayed");

      // Hung: connections stay open, nothing answers. Everything below returns while Redis is
      // still stopped, so nothing waits for it to answer (a hang would end in the test's timeout).
      redis.pause();
      const hungCreate = await createRequest(t, nextTarget());
      const hungApprove = await approve(t, first);
      const hungReady = await probe(`${apiUrl}/readyz`);
      redis.resume();
      expect(hungApprove.__typename).toBe("AccessRequest");
      expect(await db.accessRequest.count({ where: { id: rawId(hungCreate), status: "PENDING" } })).toBe(1);
      expect(hungReady).toMatchObject({ status: 503, body: { checks: { database: "ok", redis: "failing" } } });

      // Down: connections refused. Mutations commit while Redis is gone.
      await redis.kill();
      await waitFor("the producer to notice", async () => jobs.redis.status !== "ready");
      const created = await createRequest(t, nextTarget());
      const toApprove = rawId(await createRequest(t, nextTarget()));
      const approved = await approve(t, toApprove);
      const soon = rawId(await createRequest(t, nextTarget()));
      await db.accessRequest.update({ where: { id: soon }, data: { expiresAt: new Date(Date.now() + 1500) } });
      expect(approved.__typename).toBe("AccessRequest");
      const pending = rawId(created);
      expect((await db.accessRequest.findUniqueOrThrow({ where: { id: pending } })).status).toBe("PENDING");
      const grant = await db.accessAuthorization.findUniqueOrThrow({ where: { requestId: toApprove } });
      expect(grant.status).toBe("ACTIVE");

      const apiReady = await probe(`${apiUrl}/readyz`);
      expect(apiReady).toMatchObject({ status: 503, body: { checks: { database: "ok", redis: "failing" } } });
      expect(await probe(`${worker.healthUrl}/readyz`)).toMatchObject({
        status: 503,
        body: { checks: { redis: "failing" } },
      });
      expect(await probe(`${worker.healthUrl}/healthz`)).toMatchObject({ status: 200 });

      // The database alone is enough for what is overdue: the worker's reconciler expires it during the outage.
      await waitFor(
        "the request due during the outage to expire",
        async () => (await db.accessRequest.findUniqueOrThrow({ where: { id: soon } })).status === "EXPIRED",
        { timeoutMs: n },
      );

      // Back, empty: what was committed meanwhile gets its jobs.
      await redis.restart();
      await waitFor(
        "the jobs of the outage's mutations",
        async () =>
          jobs.redis.status === "ready" &&
          (await jobs.jobState("expireRequest", pending)) === "delayed" &&
          (await jobs.jobState("endAuthorization", grant.id)) === "delayed",
        { timeoutMs: n },
      );
      await waitFor("the API to be ready", async () => (await probe(`${apiUrl}/readyz`)).status === 200);
      await waitFor("the worker to be ready", async () => (await probe(`${worker.healthUrl}/readyz`)).status === 200);
      expect(worker.child.exitCode).toBeNull();

      // Shutting down while Redis is gone does not wait for it either: exit code 0 is the
      // graceful path; a shutdown stuck on Redis would be cut off after 30 s with exit code 1.
      await redis.kill();
      expect((await worker.stop()).code).toBe(0);
    } finally {
      t.app.server.close();
      await t.close();
    }
  }, 90_000);

  it("warns at start when Redis may evict jobs, or when it cannot tell", async () => {
    // No producer of the test's own on this Redis: BullMQ would print its eviction warning into the test output.
    const evicting = await workerOn(
      await redisOfItsOwn(["--maxmemory-policy", "allkeys-lru"]),
      uniquePrefix("evicting"),
    );
    const warning = await evicting.waitForLog("the eviction warning", (line) =>
      line.msg.includes("maxmemory-policy is not noeviction"),
    );
    expect(warning).toMatchObject({ level: 40, maxmemoryPolicy: "allkeys-lru" });

    const managed = await isolated("managed", ["--rename-command", "CONFIG", ""]);
    await managed.worker.waitForLog("the unknown-policy warning", (line) =>
      line.msg.includes("could not read Redis maxmemory-policy"),
    );
    await managed.worker.waitForLog("the start of its workers", (line) => line.msg === "job workers started");

    const [evictingExit, managedExit] = await Promise.all([evicting.stop(), managed.worker.stop()]);
    expect([evictingExit.code, managedExit.code]).toEqual([0, 0]);
    expect(evicting.logs.some((line) => line.msg.includes("could not read"))).toBe(false);
  }, 60_000);
});
