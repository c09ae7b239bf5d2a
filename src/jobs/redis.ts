import { Redis, type RedisOptions } from "ioredis";
import type { Logger } from "pino";

/** How long a producer waits for Redis before giving up on a command. */
export const producerTimeoutMs = 1500;

/** The queue key prefix, hash-tagged so every key of every queue lands in one Redis Cluster slot. */
export function queuePrefix(prefix: string): string {
  return `{${prefix}}`;
}

/**
 * Logs a connection's state changes once each instead of once per reconnect attempt,
 * which would flood the log for the whole of an outage.
 */
function watch(redis: Redis, name: string, logger: Logger): Redis {
  let lastError: string | null = null;
  redis.on("error", (error: Error) => {
    if (error.message === lastError) return;
    lastError = error.message;
    logger.warn({ connection: name, err: error }, "Redis connection error");
  });
  redis.on("ready", () => {
    if (lastError !== null) logger.info({ connection: name }, "Redis connection restored");
    lastError = null;
  });
  return redis;
}

/**
 * For code that must never wait on Redis (mutations, readiness probes, the reconciler):
 * no offline queue, so commands fail at once while disconnected, and short timeouts
 * for a Redis that accepts connections but does not answer.
 */
export function producerConnection(url: string, logger: Logger, options: RedisOptions = {}): Redis {
  return watch(
    new Redis(url, {
      enableOfflineQueue: false,
      connectTimeout: 2000,
      commandTimeout: producerTimeoutMs,
      maxRetriesPerRequest: 1,
      connectionName: "elevate-producer",
      ...options,
    }),
    "producer",
    logger,
  );
}

/** For BullMQ workers: blocking commands wait as long as they need and retry forever. */
export function workerConnection(url: string, logger: Logger): Redis {
  return watch(new Redis(url, { maxRetriesPerRequest: null, connectionName: "elevate-worker" }), "worker", logger);
}

/** Resolves true once `redis` is ready, false when `timeoutMs` passes first. */
export function whenReady(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === "ready") return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      redis.off("ready", onReady);
      resolve(false);
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve(true);
    };
    redis.once("ready", onReady);
  });
}

/**
 * Warns when Redis may evict keys: an evicted job is a lost wake-up (the reconciler
 * recovers it, late). Managed Redis often refuses CONFIG; then say what to check.
 */
export async function warnUnlessNoeviction(redis: Redis, logger: Logger): Promise<void> {
  try {
    const reply = (await redis.call("CONFIG", "GET", "maxmemory-policy")) as string[];
    const policy = reply[1];
    if (policy !== "noeviction") {
      logger.warn(
        { maxmemoryPolicy: policy ?? null },
        "Redis maxmemory-policy is not noeviction: Redis may evict queued jobs; set maxmemory-policy noeviction",
      );
    }
  } catch (error) {
    logger.warn({ err: error }, "could not read Redis maxmemory-policy (CONFIG refused?): make sure it is noeviction");
  }
}
