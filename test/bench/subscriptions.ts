// The subscriptions part of `npm run bench`: SSE subscribers of accessRequestChanged
// spread over two API instances on one Redis bus; requests created and approved on
// alternating instances; from each mutation's response to each subscriber's event.
import { rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { loadOrCreateDevIssuerKey } from "../../src/auth/dev-issuer.ts";
import { createApprovalPolicy } from "../../src/domain/policies/policies.service.ts";
import { ApproveRequest, CreateRequest } from "../helpers/documents.ts";
import { targetsOf } from "../helpers/fixtures.ts";
import { contextFor, jobClient, uniquePrefix } from "../helpers/jobs.ts";
import { type ApiProcess, spawnApi, waitFor } from "../helpers/processes.ts";
import { devTokenFor } from "../helpers/tokens.ts";
import { redisUrl } from "../setup/test-env.ts";
import { expectType, isRefusal, post, type Subscriber, subscribeSse } from "../subscriptions/clients.ts";
import {
  type Db,
  entryPoint,
  type Fabrikam,
  loads,
  logErrors,
  ms,
  quantile,
  quick,
  row,
  stopMeasured,
} from "./common.ts";

/** Who subscribes: readers (admin, auditor) and the members of the policy's approver group. */
const watchers = ["admin@fabrikam.com", "auditor@fabrikam.com", "approver1@fabrikam.com", "approver2@fabrikam.com"];
const roleGroup = "Recipient Management";

export async function benchSubscriptions(db: Db, fabrikam: Fabrikam) {
  const subscriberCount = quick ? 100 : 1_000;
  const requestCount = quick ? 10 : 20;
  /** Between one mutation's response and the next mutation. */
  const gapMs = 100;
  const queuePrefix = uniquePrefix("bench-subscriptions");
  const keyFile = path.join(tmpdir(), `elevate-bench-subscriptions-${process.pid}.json`);
  const key = await loadOrCreateDevIssuerKey(keyFile);
  const tokenFor = (email: string) => devTokenFor(db, key, email, { issuer: "elevate-dev", audience: "elevate" });
  await createApprovalPolicy(contextFor(db, fabrikam.admin), {
    type: "ROLE_GROUP",
    target: roleGroup,
    approvalType: "MANUAL",
  });
  const nextTarget = targetsOf(roleGroup);
  const jobs = await jobClient(redisUrl, queuePrefix);
  // Each watcher holds a quarter of the streams: the per-user limit (20 by default) is raised for the bench.
  const env = { QUOTA_SUBSCRIPTIONS_PER_USER: String(subscriberCount), LOG_LEVEL: "info" };
  const apis: ApiProcess[] = [];
  const subscribers: Subscriber[] = [];
  try {
    apis.push(
      ...(await Promise.all(
        [0, 1].map(() => spawnApi({ redisUrl, queuePrefix, devIssuerKeyFile: keyFile, env, ...entryPoint("server") })),
      )),
    );
    const watcherTokens = await Promise.all(watchers.map(tokenFor));
    const requester = await tokenFor("requester@fabrikam.com");
    const approver = await tokenFor("approver1@fabrikam.com");
    // Opened 50 at a time, alternating between the instances.
    for (let first = 0; first < subscriberCount; first += 50) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(50, subscriberCount - first) }, async (_, j) => {
          const i = first + j;
          const subscriber = await subscribeSse(apis[i % 2]!.url, watcherTokens[i % watchers.length]!);
          if (isRefusal(subscriber))
            throw new Error(`subscription ${i} refused: ${subscriber.status} ${subscriber.body}`);
          return subscriber;
        }),
      );
      subscribers.push(...batch);
    }

    /** Creates a request on one instance and approves it on the other; each mutation's response time. */
    const mutations: { requestId: string; type: string; answeredAt: number }[] = [];
    const createAndApprove = async (on: number) => {
      const created = expectType(
        (await post(apis[on]!.url, requester, CreateRequest, { input: { target: nextTarget(), reason: "bench" } }))
          .createAccessRequest,
        "AccessRequest",
      );
      const createdAt = Date.now();
      await sleep(gapMs);
      const approved = expectType(
        (await post(apis[1 - on]!.url, approver, ApproveRequest, { input: { requestId: created.id } }))
          .approveAccessRequest,
        "AccessRequest",
      );
      if (approved.status !== "APPROVED") throw new Error(`not approved: ${JSON.stringify(approved)}`);
      return [
        { requestId: created.id, type: "CREATED", answeredAt: createdAt },
        { requestId: created.id, type: "APPROVED", answeredAt: Date.now() },
      ];
    };
    const deliveredEverywhere = (wanted: { requestId: string; type: string }[], timeoutMs: number) =>
      waitFor(
        "every subscriber's events",
        async () =>
          subscribers.every((subscriber) =>
            wanted.every((m) => subscriber.events.some((e) => e.requestId === m.requestId && e.type === m.type)),
          ),
        { timeoutMs, intervalMs: 100 },
      );
    // Warm-up, not measured: once every stream got this request's events, each listens through Redis.
    await deliveredEverywhere(await createAndApprove(0), 60_000);

    console.error(
      `Subscriptions: ${subscriberCount} SSE subscribers over 2 API instances, ${requestCount} requests created and approved on alternating instances`,
    );
    loads.push(loadavg()[0]!);
    for (let i = 0; i < requestCount; i++) {
      mutations.push(...(await createAndApprove(i % 2)));
      await sleep(gapMs);
    }
    loads.push(loadavg()[0]!);
    // Late is measured, not refused: wait long enough to see how late.
    await deliveredEverywhere(mutations, 30_000).catch(() => {});
    const delays: number[] = [];
    let missing = 0;
    for (const subscriber of subscribers)
      for (const m of mutations) {
        const event = subscriber.events.find((e) => e.requestId === m.requestId && e.type === m.type);
        if (event) delays.push(event.receivedAt - m.answeredAt);
        else missing++;
      }
    delays.sort((a, b) => a - b);
    const errors = subscribers.reduce((sum, subscriber) => sum + subscriber.errors.length, 0);
    const ended = subscribers.filter((subscriber) => subscriber.isEnded()).length;
    const p99 = quantile(delays, 0.99);
    row(
      `subscriptions: ${subscriberCount} SSE subscribers on 2 instances, ${mutations.length} mutations`,
      "p99 ≤ 250 ms, none missing",
      `p50 ${ms(quantile(delays, 0.5))}, p99 ${ms(p99)}, max ${ms(delays.at(-1) ?? Number.NaN)}; ${delays.length} of ${subscriberCount * mutations.length} events, ${missing} missing; ${errors} errors, ${ended} streams ended early`,
      p99 <= 250 && missing === 0 && errors === 0 && ended === 0,
    );
  } catch (error) {
    for (const [i, api] of apis.entries()) logErrors(`API ${i + 1}`, api);
    throw error;
  } finally {
    await Promise.all(subscribers.map((subscriber) => subscriber.close()));
    for (const [i, api] of apis.entries()) {
      const exit = await stopMeasured("API", `subscriptions ${i + 1}`, api);
      if (exit.code !== 0)
        console.error(`API ${i + 1} exited with ${JSON.stringify(exit)}:\n${api.output().slice(-4000)}`);
    }
    await jobs.close();
    await rm(keyFile, { force: true });
  }
}
