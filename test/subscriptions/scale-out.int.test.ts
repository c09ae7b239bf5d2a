import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevIssuerKey, loadOrCreateDevIssuerKey } from "../../src/auth/dev-issuer.ts";
import { createDb, type Db } from "../../src/db/client.ts";
import { createEventBus } from "../../src/events/event-bus.ts";
import {
  ApproveRequest,
  AuthorizeTask,
  CreatePolicy,
  CreateRequest,
  DeactivateUser,
  EnableControl,
  RemovePolicy,
  RevokeAuthorization,
} from "../helpers/documents.ts";
import { rawId, targetsOf } from "../helpers/fixtures.ts";
import { auditCounts, type JobClient, jobClient, uniquePrefix } from "../helpers/jobs.ts";
import { type ApiProcess, spawnApi, spawnWorker, type WorkerProcess, waitFor } from "../helpers/processes.ts";
import { devTokenFor } from "../helpers/tokens.ts";
import { redisUrl, workerDatabaseUrl } from "../setup/test-env.ts";
import { expectType, isRefusal, post, received, type Subscriber, subscribeSse, subscribeWs } from "./clients.ts";

// Two API processes (WORKER=false) and two workers on one database and one Redis:
// what happens on one instance reaches subscribers and caches on the other.

const queuePrefix = uniquePrefix("scale-out");
const keyFile = path.join(tmpdir(), `elevate-test-issuer-${queuePrefix}.json`);
// Each request its own task under the role group's policy: a requester keeps one open request per target.
const nextTarget = targetsOf("Recipient Management");

let db: Db;
let key: DevIssuerKey;
let api1: ApiProcess;
let api2: ApiProcess;
let workers: WorkerProcess[] = [];
let jobs: JobClient;
let fabrikamId: string;
let probeRequestId: string;
/** Every request this file created (the probe included). */
const createdRequests: string[] = [];
const subscribers: Subscriber[] = [];
// Publishes readiness probes through the same Redis event bus the processes share.
const probeRedis = { publish: new Redis(redisUrl), subscribe: new Redis(redisUrl), channelPrefix: queuePrefix };
const probeBus = createEventBus(probeRedis);

async function tokenFor(email: string, expiresIn = 3600): Promise<string> {
  // The defaults of JWT_ISSUER and JWT_AUDIENCE, which the spawned APIs use.
  return devTokenFor(db, key, email, { issuer: "elevate-dev", audience: "elevate", expiresIn });
}

async function createRequestOn(api: ApiProcess, as = "requester@fabrikam.com"): Promise<string> {
  const created = await post(api.url, await tokenFor(as), CreateRequest, {
    input: { target: nextTarget(), reason: "Customer escalation 4711" },
  });
  const { id } = expectType(created.createAccessRequest, "AccessRequest");
  createdRequests.push(id);
  return id;
}

beforeAll(async () => {
  key = await loadOrCreateDevIssuerKey(keyFile);
  db = createDb(workerDatabaseUrl());
  fabrikamId = (await db.organization.findFirstOrThrow({ where: { name: "Fabrikam" } })).id;
  const apiOptions = { redisUrl, queuePrefix, devIssuerKeyFile: keyFile };
  const workerOptions = { redisUrl, queuePrefix, reconcileIntervalSeconds: 2 };
  const started = await Promise.allSettled([
    spawnApi(apiOptions),
    spawnApi(apiOptions),
    spawnWorker(workerOptions),
    spawnWorker(workerOptions),
  ]);
  const [first, second, ...rest] = started.map((result) => (result.status === "fulfilled" ? result.value : null));
  api1 = first as ApiProcess;
  api2 = second as ApiProcess;
  workers = rest.filter((worker): worker is WorkerProcess => worker !== null);
  const failed = started.find((result) => result.status === "rejected");
  if (failed) throw failed.reason;
  jobs = await jobClient(redisUrl, queuePrefix);

  const admin = await tokenFor("admin@fabrikam.com");
  const enabled = await post(api2.url, admin, EnableControl, { input: { adminGroup: "pamapprovers@fabrikam.com" } });
  expectType(enabled.enableElevatedAccessControl, "ElevatedAccessControl");
  const policy = await post(api2.url, admin, CreatePolicy, {
    input: { type: "ROLE_GROUP", target: "Recipient Management", approvalType: "MANUAL" },
  });
  expectType(policy.createApprovalPolicy, "ApprovalPolicy");
  probeRequestId = await createRequestOn(api2);
}, 90_000);

