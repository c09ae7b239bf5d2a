import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { EffectHandlers } from "../domain/context.ts";

/** Job counts of one queue by state, as BullMQ reports them. */
export type QueueCounts = { queue: string; counts: Record<string, number> }[];

const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const latenessBuckets = [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900];

/**
 * The metrics of one process (API or worker), in a registry of its own. Recorded at
 * the edges: the HTTP server, a Yoga plugin, the effect sink, the job workers and the
 * reconciler; domain code knows nothing of them.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  let queueCounts: (() => Promise<QueueCounts>) | null = null;
  return {
    registry,
    httpRequests: new Counter({
      name: "elevate_http_requests_total",
      help: "HTTP requests by method, route and status",
      labelNames: ["method", "route", "status"] as const,
      registers,
    }),
    httpDuration: new Histogram({
      name: "elevate_http_request_duration_seconds",
      help: "HTTP request latency by method and route",
      labelNames: ["method", "route"] as const,
      buckets: latencyBuckets,
      registers,
    }),
    graphqlOperations: new Counter({
      name: "elevate_graphql_operations_total",
      help: "GraphQL operations by operation name, type and outcome (error: the result carried errors)",
      labelNames: ["operation", "type", "outcome"] as const,
      registers,
    }),
    graphqlDuration: new Histogram({
      name: "elevate_graphql_operation_duration_seconds",
      help: "GraphQL execution latency by operation name and type (subscriptions: until the stream starts)",
      labelNames: ["operation", "type"] as const,
      buckets: latencyBuckets,
      registers,
    }),
    openSubscriptions: new Gauge({
      name: "elevate_graphql_open_subscriptions",
      help: "Subscription streams open on this instance (SSE and WebSocket)",
      registers,
    }),
    authorizeTask: new Counter({
      name: "elevate_authorize_task_total",
      help: "authorizeTask answers by outcome and reason (REFUSED: the call itself was refused)",
      labelNames: ["allowed", "reason"] as const,
      registers,
    }),
    requestTransitions: new Counter({
      name: "elevate_access_request_transitions_total",
      help: "Access request events (transitions) committed by this process, by type",
      labelNames: ["type"] as const,
      registers,
    }),
    queueJobs: new Gauge({
      name: "elevate_queue_jobs",
      help: "Jobs per queue and state (waiting, delayed, active, failed...); the same in every worker, so aggregate with max",
      labelNames: ["queue", "state"] as const,
      registers,
      async collect() {
        if (!queueCounts) return;
        this.reset();
        for (const { queue, counts } of await queueCounts()) {
          for (const [state, count] of Object.entries(counts)) this.set({ queue, state }, count);
        }
      },
    }),
    jobLateness: new Histogram({
      name: "elevate_job_lateness_seconds",
      help: "How long after it was due a job's first attempt started, per queue",
      labelNames: ["queue"] as const,
      buckets: latenessBuckets,
      registers,
    }),
    jobs: new Counter({
      name: "elevate_jobs_processed_total",
      help: "Job attempts by queue and outcome (completed, failed, delayed: put back to sleep until due)",
      labelNames: ["queue", "outcome"] as const,
      registers,
    }),
    mail: new Counter({
      name: "elevate_mail_total",
      help: "Outbox mail by outcome: sent, skipped (no longer worth sending), retried, failed (gave up)",
      labelNames: ["outcome"] as const,
      registers,
    }),
    webhooks: new Counter({
      name: "elevate_webhook_attempts_total",
      help: "Webhook delivery attempts by outcome: delivered, retrying, failed (gave up), disabled (the endpoint with it)",
      labelNames: ["outcome"] as const,
      registers,
    }),
    reconcilerRepairs: new Counter({
      name: "elevate_reconciler_repairs_total",
      help: "What the reconciler repaired: overdue rows moved, lost jobs re-added",
      labelNames: ["kind"] as const,
      registers,
    }),
    /** Reports these queues' job counts at each scrape (a process that runs the workers). */
    watchQueues(source: () => Promise<QueueCounts>) {
      queueCounts = source;
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** Counts committed transitions: the effect sink's request events. */
export function metricsEffectHandlers(metrics: Metrics): EffectHandlers {
  return {
    requestEvent: async ({ type }) => {
      metrics.requestTransitions.inc({ type });
    },
  };
}

/** Operation names a client chooses: the first ones seen are labels, later ones share one. */
const maxOperationNames = 200;
const operationNamePattern = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;

export function operationLabeler() {
  const seen = new Set<string>();
  return (name: string | null | undefined): string => {
    if (!name) return "anonymous";
    if (!operationNamePattern.test(name)) return "other";
    if (seen.has(name)) return name;
    if (seen.size >= maxOperationNames) return "other";
    seen.add(name);
    return name;
  };
}

const digest = (value: string) => createHash("sha256").update(value).digest();

/**
 * GET /metrics in the Prometheus text format, only for a scraper presenting `token` as
 * a bearer token (METRICS_TOKEN): metrics name queues, routes and operation names, which
 * are nobody else's business.
 */
export function metricsRoute(metrics: Metrics, token: string) {
  const expected = digest(token);
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const presented = req.headers.authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (!presented || !timingSafeEqual(digest(presented), expected)) {
      res.writeHead(401, { "www-authenticate": 'Bearer realm="metrics"', "content-type": "text/plain" });
      res.end("a metrics token is required\n");
      return;
    }
    const body = await metrics.registry.metrics();
    res.writeHead(200, { "content-type": metrics.registry.contentType, "cache-control": "no-store" });
    res.end(body);
  };
}
