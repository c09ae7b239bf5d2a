import type { Logger } from "pino";
import { exclusively } from "../db/advisory-lock.ts";
import type { ServiceDeps } from "../domain/context.ts";
import { queuedMail } from "../domain/notifications/notifications.service.ts";
import {
  activateDueAuthorizations,
  endOverdueAuthorizations,
  escalateOverdueRequests,
  expireOverdueRequests,
  type SweepOptions,
  upcomingDeadlines,
} from "../domain/requests/overdue.service.ts";
import { nextReminder } from "../domain/requests/reminders.service.ts";
import { pendingWebhookDeliveries } from "../domain/webhooks/webhooks.service.ts";
import type { Metrics } from "../observability/metrics.ts";
import { Periodic } from "./periodic.ts";
import type { JobQueues } from "./producer.ts";

export interface ReconcilerOptions {
  deps: ServiceDeps;
  queues: JobQueues;
  logger: Logger;
  intervalSeconds: number;
  /** Rows per query and per Redis round trip. */
  batchSize?: number;
  /** Overdue rows attempted per run and kind; the rest wait for the next run. */
  limit?: number;
  /** Overdue transitions in flight at once. */
  concurrency?: number;
  metrics?: Metrics;
}

export interface ReconcileReport {
  expiredRequests: number;
  /** PENDING requests escalated because their escalation job had not run. */
  escalatedRequests: number;
  /** SCHEDULED grants made ACTIVE because their start job had not run. */
  startedAuthorizations: number;
  endedAuthorizations: number;
  /** Jobs added because Redis had none; null when Redis could not be reached. */
  requeued: {
    requestExpiry: number;
    reminders: number;
    escalations: number;
    authorizationStart: number;
    authorizationEnd: number;
    mail: number;
    webhooks: number;
  } | null;
}

/** Longest a run may hold the reconciler lock: Prisma then ends the lock's transaction (the run goes on unlocked). */
const maxRunMillis = 10 * 60_000;

/**
 * Makes Redis agree with PostgreSQL, which holds the truth: expires overdue PENDING
 * requests and ends overdue ACTIVE authorizations through the same domain transitions
 * as the jobs (so audit events and effects follow), then re-adds the jobs of future
 * deadlines that Redis lost. Runs at start and then every interval; lost Redis data
 * costs at most one interval of lateness. Workers running it at once would be safe
 * (transitions are conditional), an advisory lock just spares the duplicate work.
 */
export class Reconciler {
  private readonly batchSize: number;
  private readonly sweep: SweepOptions;
  private readonly periodic: Periodic;

  constructor(private readonly options: ReconcilerOptions) {
    this.batchSize = options.batchSize ?? 500;
    this.periodic = new Periodic("reconciler", options.intervalSeconds, () => this.runOnce(), options.logger);
    this.sweep = {
      batchSize: this.batchSize,
      limit: options.limit ?? 10_000,
      concurrency: options.concurrency ?? 4,
      stopping: () => this.periodic.stopping,
    };
  }

  /** Runs now, then `intervalSeconds` after each run ends. */
  start(): void {
    this.periodic.start();
  }

  /** Stops scheduling runs and waits for the one in progress, which stops between batches. */
  stop(): Promise<void> {
    return this.periodic.stop();
  }

  private get stopping(): boolean {
    return this.periodic.stopping;
  }

  /** One run; null when another process holds the reconciler lock. */
  async runOnce(): Promise<ReconcileReport | null> {
    const { deps, logger } = this.options;
    const outcome = await exclusively(deps.db, "reconciler", maxRunMillis, async () => {
      const expired = await expireOverdueRequests(deps, this.sweep);
      const escalated = await escalateOverdueRequests(deps, this.sweep);
      const started = await activateDueAuthorizations(deps, this.sweep);
      const ended = await endOverdueAuthorizations(deps, this.sweep);
      for (const error of [...expired.failures, ...escalated.failures, ...started.failures, ...ended.failures]) {
        logger.error({ err: error }, "reconciler could not move an overdue row; the next run retries");
      }
      const report: ReconcileReport = {
        expiredRequests: expired.done,
        escalatedRequests: escalated.done,
        startedAuthorizations: started.done,
        endedAuthorizations: ended.done,
        requeued: await this.requeueMissing(),
      };
      return report;
    });
    if (outcome.skipped) {
      logger.debug("reconciler run skipped: another process is running it");
      return null;
    }
    const report = outcome.value;
    const busy =
      report.expiredRequests > 0 ||
      report.escalatedRequests > 0 ||
      report.startedAuthorizations > 0 ||
      report.endedAuthorizations > 0 ||
      (report.requeued !== null &&
        report.requeued.requestExpiry +
          report.requeued.reminders +
          report.requeued.escalations +
          report.requeued.authorizationStart +
          report.requeued.authorizationEnd +
          report.requeued.mail +
          report.requeued.webhooks >
          0);
    logger[busy ? "info" : "debug"](report, "reconciler run");
    this.count(report);
    return report;
  }

  private count(report: ReconcileReport): void {
    const repairs = this.options.metrics?.reconcilerRepairs;
    if (!repairs) return;
    repairs.inc({ kind: "expired_request" }, report.expiredRequests);
    repairs.inc({ kind: "ended_authorization" }, report.endedAuthorizations);
    if (!report.requeued) return;
    repairs.inc({ kind: "requeued_request_expiry" }, report.requeued.requestExpiry);
    repairs.inc({ kind: "requeued_authorization_end" }, report.requeued.authorizationEnd);
    repairs.inc({ kind: "requeued_mail" }, report.requeued.mail);
    repairs.inc({ kind: "requeued_webhook" }, report.requeued.webhooks);
  }

