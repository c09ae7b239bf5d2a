import { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Config } from "../config/env.ts";
import type { Db } from "../db/client.ts";
import type { EventBus } from "../domain/events.ts";
import { devMailbox, smtpMailer } from "../email/mailer.ts";
import { createEventBus, eventEffectHandlers, followEventConnection } from "../events/event-bus.ts";
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
export function mailDelivery({ mail, server }: Pick<Config, "mail" | "server">, db: Db) {
  const mailbox = mail.smtpUrl ? null : devMailbox(mail.devMailboxDir, mail.from, () => databaseIdentity(db));
  const mailer = mail.smtpUrl ? smtpMailer(mail.smtpUrl, mail.from) : mailbox!;
  return { mailbox, delivery: { mailer, publicUrl: server.publicUrl } };
}

/** Quotas and subscription slots in Redis, on a connection that fails fast while Redis is away. */
export function redisLimits({ redis: { url, prefix }, quotas }: Pick<Config, "redis" | "quotas">, logger: Logger) {
  // Every authorizeTask spends a quota unit: concurrent calls share one write to Redis.
  const redis = producerConnection(url, logger, { enableAutoPipelining: true });
  return {
    quotas: redisQuotas(redis, prefix, quotas),
    subscriptionSlots: redisSubscriptionSlots(redis, prefix, quotas.subscriptionsPerUser),
    close: () => redis.disconnect(),
  };
}

/** The Redis-backed event bus every API and worker process shares; pub/sub needs two connections. */
export function redisEventBus({ url, prefix }: Config["redis"]): { bus: EventBus; close(): void } {
  const options = { connectionName: "elevate-events", maxRetriesPerRequest: null };
  // A transition publishes an event per request it moved (500 expiries at once): one write for all.
  const publish = new Redis(url, { ...options, enableAutoPipelining: true });
  const subscribe = new Redis(url, options);
  // Outages are logged by the job connections; these reconnect on their own.
  for (const connection of [publish, subscribe]) connection.on("error", () => {});
  followEventConnection(subscribe);
  return {
    bus: createEventBus({ publish, subscribe, channelPrefix: prefix }),
    close: () => {
      publish.disconnect();
      subscribe.disconnect();
    },
  };
}

/** How webhooks are sent and retried, and when an endpoint is disabled (the WEBHOOK* variables). */
export function webhookDelivery(webhooks: Config["webhooks"]): Pick<JobRuntimeOptions, "webhooks" | "jobOptions"> {
  const { allowPrivateAddresses, failuresToDisable } = webhooks;
  return {
    webhooks: {
      settings: { allowPrivateAddresses, failuresToDisable },
      send: webhookSender({ allowPrivateAddresses, timeoutMs: webhooks.timeoutSeconds * 1000 }),
    },
    jobOptions: {
      deliverWebhook: {
        attempts: webhooks.attempts,
        backoff: { type: "exponential", delay: Math.round(webhooks.retrySeconds * 1000) },
      },
    },
  };
}

/** The job runtime as the configuration describes it; the API and the worker differ only in `runWorkers`. */
export function jobRuntimeOptions(
  config: Pick<Config, "redis" | "jobs" | "audit" | "mail" | "server" | "webhooks">,
  parts: Pick<JobRuntimeOptions, "db" | "logger" | "auditKeys" | "metrics" | "runWorkers"> & { events: EventBus },
): { options: JobRuntimeOptions; mailbox: ReturnType<typeof mailDelivery>["mailbox"] } {
  const { mailbox, delivery } = mailDelivery(config, parts.db);
  const { events, ...rest } = parts;
  const options: JobRuntimeOptions = {
    ...rest,
    redisUrl: config.redis.url,
    queuePrefix: config.redis.prefix,
    reconcileIntervalSeconds: config.jobs.reconcileIntervalSeconds,
    checkpointIntervalSeconds: config.audit.checkpointIntervalSeconds,
    // Transitions made by jobs (expiry, end) reach subscribers on every API instance.
    effectHandlers: [eventEffectHandlers(events)],
    delivery,
    ...webhookDelivery(config.webhooks),
  };
  return { options, mailbox };
}
