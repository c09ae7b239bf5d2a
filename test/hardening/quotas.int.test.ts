import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevIssuerKey, loadOrCreateDevIssuerKey } from "../../src/auth/dev-issuer.ts";
import { createDb, type Db } from "../../src/db/client.ts";
import { rotateScimSecret } from "../../src/domain/organizations.service.ts";
import { createApprovalPolicy } from "../../src/domain/policies/policies.service.ts";
import { testAuditKeys } from "../helpers/audit-keys.ts";
import { AuthorizeTask, CreateRequest, UpdateControl } from "../helpers/documents.ts";
import { rawId } from "../helpers/fixtures.ts";
import { contextFor, noEffects, prepareFabrikam, uniquePrefix } from "../helpers/jobs.ts";
import { type ApiProcess, type RedisServer, spawnApi, startRedisServer, waitFor } from "../helpers/processes.ts";
import { devTokenFor } from "../helpers/tokens.ts";
import { workerDatabaseUrl } from "../setup/test-env.ts";
import { isRefusal, post, type Subscriber, subscribeSse, subscribeWs } from "../subscriptions/clients.ts";

// Issue 10: quotas kept in Redis, shared by two API processes: request creation and
// authorizeTask per user, open subscriptions per user, SCIM requests per organization;
// one open request per target and a cap on waiting requests in the database. While
// Redis is down, checks and provisioning go on and request creation stops.

const queuePrefix = uniquePrefix("quotas");
const keyFile = path.join(tmpdir(), `elevate-test-issuer-${queuePrefix}.json`);
const quotas = {
  QUOTA_REQUESTS_PER_HOUR: "3",
  QUOTA_AUTHORIZE_TASK_PER_MINUTE: "5",
  QUOTA_SUBSCRIPTIONS_PER_USER: "2",
  QUOTA_SCIM_REQUESTS_PER_MINUTE: "4",
};

let db: Db;
let key: DevIssuerKey;
let redis: RedisServer;
let apis: ApiProcess[] = [];
const subscribers: Subscriber[] = [];
let scimSecret: string;

beforeAll(async () => {
  key = await loadOrCreateDevIssuerKey(keyFile);
  db = createDb(workerDatabaseUrl());
  const fabrikam = await prepareFabrikam(db);
  await createApprovalPolicy(contextFor(db, fabrikam.admin), {
    type: "ROLE_GROUP",
    target: "Recipient Management",
    approvalType: "MANUAL",
  });
  scimSecret = await rotateScimSecret({ db, auditKeys: testAuditKeys, effects: noEffects }, "Fabrikam");
  redis = await startRedisServer(["--maxmemory-policy", "noeviction"]);
  const options = { redisUrl: redis.url, queuePrefix, devIssuerKeyFile: keyFile, env: quotas };
  apis = await Promise.all([spawnApi(options), spawnApi(options)]);
}, 90_000);

afterAll(async () => {
  await Promise.all(subscribers.map((subscriber) => subscriber.close()));
  await Promise.all(apis.map((api) => api.stop()));
  await redis?.kill();
  await db?.$disconnect();
  await rm(keyFile, { force: true });
}, 60_000);

const token = (email: string) => devTokenFor(db, key, email, { issuer: "elevate-dev", audience: "elevate" });

async function file(api: ApiProcess, as: string, target: string) {
  return (
    await post(api.url, await token(as), CreateRequest, { input: { target, reason: "Customer escalation 4711" } })
  ).createAccessRequest;
}

/** A SCIM read, as the directory's provisioning client makes them. */
async function scimRead(api: ApiProcess) {
  const response = await fetch(`${api.url}/scim/v2/Users?count=1`, {
    headers: { authorization: `Bearer ${scimSecret}` },
  });
  return { status: response.status, retryAfter: response.headers.get("retry-after"), body: await response.json() };
}

async function check(api: ApiProcess, as: string) {
  return (await post(api.url, await token(as), AuthorizeTask, { input: { task: "Exchange\\Set-Mailbox" } }))
    .authorizeTask;
}

