import { Redis } from "ioredis";
import type { Env } from "../config/env.ts";
import type { EventBus } from "../domain/events.ts";
import { devMailbox, smtpMailer } from "../email/mailer.ts";
import { createEventBus } from "../http/event-bus.ts";

/** SMTP when SMTP_URL is set, else the file-backed dev mailbox that /dev/mail shows. */
export function mailDelivery(env: Env) {
  const mailbox = env.SMTP_URL ? null : devMailbox(env.DEV_MAILBOX_DIR, env.MAIL_FROM);
  const mailer = env.SMTP_URL ? smtpMailer(env.SMTP_URL, env.MAIL_FROM) : mailbox!;
  return { mailbox, delivery: { mailer, publicUrl: env.PUBLIC_URL } };
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