afterAll(async () => {
  await Promise.all(subscribers.map((subscriber) => subscriber.close()));
  const exits = await Promise.all([api1, api2, ...workers].filter(Boolean).map((process) => process.stop()));
  await jobs?.close();
  await db?.$disconnect();
  probeRedis.publish.disconnect();
  probeRedis.subscribe.disconnect();
  await rm(keyFile, { force: true });
  for (const exit of exits) expect(exit).toEqual({ code: 0, signal: null });
}, 60_000);

/**
 * Publishes probe events about a request every subscriber may see until each one
 * got one, so the subscriptions provably listen through Redis before the test acts.
 */
async function untilDelivering(list: Subscriber[]) {
  const probe = rawId(probeRequestId);
  const probes = (subscriber: Subscriber) =>
    subscriber.events.filter((event) => event.requestId === probeRequestId).length;
  // A new probe on each: once it is in, everything published before it through Redis is too.
  const before = list.map(probes);
  await waitFor(
    "the subscriptions to receive through Redis",
    async () => {
      if (list.every((subscriber, index) => probes(subscriber) > before[index]!)) return true;
      probeBus.publishRequestEvent({
        type: "DECISION_RECORDED",
        requestId: probe,
        organizationId: fabrikamId,
        at: new Date().toISOString(),
      });
      return false;
    },
    { timeoutMs: 15_000, intervalMs: 200 },
  );
}

/** Subscribers on API 1: an admin over WebSocket and the requester over SSE. */
async function subscribeOnApi1(): Promise<Subscriber[]> {
  const ws = subscribeWs(api1.url, { authorization: `Bearer ${await tokenFor("admin@fabrikam.com")}` });
  const sse = await subscribeSse(api1.url, await tokenFor("requester@fabrikam.com"));
  subscribers.push(ws);
  if (isRefusal(sse)) throw new Error(`SSE refused: ${sse.status} ${sse.body}`);
  subscribers.push(sse);
  await untilDelivering([ws, sse]);
  return [ws, sse];
}

async function settle(list: Subscriber[], requestId: string, count: number, timeoutMs = 15_000) {
  const only = new Set([requestId]);
  await waitFor(
    `${count} events of the request on every subscriber`,
    async () => list.every((subscriber) => received(subscriber, only).length >= count),
    { timeoutMs },
  );
  // A late duplicate would have been published before this probe, and so would be in by now.
  await untilDelivering(list);
}

