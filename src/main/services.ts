import { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Env } from "../config/env.ts";
import type { Db } from "../db/client.ts";
import type { EventBus } from "../domain/events.ts";
import { devMailbox, smtpMailer } from "../email/mailer.ts";
import { createEventBus } from "../events/event-bus.ts";
import { redisQuotas, redisSubscriptionSlots } from "../http/quotas.ts";
import { producerConnection } from "../jobs/redis.ts";
import type { JobRuntimeOptions } from "../jobs/runtime.ts";
import { webhookSender } from "../webhooks/sender.ts";

/**
 * What tells this database from an earlier one under the same name: the first
 * organization's ID, a random UUID made when the database was seeded or registered.
 */
async function databaseIdentity(db: Db): Promise<string> {
  const first = await db.organization.findFirst({
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    select: { id: true },
  });
  return first?.id ?? "empty";
}

/** SMTP when SMTP_URL is set, else the file-backed dev mailbox that /dev/mail shows. */
export function mailDelivery(env: Env, db: Db) {
  const mailbox = env.SMTP_URL ? null : devMailbox(env.DEV_MAILBOX_DIR, env.MAIL_FROM, () => databaseIdentity(db));
  const mailer = env.SMTP_URL ? smtpMailer(env.SMTP_URL, env.MAIL_FROM) : mailbox!;
  return { mailbox, delivery: { mailer, publicUrl: env.PUBLIC_URL } };
}

/** Quotas and subscription slots in Redis, on a connection that fails fast while Redis is away. */
export function redisLimits(env: Env, logger: Logger) {
  const redis = producerConnection(env.REDIS_URL, logger);
  const settings = {
    requestsPerHour: env.QUOTA_REQUESTS_PER_HOUR,
    authorizeTaskPerMinute: env.QUOTA_AUTHORIZE_TASK_PER_MINUTE,
    subscriptionsPerUser: env.QUOTA_SUBSCRIPTIONS_PER_USER,
  };
  return {
    quotas: redisQuotas(redis, env.QUEUE_PREFIX, settings),
    subscriptionSlots: redisSubscriptionSlots(redis, env.QUEUE_PREFIX, settings.subscriptionsPerUser),
    close: () => redis.disconnect(),
  };
}

/** The Redis-backed event bus every API and worker process shares; pub/sub needs two connections. */
export function redisEventBus(env: Env): { bus: EventBus; close(): void } {
  const options = { connectionName: "elevate-events", maxRetriesPerRequest: null };
  const publish = new Redis(env.REDIS_URL, options);
  const subscribe = new Redis(env.REDIS_URL, options);
  // Outages are logged by the job connections; these reconnect on their own.
  for (const connection of [publish, subscribe]) connection.on("error", () => {});
  return {
    bus: createEventBus({ publish, subscribe, channelPrefix: env.QUEUE_PREFIX }),
    close: () => {
      publish.disconnect();
      subscribe.disconnect();
    },
  };
}

/** How webhooks are sent and retried, and when an endpoint is disabled (the WEBHOOK* variables). */
export function webhookDelivery(env: Env): Pick<JobRuntimeOptions, "webhooks" | "jobOptions"> {
  const settings = {
    allowPrivateAddresses: env.WEBHOOKS_ALLOW_PRIVATE,
    failuresToDisable: env.WEBHOOK_FAILURES_TO_DISABLE,
  };
  return {
    webhooks: {
      settings,
      send: webhookSender({
        allowPrivateAddresses: settings.allowPrivateAddresses,
        timeoutMs: env.WEBHOOK_TIMEOUT_SECONDS * 1000,
      }),
    },
    jobOptions: {
      deliverWebhook: {
        attempts: env.WEBHOOK_ATTEMPTS,
        backoff: { type: "exponential", delay: Math.round(env.WEBHOOK_RETRY_SECONDS * 1000) },
      },
    },
  };
}
