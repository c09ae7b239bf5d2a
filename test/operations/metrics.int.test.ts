import { tmpdir } from "node:os";
import path from "node:path";
import { print } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevIssuerKey, loadOrCreateDevIssuerKey } from "../../src/auth/dev-issuer.ts";
import { createDb, type Db } from "../../src/db/client.ts";
import { devMailbox } from "../../src/email/mailer.ts";
import { graphql } from "../graphql/index.ts";
import { AuthorizeTask, CreatePolicy, CreateRequest, EnableControl } from "../helpers/documents.ts";
import { rawId } from "../helpers/fixtures.ts";
import { actorFor, insertPendingRequests, type JobClient, jobClient, uniquePrefix } from "../helpers/jobs.ts";
import { type ApiProcess, spawnApi, spawnWorker, type WorkerProcess, waitFor } from "../helpers/processes.ts";
import { devTokenFor } from "../helpers/tokens.ts";
import { redisUrl, workerDatabaseUrl } from "../setup/test-env.ts";
import { expectType, isRefusal, post, subscribeSse } from "../subscriptions/clients.ts";

// The API (running the job workers too) and a separate worker as processes, each with
// METRICS_TOKEN: /metrics is read in the Prometheus text format as a scraper reads it.

const queuePrefix = uniquePrefix("metrics");
const keyFile = path.join(tmpdir(), `elevate-test-issuer-${queuePrefix}.json`);
const metricsToken = "test-metrics-token-0123456789";

let db: Db;
let key: DevIssuerKey;
let api: ApiProcess;
let worker: WorkerProcess;
let jobs: JobClient;

const Me = graphql(`
  query MetricsMe {
    me {
      email
    }
  }
`);

const tokenFor = (email: string) => devTokenFor(db, key, email, { issuer: "elevate-dev", audience: "elevate" });

beforeAll(async () => {
  key = await loadOrCreateDevIssuerKey(keyFile);
  db = createDb(workerDatabaseUrl());
  const env = { METRICS_TOKEN: metricsToken, LOG_LEVEL: "debug", RECONCILE_INTERVAL_SECONDS: "1" };
  [api, worker] = await Promise.all([
    spawnApi({ redisUrl, queuePrefix, devIssuerKeyFile: keyFile, worker: true, env }),
    spawnWorker({ redisUrl, queuePrefix, env: { METRICS_TOKEN: metricsToken } }),
  ]);
  jobs = await jobClient(redisUrl, queuePrefix);
  const admin = await tokenFor("admin@fabrikam.com");
  expectType(
    (await post(api.url, admin, EnableControl, { input: { adminGroup: "pamapprovers@fabrikam.com" } }))
      .enableElevatedAccessControl,
    "ElevatedAccessControl",
  );
  expectType(
    (
      await post(api.url, admin, CreatePolicy, {
        input: { target: "Exchange\\New-MoveRequest", approvalType: "MANUAL" },
      })
    ).createApprovalPolicy,
    "ApprovalPolicy",
  );
});

afterAll(async () => {
  const exits = await Promise.all([api?.stop(), worker?.stop()]);
  await jobs?.close();
  await db?.$disconnect();
  expect(exits.map((exit) => exit?.code)).toEqual([0, 0]);
});

type Samples = Map<string, number>;

/** Parses the text exposition format into `name{label="value",...}` -> value, labels sorted. */
function parseExposition(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const match = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const [, name, labels = "", value] = match;
    const pairs = [...labels.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map(
      ([, k, v]) => `${k}="${v}"`,
    );
    samples.set(`${name}{${pairs.sort().join(",")}}`, Number(value));
  }
  return samples;
}