describe("two API instances and two workers", () => {
  let onApi1: Subscriber[];
  beforeAll(async () => {
    onApi1 = await subscribeOnApi1();
  });

  it("delivers the events of mutations on API 2 to subscribers on API 1, each once and in order", async () => {
    const requestId = await createRequestOn(api2);
    const approved = await post(api2.url, await tokenFor("approver1@fabrikam.com"), ApproveRequest, {
      input: { requestId },
    });
    expect(expectType(approved.approveAccessRequest, "AccessRequest").status).toBe("APPROVED");
    const revoked = await post(api2.url, await tokenFor("admin@fabrikam.com"), RevokeAuthorization, {
      input: { requestId },
    });
    expect(expectType(revoked.revokeAccessAuthorization, "AccessAuthorization").status).toBe("REVOKED");

    await settle(onApi1, requestId, 3);
    for (const subscriber of onApi1) {
      expect(received(subscriber, new Set([requestId])), subscriber.transport).toEqual([
        `CREATED ${requestId}`,
        `APPROVED ${requestId}`,
        `REVOKED ${requestId}`,
      ]);
      expect(subscriber.errors).toEqual([]);
    }
  });

  it("delivers the EXPIRED event of an expiry a worker carried out, once; the request expires once", async () => {
    const requestId = await createRequestOn(api2);
    const id = rawId(requestId);
    const expiresAt = new Date(Date.now() + 2000);
    await db.accessRequest.update({ where: { id }, data: { expiresAt } });
    // Its job (added by API 2, due in hours) moves to the new time; the workers'
    // reconcilers would expire the overdue row too, so they race the job.
    expect(await jobs.queues.cancel("expireRequest", id)).toBe(true);
    await jobs.queues.schedule("expireRequest", [
      { payload: { requestId: id, organizationId: fabrikamId }, at: expiresAt },
    ]);

    await settle(onApi1, requestId, 2, 15_000);
    for (const subscriber of onApi1) {
      expect(received(subscriber, new Set([requestId])), subscriber.transport).toEqual([
        `CREATED ${requestId}`,
        `EXPIRED ${requestId}`,
      ]);
    }
    const row = await db.accessRequest.findUniqueOrThrow({ where: { id } });
    expect(row.status).toBe("EXPIRED");
    expect(await auditCounts(db, "Expire-ElevatedAccessRequest", [id])).toEqual(new Map([[id, 1]]));
    const audit = await db.auditEvent.findFirstOrThrow({
      where: { subjectId: id, action: "Expire-ElevatedAccessRequest" },
    });
    expect(audit.at.getTime()).toBeGreaterThanOrEqual(expiresAt.getTime());
    expect(audit.actorId).toBeNull();
    // The job ran on a worker (it expired the request, or found the reconciler had).
    const job = await waitFor("the job to finish", async () =>
      (await jobs.jobState("expireRequest", id)) === "completed" ? jobs.job("expireRequest", id) : null,
    );
    // Either outcome is right (the reconcilers race the job); the answer is a yes or no, not an error.
    expect(job?.returnvalue).toEqual({ expired: expect.any(Boolean) });

    // Nothing else reached them (the Redis channels are shared with other test files' processes).
    const seen = new Set(onApi1.flatMap((subscriber) => subscriber.events.map((event) => event.requestId)));
    expect([...seen].filter((seenId) => !createdRequests.includes(seenId))).toEqual([]);
  });

  it("stops governing a task on API 1 once its policy is removed on API 2 (the cache is dropped through Redis)", async () => {
    const task = "Exchange\\New-InboundConnector";
    const admin = await tokenFor("admin@fabrikam.com");
    const created = await post(api2.url, admin, CreatePolicy, { input: { target: task, approvalType: "MANUAL" } });
    const policyId = expectType(created.createApprovalPolicy, "ApprovalPolicy").id;
    const requester = await tokenFor("requester@fabrikam.com");
    const check = async (api: ApiProcess) =>
      expectType(
        (await post(api.url, requester, AuthorizeTask, { input: { task } })).authorizeTask,
        "TaskAuthorization",
      ).reason;

    // API 1 learns of the new policy (its cache was dropped through Redis), then caches it.
    await waitFor("API 1 to govern the task", async () => (await check(api1)) === "NO_AUTHORIZATION");
    expect(await check(api1)).toBe("NO_AUTHORIZATION");

    const removed = await post(api2.url, admin, RemovePolicy, { input: { id: policyId } });
    expectType(removed.removeApprovalPolicy, "ApprovalPolicy");
    expect(await check(api2)).toBe("NOT_GOVERNED");
    // How soon is a matter of load; that it happens at all is the invalidation's doing.
    const reason = await waitFor("API 1 to stop governing the task", async () => {
      const answer = await check(api1);
      return answer === "NOT_GOVERNED" && answer;
    });
    expect(reason).toBe("NOT_GOVERNED");
  });
  it("refuses on API 1 a user deactivated on API 2 whose token API 1 had already accepted", async () => {
    const token = await tokenFor("approver2@fabrikam.com");
    const me = async (api: ApiProcess) => {
      const response = await fetch(`${api.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: "{ me { id } }" }),
      });
      return { status: response.status, body: (await response.json()) as { data?: { me: { id: string } } } };
    };
    // Accepted twice by API 1: the second answer came from its cache of resolved tokens.
    const first = await me(api1);
    expect(first.status).toBe(200);
    expect((await me(api1)).status).toBe(200);

    const deactivated = await post(api2.url, await tokenFor("admin@fabrikam.com"), DeactivateUser, {
      input: { userId: first.body.data!.me.id },
    });
    expect(expectType(deactivated.deactivateUser, "User").active).toBe(false);
    // Dropped through Redis: API 1 refuses the same token without waiting for it to expire.
    await waitFor("API 1 to refuse the deactivated user", async () => (await me(api1)).status === 401, {
      timeoutMs: 2000,
      intervalMs: 10,
    });
    expect((await me(api2)).status).toBe(401);
  });
});