  /**
   * Re-adds lost reminder jobs of PENDING requests at their next reminder point; a point
   * that passed while Redis had lost the job is not sent late.
   */
  private async requeueReminders(requestIds: string[]): Promise<number> {
    const { deps, queues } = this.options;
    const missing = await queues.missing("remindApprovers", requestIds);
    if (missing.length === 0) return 0;
    const requests = await deps.db.accessRequest.findMany({
      where: { id: { in: missing }, status: "PENDING" },
      select: {
        id: true,
        organizationId: true,
        createdAt: true,
        expiresAt: true,
        organization: { select: { control: { select: { reminderHours: true } } } },
      },
    });
    const now = new Date();
    const wakeups = requests.flatMap((request) => {
      const at = nextReminder(request.organization.control?.reminderHours ?? [], request, now);
      return at ? [{ payload: { requestId: request.id, organizationId: request.organizationId }, at }] : [];
    });
    await queues.schedule("remindApprovers", wakeups);
    return wakeups.length;
  }

  /** Re-adds lost escalation jobs of PENDING requests not escalated yet, at their escalation moment. */
  private async requeueEscalations(requestIds: string[]): Promise<number> {
    const { deps, queues } = this.options;
    const missing = await queues.missing("escalateRequest", requestIds);
    if (missing.length === 0) return 0;
    const requests = await deps.db.accessRequest.findMany({
      where: { id: { in: missing }, status: "PENDING", escalatedAt: null, escalateAt: { not: null } },
      select: { id: true, organizationId: true, escalateAt: true },
    });
    const wakeups = requests.map((request) => ({
      payload: { requestId: request.id, organizationId: request.organizationId },
      at: request.escalateAt!,
    }));
    await queues.schedule("escalateRequest", wakeups);
    return wakeups.length;
  }

  private async requeueMissing(): Promise<ReconcileReport["requeued"]> {
    const { deps, queues, logger } = this.options;
    const requeued = {
      requestExpiry: 0,
      reminders: 0,
      escalations: 0,
      authorizationStart: 0,
      authorizationEnd: 0,
      mail: 0,
      webhooks: 0,
    };
    try {
      for await (const rows of upcomingDeadlines(deps.db, "requestExpiry", this.batchSize)) {
        if (this.stopping) break;
        const missing = new Set(
          await queues.missing(
            "expireRequest",
            rows.map((row) => row.id),
          ),
        );
        const wakeups = rows
          .filter((row) => missing.has(row.id))
          .map((row) => ({ payload: { requestId: row.id, organizationId: row.organizationId }, at: row.at }));
        await queues.schedule("expireRequest", wakeups);
        requeued.requestExpiry += wakeups.length;
        requeued.reminders += await this.requeueReminders(rows.map((row) => row.id));
        requeued.escalations += await this.requeueEscalations(rows.map((row) => row.id));
      }
      for await (const rows of upcomingDeadlines(deps.db, "authorizationStart", this.batchSize)) {
        if (this.stopping) break;
        const missing = new Set(
          await queues.missing(
            "activateAuthorization",
            rows.map((row) => row.id),
          ),
        );
        const wakeups = rows
          .filter((row) => missing.has(row.id))
          .map((row) => ({ payload: { authorizationId: row.id, organizationId: row.organizationId }, at: row.at }));
        await queues.schedule("activateAuthorization", wakeups);
        requeued.authorizationStart += wakeups.length;
      }
      for await (const rows of upcomingDeadlines(deps.db, "authorizationEnd", this.batchSize)) {
        if (this.stopping) break;
        const missing = new Set(
          await queues.missing(
            "endAuthorization",
            rows.map((row) => row.id),
          ),
        );
        const wakeups = rows
          .filter((row) => missing.has(row.id))
          .map((row) => ({ payload: { authorizationId: row.id, organizationId: row.organizationId }, at: row.at }));
        await queues.schedule("endAuthorization", wakeups);
        requeued.authorizationEnd += wakeups.length;
      }
      for await (const rows of queuedMail(deps.db, this.batchSize)) {
        if (this.stopping) break;
        const missing = new Set(
          await queues.missing(
            "sendMail",
            rows.map((row) => row.id),
          ),
        );
        const wakeups = rows
          .filter((row) => missing.has(row.id))
          .map((row) => ({
            payload: { messageId: row.id, ...(row.correlationId ? { correlationId: row.correlationId } : {}) },
            at: new Date(),
          }));
        await queues.schedule("sendMail", wakeups);
        requeued.mail += wakeups.length;
      }
      for await (const rows of pendingWebhookDeliveries(deps.db, this.batchSize)) {
        if (this.stopping) break;
        const subject = (row: { id: string; replays: number }) => `${row.id}-${row.replays}`;
        const missing = new Set(await queues.missing("deliverWebhook", rows.map(subject)));
        const wakeups = rows
          .filter((row) => missing.has(subject(row)))
          .map((row) => ({
            payload: {
              deliveryId: row.id,
              replay: row.replays,
              ...(row.correlationId ? { correlationId: row.correlationId } : {}),
            },
            at: new Date(),
          }));
        await queues.schedule("deliverWebhook", wakeups);
        requeued.webhooks += wakeups.length;
      }
      return requeued;
    } catch (error) {
      logger.warn({ err: error, requeued }, "reconciler could not re-add jobs; the next run retries");
      return null;
    }
  }
}
