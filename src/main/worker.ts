import { loadConfigOrExit } from "./load-config.ts";

// Parsed before anything else is imported, so a bad variable never half-starts the process.
const config = loadConfigOrExit();

const logger = await (await import("./logger.ts")).createLogger(config.operations);
const { createDb } = await import("../db/client.ts");
const { startJobRuntime } = await import("../jobs/runtime.ts");
const { createHealthServer } = await import("../http/health.ts");
const { onShutdownSignal } = await import("./shutdown.ts");
const { createMetrics, metricsRoute } = await import("../observability/metrics.ts");
const { jobRuntimeOptions, redisEventBus } = await import("./services.ts");
const { auditKeys } = await import("./bootstrap.ts");

// The worker runs no migrations: the API applies them at its start.
// A broken template stops the start, never a send.
await (await import("../email/render.ts")).compileAllTemplates();
const db = createDb(config.database.url);
const keys = await auditKeys(config);
const events = redisEventBus(config.redis);
const metrics = createMetrics();
const { options: jobOptions } = jobRuntimeOptions(config, {
  db,
  logger,
  auditKeys: keys,
  events: events.bus,
  metrics,
  runWorkers: true,
});
const jobs = await startJobRuntime(jobOptions);

// /healthz: liveness (the process answers). /readyz: readiness (database, Redis, job workers).
// /metrics: the worker's metrics, only for a scraper with METRICS_TOKEN.
const { metricsToken } = config.operations;
const health = createHealthServer(
  { database: () => db.$queryRaw`SELECT 1`, ...jobs.readinessChecks },
  metricsToken ? { "/metrics": metricsRoute(metrics, metricsToken) } : {},
);
const { workerHealthPort } = config.jobs;
health.listen(workerHealthPort, () => {
  const address = health.address();
  const port = typeof address === "object" && address ? address.port : workerHealthPort;
  logger.info({ port }, `worker health at http://localhost:${port}/healthz and /readyz`);
});

onShutdownSignal(logger, async () => {
  health.close();
  await jobs.close();
  events.close();
  await db.$disconnect();
});
