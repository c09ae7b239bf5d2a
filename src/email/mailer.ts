import { mkdir, readdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import nodemailer from "nodemailer";

export interface OutgoingMessage {
  to: string;
  subject: string;
  html: string;
  text: string;
  /** Stable per outbox row, so a receiver can spot a duplicate. */
  messageId: string;
  /** The request the message is about; the dev mailbox lists it, SMTP sends the message alone. */
  about?: { target: string; reason: string; requestedAt: Date } | undefined;
  /** The request id of the HTTP request that caused the message, sent as X-Request-Id. */
  requestId?: string | null;
}

export interface Mailer {
  send(message: OutgoingMessage): Promise<void>;
  close(): void;
}

/**
 * Real delivery over SMTP (SMTP_URL), on pooled connections: a burst of mail (five
 * approvers per request, twenty requests a second) reuses open connections instead of
 * a TCP (and TLS) handshake and a greeting per message. Five connections: the sendMail
 * jobs running at once (queues.ts) spend most of their time on PostgreSQL, and queue for
 * a connection only to hand over a rendered message.
 */
export function smtpMailer(smtpUrl: string, from: string): Mailer {
  const transport = nodemailer.createTransport({ url: smtpUrl, pool: true, maxConnections: 5 });
  return {
    async send({ requestId, ...message }) {
      await transport.sendMail({
        from,
        ...message,
        messageId: `<${message.messageId}@elevate>`,
        // Chosen rather than detected: nodemailer's detection scans the whole HTML with two
        // regular expressions and quoted-printable encodes it in JavaScript, 8% of a
        // worker's time at 100 mails a second; base64 is native.
        textEncoding: "base64",
        ...(requestId ? { headers: { "X-Request-Id": requestId } } : {}),
      });
    },
    close: () => transport.close(),
  };
}

export interface StoredDevMail extends Omit<OutgoingMessage, "about"> {
  id: string;
  from: string;
  date: string;
  about?: { target: string; reason: string; requestedAt: string };
  /** The database the message's links belong to (absent in messages kept before it was recorded). */
  database?: string;
}

export interface DevMailbox extends Mailer {
  list(): Promise<StoredDevMail[]>;
  /** Which database is in use now, as recorded in the messages sent while it was. */
  currentDatabase(): Promise<string>;
}

/**
 * Development without SMTP_URL: messages are kept as files, so whichever process
 * sends them (API or a separate worker), /dev/mail lists them. Each records the
 * database it came from, so messages of a database that was since dropped and
 * created anew (whose links no longer work) can be told apart.
 */
export function devMailbox(dir: string, from: string, databaseIdentity: () => Promise<string>): DevMailbox {
  return {
    async send({ about, ...message }) {
      await mkdir(dir, { recursive: true });
      const date = new Date().toISOString();
      const id = `${date.replace(/\D/g, "")}-${message.messageId}`;
      const stored: StoredDevMail = {
        id,
        from,
        date,
        ...message,
        ...(about ? { about: { ...about, requestedAt: about.requestedAt.toISOString() } } : {}),
        database: await databaseIdentity(),
      };
      // Written aside and renamed into place: a reader (the /dev/mail page, another
      // process) never sees a half-written message.
      const file = path.join(dir, `${id}.json`);
      await writeFile(`${file}.partial`, JSON.stringify(stored));
      await rename(`${file}.partial`, file);
    },
    close: () => {},
    currentDatabase: databaseIdentity,
    async list() {
      const files = (await readdir(dir).catch(() => [] as string[])).filter((file) => file.endsWith(".json"));
      const messages = await Promise.all(
        files.map(async (file) => JSON.parse(await readFile(path.join(dir, file), "utf8")) as StoredDevMail),
      );
      return messages.sort((a, b) => b.id.localeCompare(a.id));
    },
  };
}
