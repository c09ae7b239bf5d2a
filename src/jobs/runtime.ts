import type { Logger } from "pino";
import type { Db } from "../db/client.ts";
import type { AuditKeys } from "../domain/audit/audit-keys.ts";
import type { EffectHandlers, EffectSink, WebhookSettings } from "../domain/context.ts";
import { type Metrics, metricsEffectHandlers } from "../observability/metrics.ts";
import { startCheckpointer } from "./checkpointer.ts";
import { createEffectSink, jobEffectHandlers } from "./effects.ts";
import type { ProcessorDeps } from "./processing.ts";
import { JobQueues } from "./producer.ts";
import { jobKinds, jobTable } from "./queues.ts";
import { Reconciler } from "./reconciler.ts";
import { producerConnection, warnUnlessNoeviction, whenReady, workerConnection } from "./redis.ts";
import { startWorkers } from "./workers.ts";

export interface JobRuntimeOptions {
  db: Db;
  auditKeys: AuditKeys;
  logger: Logger;
  redisUrl: string;
  queuePrefix: string;
  reconcileIntervalSeconds: number;
  /** How often the worker signs a checkpoint of each organization's audit trail. */
  checkpointIntervalSeconds: number;
  /** Process jobs and run the reconciler here, or only produce jobs (an API with WORKER=false). */
  runWorkers: boolean;
  /** Effect handlers besides the jobs' own (publishing events, for example). */
  effectHandlers?: EffectHandlers[];
  /** How processed mail is delivered. */
  delivery: ProcessorDeps["delivery"];
  /** How webhooks are sent, and the operator's rules for them. */
  webhooks: ProcessorDeps["webhooks"] & { settings: WebhookSettings };
  /** This process's metrics, when it keeps them. */
  metrics?: Metrics;
  /** The operator's job options over the job table's (webhook retries). */
  jobOptions?: ConstructorParameters<typeof JobQueues>[3];
}

export interface JobRuntime {
  effects: EffectSink;
  queues: JobQueues;
  /** Probes for /readyz: each resolves when its part answers. */
  readinessChecks: Record<string, () => Promise<unknown>>;
  /** Set when this process runs the workers. */
  reconciler: Reconciler | null;
  /** Stops the reconciler, lets active jobs finish, then closes the Redis connections. */
  close(): Promise<void>;
}

/** How long start-up waits for Redis before running the first reconciliation without it. */
const startupRedisWaitMs = 3000;

/** Everything about jobs that a process needs: producing always, processing when asked. */
export async function startJobRuntime(options: JobRuntimeOptions): Promise<JobRuntime> {
  const { db, logger } = options;
  const producer = producerConnection(options.redisUrl, logger);
  const queues = new JobQueues(producer, options.queuePrefix, logger, options.jobOptions);
  const effects = createEffectSink(
    [
      jobEffectHandlers(queues),
      ...(options.metrics ? [metricsEffectHandlers(options.metrics)] : []),
      ...(options.effectHandlers ?? []),
    ],
    logger,
  );
  const readinessChecks: JobRuntime["readinessChecks"] = { redis: () => queues.ping() };
  producer.once("ready", () => void warnUnlessNoeviction(producer, logger));

  const closeProducer = async () => {
    await queues.close();
    producer.disconnect();
  };
  if (!options.runWorkers) {
    return { effects, queues, readinessChecks, reconciler: null, close: closeProducer };
  }

  const workerRedis = workerConnection(options.redisUrl, logger);
  const workers = startWorkers({
    connection: workerRedis,
    prefix: options.queuePrefix,
    deps: {
      db,
      effects,
      auditKeys: options.auditKeys,
      webhookSettings: options.webhooks.settings,
      delivery: options.delivery,
      webhooks: options.webhooks,
      metrics: options.metrics,
    },
    logger,
    metrics: options.metrics,
  });
  options.metrics?.watchQueues(() =>
    Promise.all(
      jobKinds.map(async (kind) => ({
        queue: jobTable[kind].queue,
        counts: await queues.queue(kind).getJobCounts("waiting", "delayed", "active", "failed", "prioritized"),
      })),
    ),
  );
  readinessChecks.workers = async () => {
    if (!workers.isRunning()) throw new Error("a job worker is not running");
  };
  if (!(await whenReady(producer, startupRedisWaitMs))) {
    logger.warn("Redis is not reachable yet: reconciling the database alone until it is");
  }
  const reconciler = new Reconciler({
    deps: { db, effects, auditKeys: options.auditKeys, webhookSettings: options.webhooks.settings },
    queues,
    logger,
    intervalSeconds: options.reconcileIntervalSeconds,
    metrics: options.metrics,
  });
  reconciler.start();
  const checkpointer = options.auditKeys.signingKey
    ? startCheckpointer({
        db,
        auditKeys: options.auditKeys,
        logger,
        intervalSeconds: options.checkpointIntervalSeconds,
      })
    : null;
  if (!checkpointer) logger.warn("no checkpoint signing key: this worker signs no audit checkpoints");
  logger.info(
    {
      queues: workers.workers.map((worker) => worker.name),
      reconcileIntervalSeconds: options.reconcileIntervalSeconds,
    },
    "job workers started",
  );

  return {
    effects,
    queues,
    readinessChecks,
    reconciler,
    async close() {
      await Promise.all([reconciler.stop(), checkpointer?.stop()]);
      // Waits for active jobs; their transitions still dispatch effects through the producer.
      await workers.close();
      workerRedis.disconnect();
      await closeProducer();
    },
  };
}
