import { DelayedError, type Job, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Metrics } from "../observability/metrics.ts";
import { isRequestId, withRequestId } from "../observability/request-context.ts";
import { activateAuthorizationProcessor } from "./activate-authorization.processor.ts";
import { DeadlinesFirst } from "./deadlines-first.ts";
import { deliverWebhookProcessor } from "./deliver-webhook.processor.ts";
import { endAuthorizationProcessor } from "./end-authorization.processor.ts";
import { escalateRequestProcessor } from "./escalate-request.processor.ts";
import { expireRequestProcessor } from "./expire-request.processor.ts";
import { noticeExpiringProcessor } from "./notice-expiring.processor.ts";
import type { JobProcessor, ProcessorDeps } from "./processing.ts";
import { type JobKind, jobKinds, jobTable } from "./queues.ts";
import { queuePrefix } from "./redis.ts";
import { remindApproversProcessor } from "./remind-approvers.processor.ts";
import { sendMailProcessor } from "./send-mail.processor.ts";

/** One processor per kind of job; the type makes a new kind without a processor a compile error. */
const processors: { [K in JobKind]: (deps: ProcessorDeps) => JobProcessor } = {
  expireRequest: expireRequestProcessor,
  endAuthorization: endAuthorizationProcessor,
  activateAuthorization: activateAuthorizationProcessor,
  noticeExpiring: noticeExpiringProcessor,
  remindApprovers: remindApproversProcessor,
  escalateRequest: escalateRequestProcessor,
  sendMail: sendMailProcessor,
  deliverWebhook: deliverWebhookProcessor,
};

/**
 * Longest follow-up work (mail, webhooks) waits for the deadline jobs running beside
 * it: a burst of expiries gets the CPU first, its mail goes out at most this late.
 */
const followUpMaxWaitMs = 10_000;

export interface WorkerOptions {
  /** A connection with `maxRetriesPerRequest: null`; each worker duplicates it for blocking reads. */
  connection: Redis;
  prefix: string;
  deps: ProcessorDeps;
  logger: Logger;
  metrics?: Metrics;
}

/** Lateness of a job's first attempt (retries wait on purpose), and each attempt's outcome. */
function measured(metrics: Metrics, job: Job, work: Promise<unknown>): void {
  if (job.attemptsMade === 0) {
    const due = job.timestamp + (job.opts.delay ?? 0);
    metrics.jobLateness.observe({ queue: job.queueName }, Math.max(0, (job.processedOn ?? Date.now()) - due) / 1000);
  }
  work.then(
    () => metrics.jobs.inc({ queue: job.queueName, outcome: "completed" }),
    (error: unknown) =>
      metrics.jobs.inc({ queue: job.queueName, outcome: error instanceof DelayedError ? "delayed" : "failed" }),
  );
}

export interface JobWorkers {
  workers: Worker[];
  isRunning(): boolean;
  /**
   * Takes no new jobs and waits for the active ones. While Redis is down BullMQ's
   * graceful close never returns, so then only the processors themselves (their
   * database work) are waited for; BullMQ re-runs those jobs as stalled later, which
   * the conditional transitions make harmless.
   */
  close(): Promise<void>;
}

/** Starts one BullMQ worker per queue of the job table. */
export function startWorkers({ connection, prefix, deps, logger, metrics }: WorkerOptions): JobWorkers {
  const inFlight = new Set<Promise<unknown>>();
  const deadlinesFirst = new DeadlinesFirst(followUpMaxWaitMs);
  const inLane = (kind: JobKind, processor: JobProcessor): JobProcessor => {
    switch (jobTable[kind].lane) {
      case "deadline":
        return (job, token) => deadlinesFirst.deadline(() => processor(job, token));
      case "follow-up":
        return async (job, token) => {
          await deadlinesFirst.followUp();
          return processor(job, token);
        };
      case "other":
        return processor;
    }
  };
  const tracked =
    (processor: JobProcessor): JobProcessor =>
    (job, token) => {
      // The job's log lines (and what its transition causes) carry the request id that caused it.
      const correlationId = (job.data as { correlationId?: unknown } | undefined)?.correlationId;
      const work = withRequestId(isRequestId(correlationId) ? correlationId : null, () => processor(job, token));
      if (metrics) measured(metrics, job, work);
      inFlight.add(work);
      work.then(
        () => inFlight.delete(work),
        () => inFlight.delete(work),
      );
      return work;
    };
  const workers = jobKinds.map((kind) => {
    const worker = new Worker(jobTable[kind].queue, tracked(inLane(kind, processors[kind](deps))), {
      connection,
      prefix: queuePrefix(prefix),
      concurrency: jobTable[kind].concurrency,
    });
    // Connection trouble is logged by the connection itself; a listener is still
    // needed, since an emitted error without one would throw.
    worker.on("error", (error) => logger.debug({ err: error, queue: worker.name }, "worker error"));
    worker.on("failed", (job, error) =>
      logger.warn({ err: error, queue: worker.name, jobId: job?.id, attemptsMade: job?.attemptsMade }, "job failed"),
    );
    return worker;
  });
  return {
    workers,
    isRunning: () => workers.every((worker) => worker.isRunning()),
    async close() {
      const graceful = Promise.all(workers.map((worker) => worker.close()));
      let onLost = () => {};
      const lost = new Promise<void>((resolve) => {
        onLost = resolve;
        if (connection.status !== "ready") resolve();
        else connection.once("close", onLost);
      });
      const closed = await Promise.race([graceful.then(() => true), lost.then(() => false)]);
      connection.off("close", onLost);
      if (closed) return;
      graceful.catch(() => {});
      logger.warn({ active: inFlight.size }, "Redis is unreachable: waiting for the active jobs' own work only");
      await Promise.allSettled([...inFlight]);
    },
  };
}
