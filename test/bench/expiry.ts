// The expiry part of `npm run bench`: a burst of requests falling due, expired by a worker.
import { loadavg } from "node:os";
import { insertPendingRequests, jobClient } from "../helpers/jobs.ts";
import { spawnWorker, waitFor } from "../helpers/processes.ts";
import { redisUrl } from "../setup/test-env.ts";
import { type Db, entryPoint, type Fabrikam, loads, ms, quantile, quick, row, stopMeasured } from "./common.ts";

/**
 * Requests scheduled with the product's own effect (requestCreated → a delayed
 * expireRequest job); `due` of them fall due within `windowMs`, the rest a day later.
 * Lateness is each Expire-ElevatedAccessRequest audit event's time minus the request's expiry.
 */
export async function benchExpiry(db: Db, fabrikam: Fabrikam, queuePrefix: string) {
  const scheduled = quick ? 2_000 : 100_000;
  const due = quick ? 500 : 10_000;
  const windowMs = quick ? 5_000 : 10_000;
  const jobs = await jobClient(redisUrl, queuePrefix);
  // BENCH_WORKERS=n: n worker processes on the same queues (the README's M workers).
  const workers = await Promise.all(
    Array.from({ length: Number(process.env.BENCH_WORKERS ?? 1) }, () =>
      spawnWorker({
        redisUrl,
        queuePrefix,
        reconcileIntervalSeconds: 30,
        env: { LOG_LEVEL: "info" },
        ...entryPoint("worker"),
      }),
    ),
  );
  try {
    // Scheduling 100,000 takes a while: the window starts once they all are.
    const setupMs = quick ? 10_000 : 240_000;
    const start = Date.now() + setupMs;
    const later = new Date(Date.now() + 24 * 3_600_000);
    const dueIds: { id: string; expiresAt: Date }[] = [];
    const chunk = 1_000;
    for (let offset = 0; offset < scheduled; offset += chunk) {
      const expiries = Array.from({ length: Math.min(chunk, scheduled - offset) }, (_, i) =>
        offset + i < due ? new Date(start + Math.floor(((offset + i) * windowMs) / due)) : later,
      );
      const ids = await insertPendingRequests(db, fabrikam.requester, expiries);
      await jobs.effects.dispatch(
        ids.map((requestId, i) => ({
          kind: "requestCreated" as const,
          requestId,
          organizationId: fabrikam.requester.organizationId,
          expiresAt: expiries[i]!,
        })),
      );
      ids.forEach((id, i) => {
        if (offset + i < due) dueIds.push({ id, expiresAt: expiries[i]! });
      });
    }
    if (Date.now() > start) throw new Error(`scheduling took longer than ${setupMs} ms; raise setupMs`);
    console.error(
      `Expiry: ${scheduled} scheduled, ${due} due within ${windowMs / 1000} s from ${new Date(start).toISOString()}`,
    );
    loads.push(loadavg()[0]!);
    const ids = dueIds.map((entry) => entry.id);
    await waitFor(
      "every due request to expire",
      async () => (await db.accessRequest.count({ where: { id: { in: ids }, status: "EXPIRED" } })) === due,
      // Late is measured, not refused: wait long enough to see how late.
      { timeoutMs: setupMs + windowMs + (quick ? 120_000 : 900_000), intervalMs: 500 },
    );
    const events = await db.auditEvent.findMany({
      where: { action: "Expire-ElevatedAccessRequest", subjectId: { in: ids } },
      select: { subjectId: true, at: true },
    });
    const expiresAt = new Map(dueIds.map((entry) => [entry.id, entry.expiresAt.getTime()]));
    const counts = new Map<string, number>();
    const lateness: number[] = [];
    for (const event of events) {
      counts.set(event.subjectId!, (counts.get(event.subjectId!) ?? 0) + 1);
      lateness.push(event.at.getTime() - expiresAt.get(event.subjectId!)!);
    }
    lateness.sort((a, b) => a - b);
    const early = lateness.filter((late) => late < 0).length;
    const onceEach = ids.every((id) => counts.get(id) === 1);
    const notDueYet = await db.accessRequest.count({
      where: { status: "PENDING", organizationId: fabrikam.requester.organizationId },
    });
    const p50 = quantile(lateness, 0.5);
    const p99 = quantile(lateness, 0.99);
    const max = lateness.at(-1) ?? Number.NaN;
    row(
      `expiry burst: ${due} of ${scheduled} due within ${windowMs / 1000} s${workers.length > 1 ? `, ${workers.length} workers` : ""}`,
      "none early, each once, p99 ≤ 1 s, max ≤ 2 s",
      `lateness p50 ${ms(p50)}, p99 ${ms(p99)}, max ${ms(max)}; ${early} early; ${onceEach ? "each once" : "NOT each once"}; ${notDueYet} not due still pending`,
      early === 0 && onceEach && p99 <= 1000 && max <= 2000 && notDueYet >= scheduled - due,
    );
  } finally {
    for (const worker of workers) await stopMeasured("worker", "expiry", worker);
    await jobs.close();
  }
}
