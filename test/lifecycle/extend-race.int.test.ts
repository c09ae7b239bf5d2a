import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { verifyAuditLog } from "../../src/domain/audit/audit.service.ts";
import { endAccessAuthorization } from "../../src/domain/authorizations/authorizations.service.ts";
import { serviceContext } from "../../src/domain/context.ts";
import { DomainError } from "../../src/domain/errors.ts";
import { approveAccessRequest } from "../../src/domain/requests/requests.service.ts";
import { testAuditKeys } from "../helpers/audit-keys.ts";
import { auditCounts, contextFor, insertActiveAuthorizations } from "../helpers/jobs.ts";
import { waitFor } from "../helpers/processes.ts";
import { withWorker } from "../helpers/worker-file.ts";

// Approving an extension as the grant's end job fires, against a real worker process:
// each grant is either extended (and stays ACTIVE, its end job moved) or ends (and its
// extension is canceled), never both, never neither.

const hour = 3_600_000;
const until = (at: Date) => sleep(Math.max(0, at.getTime() - Date.now()));

const env = withWorker("extend-race", { reconcileIntervalSeconds: 2, connections: 12 });

/** One PENDING extension request by one hour per grant, as requestAccessExtension files it. */
async function insertExtensions(grants: { authorizationId: string; requestId: string }[]): Promise<string[]> {
  const originals = await env.db.accessRequest.findMany({
    where: { id: { in: grants.map((grant) => grant.requestId) } },
  });
  const byId = new Map(originals.map((request) => [request.id, request]));
  const now = new Date();
  const rows = await env.db.accessRequest.createManyAndReturn({
    data: grants.map(({ authorizationId, requestId }) => {
      const {
        id: _id,
        decidedAt: _decidedAt,
        status: _status,
        laterStages: _laterStages,
        ...original
      } = byId.get(requestId)!;
      return {
        ...original,
        reason: "one more hour",
        durationHours: 1,
        extendsAuthorizationId: authorizationId,
        createdAt: now,
        expiresAt: new Date(now.getTime() + 24 * hour),
      };
    }),
    select: { id: true },
  });
  return rows.map((row) => row.id);
}