describe("quotas shared by two API instances", () => {
  it("refuse the request over the hourly quota on either instance with a retry-after, writing nothing", async () => {
    const tasks = [
      "Exchange\\Set-Mailbox",
      "Exchange\\New-Mailbox",
      "Exchange\\Remove-Mailbox",
      "Exchange\\Enable-Mailbox",
    ];
    const answers = [];
    for (const [index, task] of tasks.entries())
      answers.push(await file(apis[index % 2]!, "requester@fabrikam.com", task));
    expect(answers.slice(0, 3).map((answer) => answer.__typename)).toEqual([
      "AccessRequest",
      "AccessRequest",
      "AccessRequest",
    ]);
    expect(answers[3]).toMatchObject({ __typename: "RateLimitedError", code: "RATE_LIMITED" });
    const retryAfter = answers[3]?.__typename === "RateLimitedError" ? answers[3].retryAfterSeconds : 0;
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect(await db.accessRequest.count({ where: { target: "Exchange\\Enable-Mailbox" } })).toBe(0);
  });

  it("refuse checks over the per-minute quota on either instance, and log the refusal", async () => {
    const answers = [];
    for (let index = 0; index < 6; index++) answers.push(await check(apis[index % 2]!, "approver1@fabrikam.com"));
    expect(answers.slice(0, 5).every((answer) => answer.__typename === "TaskAuthorization")).toBe(true);
    expect(answers[5]).toMatchObject({ __typename: "RateLimitedError", code: "RATE_LIMITED" });
    const refused = await db.taskExecution.findFirstOrThrow({ where: { reason: "REFUSED" }, orderBy: { id: "desc" } });
    expect(refused.refusal).toMatch(/^RATE_LIMITED: over the quota of at most 5 checks a minute/);
  });

  it("refuse the SCIM client over its organization's per-minute quota on either instance", async () => {
    const answers = [];
    for (let index = 0; index < 5; index++) answers.push(await scimRead(apis[index % 2]!));
    expect(answers.slice(0, 4).map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    expect(answers[4]).toMatchObject({
      status: 429,
      body: { status: "429", detail: expect.stringMatching(/at most 4 SCIM requests a minute/) },
    });
    expect(Number(answers[4]?.retryAfter)).toBeGreaterThan(0);
  });

  it("refuse a third open subscription across the instances, and take a new one once one closes", async () => {
    const auditor = await token("auditor@fabrikam.com");
    const auditorId = (await db.user.findFirstOrThrow({ where: { email: "auditor@fabrikam.com" } })).id;
    const slots = new Redis(redis.url);
    const held = () => slots.zcard(`${queuePrefix}:quota:subscriptions:${auditorId}`);
    try {
      const first = subscribeWs(apis[0]!.url, { authorization: `Bearer ${auditor}` });
      const second = await subscribeSse(apis[1]!.url, auditor);
      if (isRefusal(second)) throw new Error(second.body);
      subscribers.push(first, second);
      await waitFor("two slots held", async () => (await held()) === 2);

      const third = subscribeWs(apis[1]!.url, { authorization: `Bearer ${auditor}` });
      subscribers.push(third);
      await third.ended;
      expect(JSON.stringify(third.errors)).toMatch(/at most 2 open subscriptions per user/);
      expect(await held()).toBe(2);

      await second.close();
      await waitFor("the closed stream's slot to be given back", async () => (await held()) === 1);
      const fourth = subscribeWs(apis[0]!.url, { authorization: `Bearer ${auditor}` });
      subscribers.push(fourth);
      await waitFor("the new stream to hold a slot", async () => (await held()) === 2);
      expect(fourth.isEnded()).toBe(false);
      expect(first.isEnded()).toBe(false);
    } finally {
      slots.disconnect();
    }
  });
});

describe("rules in the database", () => {
  it("name the open request for the same target, and cap the requests waiting at once", async () => {
    const first = await file(apis[0]!, "approver2@fabrikam.com", "Exchange\\Set-MailUser");
    expect(first.__typename).toBe("AccessRequest");
    const again = await file(apis[1]!, "approver2@fabrikam.com", "exchange/set-mailuser");
    expect(again).toMatchObject({
      code: "CONFLICT",
      message: expect.stringContaining(
        `open request for Exchange\\Set-MailUser (${rawId((first as { id: string }).id)})`,
      ),
    });
    const admin = await token("admin@fabrikam.com");
    const updated = await post(apis[0]!.url, admin, UpdateControl, { input: { maxPendingRequestsPerUser: 1 } });
    expect(updated.updateElevatedAccessControl.__typename).toBe("ElevatedAccessControl");
    expect(await file(apis[1]!, "approver2@fabrikam.com", "Exchange\\New-MailContact")).toMatchObject({
      code: "LIMIT_EXCEEDED",
    });
  });
});

describe("while Redis is down", () => {
  it("keeps answering checks and refuses new requests until it is back", async () => {
    await redis.kill();
    const answer = await check(apis[0]!, "admin@fabrikam.com");
    expect(answer.__typename).toBe("TaskAuthorization");
    // Provisioning goes on too: a deactivation must not wait for the counter to come back.
    expect((await scimRead(apis[1]!)).status).toBe(200);
    expect(await file(apis[1]!, "auditor@fabrikam.com", "Exchange\\New-DistributionGroup")).toMatchObject({
      code: "RATE_LIMITED",
      message: expect.stringContaining("quota store is unreachable"),
    });
    await redis.restart();
    await waitFor("request creation to work again", async () => {
      const result = await file(apis[1]!, "auditor@fabrikam.com", "Exchange\\New-DistributionGroup");
      return result.__typename === "AccessRequest";
    });
  });
});
