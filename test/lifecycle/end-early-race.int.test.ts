import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyAuditLog } from "../../src/domain/audit/audit.service.ts";
import { endAccessAuthorizationEarly } from "../../src/domain/authorizations/authorizations.service.ts";
import { serviceContext } from "../../src/domain/context.ts";
import { ConflictError } from "../../src/domain/errors.ts";
import { createWebhookEndpoint } from "../../src/domain/webhooks/webhooks.service.ts";
import { testAuditKeys } from "../helpers/audit-keys.ts";
import { auditCounts, contextFor, insertActiveAuthorizations } from "../helpers/jobs.ts";
import { waitFor } from "../helpers/processes.ts";
import { startWebhookReceiver, testWebhooks, type WebhookReceiver } from "../helpers/webhooks.ts";
import { withWorker } from "../helpers/worker-file.ts";

// The grantee ending their grant as its end job fires, against a real worker process.

const until = (at: Date) => sleep(Math.max(0, at.getTime() - Date.now()));

describe("ending early racing the end job", () => {
  const env = withWorker("end-early", {
    reconcileIntervalSeconds: 2,
    connections: 12,
    env: { WEBHOOKS_ALLOW_PRIVATE: "true" },
  });
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    // Every ENDED event is recorded as a webhook delivery in its transition, in whichever process it happens.
    await createWebhookEndpoint(
      serviceContext(
        { db: env.db, effects: env.jobs.effects, auditKeys: testAuditKeys, webhookSettings: testWebhooks.settings },
        env.fabrikam.admin.organizationId,
        env.fabrikam.admin,
      ),
      { url: receiver.url, events: ["ACCESS_REQUEST_ENDED"] },
    );
  });

  afterAll(async () => {
    await receiver?.close();
  });

  it("each grant ends once: one audit event, one ENDED event, one mail, whichever wins", async () => {
    const grants = await insertActiveAuthorizations(
      env.db,
      env.fabrikam.requester,
      Array(30).fill(new Date(Date.now() + 3_600_000)),
    );
    // The end falls 3 s after the setup however long a loaded machine took over it, so
    // the grantee's calls below really straddle it.
    const endsAt = new Date(Date.now() + 3000);
    await env.db.accessAuthorization.updateMany({
      where: { id: { in: grants.map((grant) => grant.authorizationId) } },
      data: { endsAt },
    });
    await env.jobs.queues.schedule(
      "endAuthorization",
      grants.map(({ authorizationId }) => ({
        payload: { authorizationId, organizationId: env.fabrikam.requester.organizationId },
        at: endsAt,
      })),
    );
    // The grantee ends each from 1 s before to 0.5 s after its end, as the end job fires.
    const grantee = contextFor(env.db, env.fabrikam.requester, env.jobs.effects);
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
        const rows = await env.db.accessAuthorization.findMany({ where: { id: { in: ids } } });
        return rows.every((row) => row.status === "ENDED") && rows;
      },
      { timeoutMs: 15_000 },
    );
    const natural = await auditCounts(env.db, "End-ElevatedAccessAuthorization", ids);
    const early = await auditCounts(env.db, "Stop-ElevatedAccessAuthorization", ids);
    const mails = await env.db.emailMessage.groupBy({
      by: ["authorizationId"],
      where: { authorizationId: { in: ids }, template: "access-ended" },
      _count: true,
    });
    const mailCount = new Map(mails.map((group) => [group.authorizationId, group._count]));
    const deliveries = await env.db.webhookDelivery.findMany({ where: { eventType: "ACCESS_REQUEST_ENDED" } });
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
    expect(await verifyAuditLog(env.db, testAuditKeys, env.fabrikam.requester.organizationId)).toMatchObject({
      ok: true,
    });
  });
});
