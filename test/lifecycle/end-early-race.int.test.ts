import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type Db } from "../../src/db/client.ts";
import { verifyAuditLog } from "../../src/domain/audit/audit.service.ts";
import { endAccessAuthorizationEarly } from "../../src/domain/authorizations/authorizations.service.ts";
import { serviceContext } from "../../src/domain/context.ts";
import { ConflictError } from "../../src/domain/errors.ts";
import { createWebhookEndpoint } from "../../src/domain/webhooks/webhooks.service.ts";
import { testAuditKeys } from "../helpers/audit-keys.ts";
import {
  auditCounts,
  contextFor,
  type Fabrikam,
  insertActiveAuthorizations,
  type JobClient,
  jobClient,
  prepareFabrikam,
  uniquePrefix,
} from "../helpers/jobs.ts";
import { spawnWorker, type WorkerProcess, waitFor } from "../helpers/processes.ts";
import { startWebhookReceiver, testWebhooks, type WebhookReceiver } from "../helpers/webhooks.ts";
import { redisUrl, workerDatabaseUrl } from "../setup/test-env.ts";

// The grantee ending their grant as its end job fires, against a real worker process.

const until = (at: Date) => sleep(Math.max(0, at.getTime() - Date.now()));

describe("ending early racing the end job", () => {
  let db: Db;
  let fabrikam: Fabrikam;
  let jobs: JobClient;
  let worker: WorkerProcess;
  let receiver: WebhookReceiver;
  const queuePrefix = uniquePrefix("end-early");

  beforeAll(async () => {
    db = createDb(workerDatabaseUrl(), { max: 12 });
    fabrikam = await prepareFabrikam(db);
    jobs = await jobClient(redisUrl, queuePrefix);
    receiver = await startWebhookReceiver();
    // Every ENDED event is recorded as a webhook delivery in its transition, in whichever process it happens.
    await createWebhookEndpoint(
      serviceContext(
        { db, effects: jobs.effects, auditKeys: testAuditKeys, webhookSettings: testWebhooks.settings },
        fabrikam.admin.organizationId,
        fabrikam.admin,
      ),
      { url: receiver.url, events: ["ACCESS_REQUEST_ENDED"] },
    );
    worker = await spawnWorker({ redisUrl, queuePrefix, env: { WEBHOOKS_ALLOW_PRIVATE: "true" } });
  });

  afterAll(async () => {
    const exit = await worker?.stop();
    await jobs?.close();
    await receiver?.close();
    await db?.$disconnect();
    expect(exit?.code).toBe(0);
  });

  it("each grant ends once: one audit event, one ENDED event, one mail, whichever wins", async () => {
    const endsAt = new Date(Date.now() + 3000);
    const grants = await insertActiveAuthorizations(db, fabrikam.requester, Array(30).fill(endsAt));
    await jobs.queues.schedule(
      "endAuthorization",
      grants.map(({ authorizationId }) => ({
        payload: { authorizationId, organizationId: fabrikam.requester.organizationId },
        at: endsAt,
      })),
    );
    // The grantee ends each from 1 s before to 0.5 s after its end, as the end job fires.
    const grantee = contextFor(db, fabrikam.requester, jobs.effects);
    const outcomes = await Promise.all(
      grants.map(async ({ authorizationId }, index) => {
        await until(new Date(endsAt.getTime() - 1000 + (1500 * index) / grants.length));
        try {
          await endAccessAuthorizationEarly(grantee, { authorizationId, reason: "done" });
          return "ended early";
        } catch (error) {
          if (error instanceof ConflictError) return "lost";
          throw error;
        }
      }),
    );
    const ids = grants.map((grant) => grant.authorizationId);
    const settled = await waitFor(
      "every authorization to settle",
      async () => {
        const rows = await db.accessAuthorization.findMany({ where: { id: { in: ids } } });
        return rows.every((row) => row.status === "ENDED") && rows;
      },
      { timeoutMs: 15_000 },
    );
    const natural = await auditCounts(db, "End-ElevatedAccessAuthorization", ids);
    const early = await auditCounts(db, "Stop-ElevatedAccessAuthorization", ids);
    const mails = await db.emailMessage.groupBy({
      by: ["authorizationId"],
      where: { authorizationId: { in: ids }, template: "access-ended" },
      _count: true,
    });
    const mailCount = new Map(mails.map((group) => [group.authorizationId, group._count]));
    const deliveries = await db.webhookDelivery.findMany({ where: { eventType: "ACCESS_REQUEST_ENDED" } });
    const eventCount = new Map<string, number>();
    for (const delivery of deliveries) {
      const id = (delivery.payload as { data: { authorization: { id: string } } }).data.authorization.id;
      eventCount.set(id, (eventCount.get(id) ?? 0) + 1);
    }
    for (const row of settled) {
      expect((natural.get(row.id) ?? 0) + (early.get(row.id) ?? 0), `audit events of ${row.id}`).toBe(1);
      expect(mailCount.get(row.id), `mail about ${row.id}`).toBe(1);
      expect(eventCount.get(row.id), `ENDED events of ${row.id}`).toBe(1);
      if (early.get(row.id)) {
        expect(row.endedAt!.getTime()).toBeLessThan(row.endsAt.getTime());
        expect(row.endComment).toBe("done");
      } else {
        expect(row.endedAt!.getTime()).toBeGreaterThanOrEqual(row.endsAt.getTime());
        expect(row.endComment).toBeNull();
      }
    }
    const endedEarly = settled.filter((row) => early.get(row.id)).length;
    expect(outcomes.filter((outcome) => outcome === "ended early")).toHaveLength(endedEarly);
    // The race really went both ways.
    expect(endedEarly).toBeGreaterThan(0);
    expect(endedEarly).toBeLessThan(grants.length);
    expect(await verifyAuditLog(db, testAuditKeys, fabrikam.requester.organizationId)).toMatchObject({ ok: true });
  });
});
