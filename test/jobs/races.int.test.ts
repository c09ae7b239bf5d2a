import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { verifyAuditLog } from "../../src/domain/audit/audit.service.ts";
import { DomainError } from "../../src/domain/errors.ts";
import { approveAccessRequest } from "../../src/domain/requests/requests.service.ts";
import { testAuditKeys } from "../helpers/audit-keys.ts";
import { auditCounts, contextFor, insertPendingRequests } from "../helpers/jobs.ts";
import { waitFor } from "../helpers/processes.ts";
import { withWorker } from "../helpers/worker-file.ts";

const env = withWorker("races", { reconcileIntervalSeconds: 2, connections: 12 });

const hour = 3_600_000;

describe("expiry racing approvals", () => {
  it("1,000 requests expiring at T while approvals race around T: each ends in exactly one terminal state", async () => {
    const count = 1000;
    const spreadMs = 3000;
    // Rows first, an hour from expiry, however long that takes on a busy machine; T is set after.
    const ids = await insertPendingRequests(
      env.db,
      env.fabrikam.requester,
      Array(count).fill(new Date(Date.now() + hour)),
    );
    const outcomes = new Map<string, string>();
    const approver = contextFor(env.db, env.fabrikam.approver);
    // Two anchors make the race go both ways by construction: the first request is approved
    // before T exists at all; the last is approved only after it expired.
    const early = ids[0]!;
    const late = ids.at(-1)!;
    await approveAccessRequest(approver, { requestId: early });
    outcomes.set(early, "APPROVED");
    const racing = ids.slice(1);
    const expiresAt = new Date(Date.now() + 5000);
    await env.db.accessRequest.updateMany({ where: { id: { in: racing } }, data: { expiresAt } });
    await env.jobs.queues.schedule(
      "expireRequest",
      ids.map((requestId) => ({
        payload: { requestId, organizationId: env.fabrikam.requester.organizationId },
        at: expiresAt,
      })),
    );

    // Each approval is due at a random moment within ±3 s of T; eight run at a time, in due order.
    const plan = racing
      .slice(0, -1)
      .map((requestId) => ({ requestId, at: expiresAt.getTime() + (Math.random() * 2 - 1) * spreadMs }))
      .sort((a, b) => a.at - b.at);
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < plan.length) {
          const { requestId, at } = plan[next++]!;
          await sleep(at - Date.now());
          try {
            await approveAccessRequest(approver, { requestId });
            outcomes.set(requestId, "APPROVED");
          } catch (error) {
            outcomes.set(requestId, error instanceof DomainError ? error.code : String(error));
          }
        }
      }),
    );

    await waitFor(
      "no request to be left PENDING",
      async () => (await env.db.accessRequest.count({ where: { id: { in: ids }, status: "PENDING" } })) === 0,
      // Every one of them is due by now; how long the worker takes on a loaded machine is not the claim.
      { timeoutMs: 75_000, intervalMs: 250 },
    );
    try {
      await approveAccessRequest(approver, { requestId: late });
      outcomes.set(late, "APPROVED");
    } catch (error) {
      outcomes.set(late, error instanceof DomainError ? error.code : String(error));
    }
    const requests = await env.db.accessRequest.findMany({
      where: { id: { in: ids } },
      include: { authorization: true, decisions: true },
    });
    const approved = requests.filter((request) => request.status === "APPROVED");
    const expired = requests.filter((request) => request.status === "EXPIRED");
    expect(approved.length + expired.length).toBe(count);
    // Both ways, at least through the anchors.
    expect(approved.length).toBeGreaterThan(0);
    expect(expired.length).toBeGreaterThan(0);

    // Every refused approval was refused for the expiry, and the answers match the rows.
    expect(new Set(outcomes.values())).toEqual(new Set(["APPROVED", "REQUEST_EXPIRED"]));
    for (const request of requests)
      expect(outcomes.get(request.id), request.id).toBe(request.status === "APPROVED" ? "APPROVED" : "REQUEST_EXPIRED");

    for (const request of expired) {
      expect(request.authorization, `authorization of expired ${request.id}`).toBeNull();
      expect(request.decisions).toEqual([]);
    }
    for (const request of approved) {
      expect(request.authorization?.status).toBe("ACTIVE");
      expect(request.decidedAt!.getTime()).toBeLessThanOrEqual(request.expiresAt.getTime());
      expect(request.decisions).toHaveLength(1);
      expect(request.decisions[0]!.decidedAt.getTime()).toBeLessThanOrEqual(request.expiresAt.getTime());
    }

    // One terminal audit event per request, and the chain is intact after all that concurrency.
    const approvals = await auditCounts(env.db, "Approve-ElevatedAccessRequest", ids);
    const expiries = await auditCounts(env.db, "Expire-ElevatedAccessRequest", ids);
    for (const request of requests) {
      const events = [approvals.get(request.id) ?? 0, expiries.get(request.id) ?? 0];
      expect(events, request.id).toEqual(request.status === "APPROVED" ? [1, 0] : [0, 1]);
    }
    expect(await verifyAuditLog(env.db, testAuditKeys, env.fabrikam.requester.organizationId)).toMatchObject({
      ok: true,
    });
  }, 150_000);
});
