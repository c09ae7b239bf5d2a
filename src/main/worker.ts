import { loadEnvOrExit } from "./load-env.ts";

// Parsed before anything else is imported, so a bad variable never half-starts the process.
const env = loadEnvOrExit();

const { logger } = await import("./logger.ts");
const { createDb } = await import("../db/client.ts");
const { startJobRuntime } = await import("../jobs/runtime.ts");
const { createHealthServer } = await import("../http/health.ts");
const { onShutdownSignal } = await import("./shutdown.ts");
const { createMetrics, metricsRoute } = await import("../observability/metrics.ts");
const { eventEffectHandlers } = await import("../events/event-bus.ts");
const { mailDelivery, redisEventBus, webhookDelivery } = await import("./services.ts");

// The worker runs no migrations: the API applies them at its start.
// A broken template stops the start, never a send.
await (await import("../email/render.ts")).compileAllTemplates();
const db = createDb(env.DATABASE_URL);
const keys = await (await import("./bootstrap.ts")).auditKeys(env);
// Transitions made here (expiry, end) reach subscribers on every API instance.
const events = redisEventBus(env);
const metrics = createMetrics();
const jobs = await startJobRuntime({
  db,
  logger,
  redisUrl: env.REDIS_URL,
  queuePrefix: env.QUEUE_PREFIX,
  reconcileIntervalSeconds: env.RECONCILE_INTERVAL_SECONDS,
  checkpointIntervalSeconds: env.AUDIT_CHECKPOINT_INTERVAL_SECONDS,
  auditKeys: keys,
  runWorkers: true,
  effectHandlers: [eventEffectHandlers(events.bus)],
  delivery: mailDelivery(env, db).delivery,
  ...webhookDelivery(env),
  metrics,
});

// /healthz: liveness (the process answers). /readyz: readiness (database, Redis, job workers).
// /metrics: the worker's metrics, only for a scraper with METRICS_TOKEN.
const health = createHealthServer(
  { database: () => db.$queryRaw`SELECT 1`, ...jobs.readinessChecks },
  env.METRICS_TOKEN ? { "/metrics": metricsRoute(metrics, env.METRICS_TOKEN) } : {},
);
health.listen(env.WORKER_HEALTH_PORT, () => {
  const address = health.address();
  const port = typeof address === "object" && address ? address.port : env.WORKER_HEALTH_PORT;
  logger.info({ port }, `worker health at http://localhost:${port}/healthz and /readyz`);
});

onShutdownSignal(logger, async () => {
  health.close();
  await jobs.close();
  events.close();
  await db.$disconnect();
});
