import { DelayedError, type Job, UnrecoverableError } from "bullmq";
import type { ServiceDeps } from "../domain/context.ts";
import type { DeliveryDeps } from "../email/deliver.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { WebhookSend } from "../webhooks/sender.ts";
import { type JobKind, type JobPayload, jobTable } from "./queues.ts";

/** What every processor gets: the database, the effect sink its transitions dispatch to, the mailer, the webhook sender. */
export type ProcessorDeps = ServiceDeps & {
  delivery: Omit<DeliveryDeps, "db">;
  webhooks: { send: WebhookSend };
  metrics?: Metrics;
};

export type JobProcessor = (job: Job, token?: string) => Promise<unknown>;

/** Validates a job's payload; a malformed one fails at once, since retrying cannot fix it. */
export function payloadOf<K extends JobKind>(kind: K, job: Job): JobPayload<K> {
  const result = jobTable[kind].payload.safeParse(job.data);
  if (!result.success) {
    throw new UnrecoverableError(`invalid ${kind} payload: ${result.error.issues[0]?.message ?? "unknown"}`);
  }
  return result.data as JobPayload<K>;
}

/**
 * Puts a job that ran before its row was due back to sleep until `at` (clocks of the
 * producer, Redis and the database are not the same clock).
 */
export async function sleepUntil(job: Job, token: string | undefined, at: Date): Promise<never> {
  await job.moveToDelayed(Math.max(at.getTime(), Date.now() + 100), token);
  throw new DelayedError();
}