describe("extension racing the end job", () => {
  it("each grant is extended or ends, once: one audit event, one mail, its extension settled to match", async () => {
    const grants = await insertActiveAuthorizations(
      env.db,
      env.fabrikam.requester,
      Array(30).fill(new Date(Date.now() + hour)),
    );
    const extensions = await insertExtensions(grants);
    const ids = grants.map((grant) => grant.authorizationId);
    // The end falls 3 s after the setup however long a loaded machine took over it, so
    // the approvals below really straddle it.
    const endsAt = new Date(Date.now() + 3000);
    await env.db.accessAuthorization.updateMany({ where: { id: { in: ids } }, data: { endsAt } });
    await env.jobs.queues.schedule(
      "endAuthorization",
      grants.map(({ authorizationId }) => ({
        payload: { authorizationId, organizationId: env.fabrikam.requester.organizationId },
        at: endsAt,
      })),
    );
    // Approvals from 1 s before to 0.5 s after the end, as the end job fires.
    const approver = contextFor(env.db, env.fabrikam.approver, env.jobs.effects);
    const outcomes = await Promise.all(
      extensions.map(async (requestId, index) => {
        await until(new Date(endsAt.getTime() - 1000 + (1500 * index) / extensions.length));
        try {
          await approveAccessRequest(approver, { requestId });
          return "extended";
        } catch (error) {
          if (error instanceof DomainError) return error.code;
          throw error;
        }
      }),
    );
    await waitFor(
      "every grant to be extended or ended, and every extension settled",
      async () => {
        const pending = await env.db.accessRequest.count({ where: { id: { in: extensions }, status: "PENDING" } });
        const unsettled = await env.db.accessAuthorization.count({
          where: { id: { in: ids }, status: "ACTIVE", endsAt: { lte: new Date() } },
        });
        return pending === 0 && unsettled === 0;
      },
      { timeoutMs: 15_000 },
    );
    const rows = await env.db.accessAuthorization.findMany({ where: { id: { in: ids } } });
    const requests = new Map(
      (await env.db.accessRequest.findMany({ where: { id: { in: extensions } } })).map((request) => [
        request.extendsAuthorizationId!,
        request,
      ]),
    );
    const ended = await auditCounts(env.db, "End-ElevatedAccessAuthorization", ids);
    const set = await auditCounts(env.db, "Set-ElevatedAccessAuthorization", ids);
    const mails = await env.db.emailMessage.groupBy({
      by: ["authorizationId", "template"],
      where: { authorizationId: { in: ids }, template: { in: ["access-ended", "access-extended"] } },
      _count: true,
    });
    const mailOf = (id: string) => mails.filter((group) => group.authorizationId === id);
    for (const row of rows) {
      const extension = requests.get(row.id)!;
      if (row.status === "ACTIVE") {
        expect(row.endsAt.getTime(), row.id).toBe(endsAt.getTime() + hour);
        expect(extension.status).toBe("APPROVED");
        expect([ended.get(row.id) ?? 0, set.get(row.id) ?? 0], row.id).toEqual([0, 1]);
        expect(mailOf(row.id).map((group) => [group.template, group._count])).toEqual([["access-extended", 1]]);
        // The end job moved to the new end.
        expect(await env.jobs.jobState("endAuthorization", row.id)).toBe("delayed");
      } else {
        expect(row.status).toBe("ENDED");
        expect(row.endsAt.getTime(), row.id).toBe(endsAt.getTime());
        expect(extension.status).toBe("CANCELED");
        expect([ended.get(row.id) ?? 0, set.get(row.id) ?? 0], row.id).toEqual([1, 0]);
        expect(mailOf(row.id).map((group) => [group.template, group._count])).toEqual([["access-ended", 1]]);
      }
    }
    const extended = rows.filter((row) => row.status === "ACTIVE").length;
    expect(outcomes.filter((outcome) => outcome === "extended")).toHaveLength(extended);
    // A lost approval lost to the end: the grant had ended (CONFLICT), or its extension was canceled.
    for (const outcome of outcomes) expect(["extended", "CONFLICT", "ALREADY_DECIDED"]).toContain(outcome);
    // The race really went both ways.
    expect(extended).toBeGreaterThan(0);
    expect(extended).toBeLessThan(grants.length);
    expect(await verifyAuditLog(env.db, testAuditKeys, env.fabrikam.requester.organizationId)).toMatchObject({
      ok: true,
    });
  });
});

describe("an extension's approval holding its request as the grant ends", () => {
  it("takes the locks in one order: the end waits for the approval, no deadlock, the grant extended", async () => {
    const [grant] = await insertActiveAuthorizations(env.db, env.fabrikam.requester, [new Date(Date.now() + hour)]);
    const [extensionId] = await insertExtensions([grant!]);
    const grantId = grant!.authorizationId;
    let ending: Promise<unknown> | undefined;
    // As approveAccessRequest does: the extension request locked first, then the grant moved.
    await env.db.$transaction(
      async (tx) => {
        const [locker] = await tx.$queryRaw<{ pid: number }[]>`
          SELECT pg_backend_pid() AS pid FROM "AccessRequest" WHERE id = ${extensionId}::uuid FOR UPDATE`;
        // The grant falls due meanwhile and its end runs (here, and maybe the worker's reconciler too).
        await env.db.accessAuthorization.update({
          where: { id: grantId },
          data: { endsAt: new Date(Date.now() - 1000) },
        });
        ending = endAccessAuthorization(
          serviceContext(
            { db: env.db, effects: env.jobs.effects, auditKeys: testAuditKeys },
            env.fabrikam.requester.organizationId,
            null,
          ),
          grantId,
        );
        await waitFor("the end to wait on a lock this transaction holds", async () => {
          const [waiting] = await env.db.$queryRaw<{ blocked: number }[]>`
            SELECT count(*)::int AS blocked FROM pg_stat_activity WHERE ${locker!.pid}::int = ANY(pg_blocking_pids(pid))`;
          return waiting!.blocked > 0;
        });
        await tx.accessAuthorization.update({ where: { id: grantId }, data: { endsAt: new Date(Date.now() + hour) } });
      },
      { timeout: 30_000 },
    );
    // Had the end locked the grant before the extension request, one of the two would have died in a deadlock.
    expect(await ending).toMatchObject({ kind: "notDue" });
    expect(await env.db.accessAuthorization.findUniqueOrThrow({ where: { id: grantId } })).toMatchObject({
      status: "ACTIVE",
    });
  });
});