async function scrape(baseUrl: string): Promise<Samples> {
  const response = await fetch(`${baseUrl}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(await response.text());
}

/** Both processes' samples added up: either may have run a job. */
async function scrapeBoth(): Promise<Samples> {
  const total: Samples = new Map();
  for (const samples of [await scrape(api.url), await scrape(worker.healthUrl)]) {
    for (const [key, sample] of samples) total.set(key, (total.get(key) ?? 0) + sample);
  }
  return total;
}

/** A sample by name and labels (in any order); 0 when absent. */
function value(samples: Samples, name: string, labels: Record<string, string> = {}): number {
  const key = `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(",")}}`;
  return samples.get(key) ?? 0;
}

describe("/metrics", () => {
  it("answers only a scraper with the metrics token, on the API and on the worker's health port", async () => {
    for (const base of [api.url, worker.healthUrl]) {
      expect((await fetch(`${base}/metrics`)).status).toBe(401);
      const wrong = await fetch(`${base}/metrics`, { headers: { authorization: "Bearer not-the-token-at-all" } });
      expect(wrong.status).toBe(401);
      expect(await wrong.text()).not.toContain("elevate_");
    }
    const fromWorker = await scrape(worker.healthUrl);
    expect([...fromWorker.keys()].some((sample) => sample.startsWith("elevate_queue_jobs{"))).toBe(true);
    expect(value(fromWorker, "process_cpu_user_seconds_total")).toBeGreaterThan(0);
  });

  it("moves as operations happen: HTTP, GraphQL by operation name, transitions, authorizeTask, queues, mail", async () => {
    const before = await scrapeBoth();
    const requester = await tokenFor("requester@fabrikam.com");
    await post(api.url, requester, Me);
    await post(api.url, requester, Me);
    const created = expectType(
      (
        await post(api.url, requester, CreateRequest, {
          input: { target: "Exchange\\New-MoveRequest", reason: "Metrics" },
        })
      ).createAccessRequest,
      "AccessRequest",
    );
    const check = (await post(api.url, requester, AuthorizeTask, { input: { task: "Exchange\\New-MoveRequest" } }))
      .authorizeTask;
    expect(check).toMatchObject({ allowed: false, reason: "NO_AUTHORIZATION" });

    const after = await waitFor("the approval mails to be sent", async () => {
      const samples = await scrapeBoth();
      return value(samples, "elevate_mail_total", { outcome: "sent" }) -
        value(before, "elevate_mail_total", { outcome: "sent" }) >=
        2
        ? samples
        : null;
    });
    const delta = (name: string, labels: Record<string, string> = {}) =>
      value(after, name, labels) - value(before, name, labels);
    expect(delta("elevate_graphql_operations_total", { operation: "MetricsMe", type: "query", outcome: "ok" })).toBe(2);
    expect(
      delta("elevate_graphql_operations_total", {
        operation: "CreateRequest",
        type: "mutation",
        outcome: "ok",
      }),
    ).toBe(1);
    expect(delta("elevate_graphql_operation_duration_seconds_count", { operation: "MetricsMe", type: "query" })).toBe(
      2,
    );
    expect(delta("elevate_http_requests_total", { method: "POST", route: "/graphql", status: "200" })).toBe(4);
    expect(delta("elevate_access_request_transitions_total", { type: "CREATED" })).toBe(1);
    expect(delta("elevate_authorize_task_total", { allowed: "false", reason: "NO_AUTHORIZATION" })).toBe(1);
    const queues = await scrape(api.url);
    expect(value(queues, "elevate_queue_jobs", { queue: "request-expiry", state: "delayed" })).toBeGreaterThanOrEqual(
      1,
    );
    expect(delta("elevate_job_lateness_seconds_count", { queue: "mail" })).toBeGreaterThanOrEqual(2);
    expect(delta("elevate_jobs_processed_total", { queue: "mail", outcome: "completed" })).toBeGreaterThanOrEqual(2);
    expect(await jobs.job("expireRequest", rawId(created.id))).toBeTruthy();
  });

  it("counts open subscriptions while they are open", async () => {
    const before = value(await scrape(api.url), "elevate_graphql_open_subscriptions");
    const subscriber = await subscribeSse(api.url, await tokenFor("admin@fabrikam.com"));
    if (isRefusal(subscriber)) throw new Error(subscriber.body);
    await waitFor(
      "the subscription to be counted",
      async () => value(await scrape(api.url), "elevate_graphql_open_subscriptions") === before + 1,
    );
    await subscriber.close();
    await waitFor(
      "the subscription to be let go",
      async () => value(await scrape(api.url), "elevate_graphql_open_subscriptions") === before,
    );
  });

  it("counts what the reconciler repairs", async () => {
    const before = await scrapeBoth();
    const requester = await actorFor(db, "requester@fabrikam.com");
    const [overdue] = await insertPendingRequests(db, requester, [new Date(Date.now() - 60_000)]);
    await waitFor(
      "the reconciler to expire the overdue request",
      async () => (await db.accessRequest.findUniqueOrThrow({ where: { id: overdue! } })).status === "EXPIRED",
    );
    const repaired = await waitFor("the repair to be counted", async () => {
      const samples = [await scrape(api.url), await scrape(worker.healthUrl)];
      const total = samples.reduce(
        (sum, s) => sum + value(s, "elevate_reconciler_repairs_total", { kind: "expired_request" }),
        0,
      );
      return total > value(before, "elevate_reconciler_repairs_total", { kind: "expired_request" }) ? total : null;
    });
    expect(repaired).toBeGreaterThanOrEqual(1);
  });
});

describe("request ids", () => {
  it("are taken from x-request-id when acceptable, answered, logged, and carried into jobs and mail", async () => {
    const requester = await tokenFor("approver2@fabrikam.com");
    const response = await fetch(`${api.url}/graphql`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${requester}`,
        "x-request-id": "req-ops-42",
      },
      body: JSON.stringify({
        query: print(CreateRequest),
        variables: { input: { target: "Exchange\\New-MoveRequest", reason: "Traced" } },
      }),
    });
    expect(response.headers.get("x-request-id")).toBe("req-ops-42");
    const body = (await response.json()) as { data: { createAccessRequest: { id: string } } };
    const requestId = rawId(body.data.createAccessRequest.id);

    await api.waitForLog("the request's log line", (line) => line.msg === "request" && line.requestId === "req-ops-42");
    const job = await jobs.job("expireRequest", requestId);
    expect(job?.data).toMatchObject({ requestId, correlationId: "req-ops-42" });
    const mailbox = devMailbox(path.join(tmpdir(), `elevate-test-mail-${queuePrefix}`), "", async () => "");
    const mail = await waitFor(
      "the approval mail it caused",
      async () => (await mailbox.list()).find((stored) => stored.requestId === "req-ops-42") ?? null,
    );
    expect(mail.text).toContain("Traced");
    const row = await db.emailMessage.findFirstOrThrow({ where: { requestId } });
    expect(row.correlationId).toBe("req-ops-42");
  });

  it("replace an unacceptable x-request-id with one of their own", async () => {
    for (const sent of ["a".repeat(129), "bad id", "semi;colon", 'quo"te', "slash/ed"]) {
      const response = await fetch(`${api.url}/healthz`, { headers: { "x-request-id": sent } });
      expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    }
    const response = await fetch(`${api.url}/healthz`);
    expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});
