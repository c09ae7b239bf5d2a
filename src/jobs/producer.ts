import { type JobsOptions, Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { type JobKind, type JobPayload, jobKinds, jobTable } from "./queues.ts";
import { producerTimeoutMs, queuePrefix } from "./redis.ts";

export class RedisUnavailableError extends Error {
  constructor(detail: string) {
    super(`Redis unavailable: ${detail}`);
    this.name = "RedisUnavailableError";
  }
}

async function withTimeout<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new RedisUnavailableError(`${what} took over ${producerTimeoutMs} ms`)),
      producerTimeoutMs,
    );
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface Wakeup<K extends JobKind> {
  payload: JobPayload<K>;
  /** When the job should run; a time already past runs it at once. */
  at: Date;
}

/**
 * Adds and removes jobs, failing fast: while Redis is unreachable every call throws
 * RedisUnavailableError at once rather than waiting for a reconnection, because the
 * caller's transaction has committed and the reconciler re-creates lost jobs.
 */
export class JobQueues {
  private readonly queues: Record<JobKind, Queue>;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    logger: Logger,
    /** The operator's options over the table's (webhook retries, for example). */
    jobOptions: Partial<Record<JobKind, JobsOptions>> = {},
  ) {
    const queues = {} as Record<JobKind, Queue>;
    for (const kind of jobKinds) {
      const queue = new Queue(jobTable[kind].queue, {
        connection: redis,
        prefix: queuePrefix(prefix),
        defaultJobOptions: { ...jobTable[kind].options, ...jobOptions[kind] },
      });
      // The connection logs its own errors; without a listener an emitted error would throw.
      queue.on("error", (error) => logger.debug({ err: error, queue: queue.name }, "queue error"));
      queues[kind] = queue;
    }
    this.queues = queues;
  }

  queue(kind: JobKind): Queue {
    return this.queues[kind];
  }

  private assertConnected(): void {
    if (this.redis.status !== "ready") throw new RedisUnavailableError(`connection is ${this.redis.status}`);
  }

  /** Adds jobs by their deterministic ids; ids that already exist are left as they are. */
  async schedule<K extends JobKind>(kind: K, wakeups: Wakeup<K>[]): Promise<void> {
    if (wakeups.length === 0) return;
    this.assertConnected();
    const definition = jobTable[kind];
    const now = Date.now();
    const jobs = wakeups.map(({ payload, at }) => ({
      name: kind,
      data: payload,
      opts: {
        jobId: definition.jobId(definition.subjectId(payload as never)),
        delay: Math.max(0, at.getTime() - now),
      },
    }));
    await withTimeout(this.queues[kind].addBulk(jobs), `adding ${kind} jobs`);
  }

  /** Removes the job about `subjectId` if it is waiting; true when one was removed. */
  async cancel(kind: JobKind, subjectId: string): Promise<boolean> {
    this.assertConnected();
    const removed = await withTimeout(
      this.queues[kind].remove(jobTable[kind].jobId(subjectId)),
      `removing a ${kind} job`,
    );
    return removed === 1;
  }

  /** The subjects among `subjectIds` that have no job in Redis (in any state). */
  async missing(kind: JobKind, subjectIds: string[]): Promise<string[]> {
    if (subjectIds.length === 0) return [];
    this.assertConnected();
    const queue = this.queues[kind];
    const pipeline = this.redis.pipeline();
    for (const id of subjectIds) pipeline.exists(queue.toKey(jobTable[kind].jobId(id)));
    const replies = (await withTimeout(pipeline.exec(), `looking up ${kind} jobs`)) ?? [];
    return subjectIds.filter((_, index) => {
      const [error, exists] = replies[index] ?? [new Error("no reply"), 0];
      if (error) throw error;
      return exists === 0;
    });
  }

  async ping(): Promise<void> {
    this.assertConnected();
    await withTimeout(this.redis.ping(), "PING");
  }

  async close(): Promise<void> {
    await Promise.all(jobKinds.map((kind) => this.queues[kind].close()));
  }
}
