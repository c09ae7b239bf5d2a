import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type ParsedMail, simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { smtpMailer } from "../../src/email/mailer.ts";
import { eventEffectHandlers } from "../../src/events/event-bus.ts";
import { jobKinds } from "../../src/jobs/queues.ts";
import { startJobRuntime } from "../../src/jobs/runtime.ts";
import { redisUrl } from "../setup/test-env.ts";
import { startTestApp } from "./app.ts";
import { testAuditKeys } from "./audit-keys.ts";
import { silentLogger } from "./jobs.ts";
import { waitFor } from "./processes.ts";
import { testWebhooks } from "./webhooks.ts";

export interface ReceivedMail {
  to: string;
  subject: string;
  html: string;
  text: string;
  messageId: string;
  /** The X-Request-Id header: the request id of the HTTP request that caused the message. */
  requestId: string | null;
  /** When the server took it (Date.now()). */
  at: number;
}

/** A delivery the server answered with a temporary failure. */
export interface RefusedMail {
  to: string;
  messageId: string;
  at: number;
}

/**
 * A real SMTP server in the test process. `refuse(n)` answers the next n
 * deliveries with a temporary failure, as a busy or greylisting server would.
 */
export async function startSmtpServer() {
  const received: ReceivedMail[] = [];
  const refusedMail: RefusedMail[] = [];
  let refusals = 0;
  let refused = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream).then(
        (mail: ParsedMail) => {
          const to = Array.isArray(mail.to) ? mail.to[0] : mail.to;
          if (refusals > 0) {
            refusals -= 1;
            refused += 1;
            refusedMail.push({ to: to?.value[0]?.address ?? "", messageId: mail.messageId ?? "", at: Date.now() });
            const error = Object.assign(new Error("try again later"), { responseCode: 451 });
            return callback(error);
          }
          received.push({
            to: to?.value[0]?.address ?? "",
            subject: mail.subject ?? "",
            html: typeof mail.html === "string" ? mail.html : "",
            text: mail.text ?? "",
            messageId: mail.messageId ?? "",
            requestId: (mail.headers.get("x-request-id") as string | undefined) ?? null,
            at: Date.now(),
          });
          callback();
        },
        (error: Error) => callback(error),
      );
    },
  });
  // Port 0: the system picks a free port as it binds, so no other file can take it meanwhile.
  server.listen(0, "127.0.0.1");
  await once(server.server, "listening");
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    refuse(count: number) {
      refusals = count;
    },
    refusedCount: () => refused,
    /** Each refused delivery, in order. */
    refused: refusedMail,
    /** Waits until `count` messages matched `filter`, then returns them. */
    async messages(filter: (mail: ReceivedMail) => boolean, count = 1, timeoutMs = 20_000) {
      return waitFor(
        `${count} mail(s)`,
        async () => {
          const found = received.filter(filter);
          return found.length >= count ? found : null;
        },
        { timeoutMs, intervalMs: 50 },
      );
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type SmtpServer = Awaited<ReturnType<typeof startSmtpServer>>;

/**
 * The whole mail path in one process: the HTTP app listening on a real port
 * (decision links point at it), the job runtime with its workers on a queue
 * prefix of its own, and mail delivered over SMTP to the test's server.
 */
export async function startMailingApp(
  options: Partial<Pick<Parameters<typeof startJobRuntime>[0], "webhooks" | "jobOptions">> &
    Pick<NonNullable<Parameters<typeof startTestApp>[0]>, "verifyToken" | "events"> = {},
) {
  const smtp = await startSmtpServer();
  // The links in the mail need the address before the app exists: a front server binds
  // port 0 first and hands every request and upgrade to the app (no port to race for).
  const front = createServer();
  front.listen(0, "127.0.0.1");
  await once(front, "listening");
  const { port } = front.address() as AddressInfo;
  const publicUrl = `http://127.0.0.1:${port}`;
  let dispatch: import("../../src/domain/context.ts").EffectSink["dispatch"] = async () => {};
  const webhooks = options.webhooks ?? testWebhooks;
  const t = await startTestApp({
    publicUrl,
    effects: { dispatch: (effects, origin) => dispatch(effects, origin) },
    webhookSettings: webhooks.settings,
    verifyToken: options.verifyToken,
    events: options.events,
  });
  const runtime = await startJobRuntime({
    db: t.db,
    auditKeys: testAuditKeys,
    checkpointIntervalSeconds: 3600,
    logger: silentLogger,
    redisUrl,
    queuePrefix: `test-mail-${randomBytes(4).toString("hex")}`,
    reconcileIntervalSeconds: 3600,
    runWorkers: true,
    delivery: { mailer: smtpMailer(smtp.url, "Elevate <elevate@test.example>"), publicUrl },
    webhooks,
    jobOptions: options.jobOptions,
    // Transitions publish to subscribers when the test gives a bus.
    effectHandlers: options.events ? [eventEffectHandlers(options.events)] : [],
  });
  dispatch = (effects, origin) => runtime.effects.dispatch(effects, origin);
  front.on("request", (req, res) => t.app.server.emit("request", req, res));
  front.on("upgrade", (req, socket, head) => t.app.server.emit("upgrade", req, socket, head));
  return {
    t,
    smtp,
    publicUrl,
    runtime,
    async close() {
      front.closeAllConnections();
      await new Promise<void>((resolve) => front.close(() => resolve()));
      // This file's queues leave Redis with it.
      for (const kind of jobKinds) await runtime.queues.queue(kind).obliterate({ force: true });
      await runtime.close();
      await smtp.close();
      await t.close();
    },
  };
}

/** The Approve or Deny link of an approval message. */
export function decisionLink(mail: ReceivedMail, decision: "Approve" | "Deny"): string {
  const link = mail.text.match(new RegExp(`${decision}:\\s+(\\S+/decide/\\S+)`))?.[1];
  if (!link) throw new Error(`no ${decision} link in: ${mail.text}`);
  return link;
}

/** What a browser does: GET the page (cookie and form token), then POST its form. */
export async function submitDecision(link: string, comment = ""): Promise<{ status: number; html: string }> {
  const page = await fetch(link);
  const html = await page.text();
  const csrf = html.match(/name="csrf" value="([^"]+)"/)?.[1];
  const cookie = page.headers.get("set-cookie")?.split(";")[0];
  if (!csrf || !cookie) throw new Error(`no decision form on the page: ${html}`);
  const response = await fetch(link, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie, origin: new URL(link).origin },
    body: new URLSearchParams({ csrf, comment }).toString(),
  });
  return { status: response.status, html: await response.text() };
}
