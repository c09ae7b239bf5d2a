import type { Db } from "../../db/client.ts";
import type { TransitionScope } from "../transition.ts";
import { uuidv7 } from "../webhooks/uuid.ts";

/** Every notification the domain sends: the one list, which src/email must render each of. */
export const mailTemplates = [
  "approval-needed",
  "approval-reminder",
  "approval-escalated",
  "request-approved",
  "request-denied",
  "request-expired",
  "access-revoked",
  "access-ended",
  "access-extended",
  "access-expiring",
  "webhook-disabled",
] as const;

export type MailTemplate = (typeof mailTemplates)[number];

/** The notifications about an access request. */
export type RequestMailTemplate = Exclude<MailTemplate, "webhook-disabled">;

export function isMailTemplate(value: string): value is MailTemplate {
  return (mailTemplates as readonly string[]).includes(value);
}

export type OutgoingMail =
  | {
      template: RequestMailTemplate;
      recipientId: string;
      requestId: string;
      authorizationId?: string;
      /** Tells one mail of a template about a request from a later one (a notice per end time). */
      occasion?: string;
      /** The request id behind this mail when it differs from the transition's (batched deadlines). */
      correlationId?: string | null;
    }
  /** To an admin: `occasion` tells one disabling of the endpoint from a later one. */
  | { template: "webhook-disabled"; recipientId: string; webhookEndpointId: string; occasion: string };

/** An outbox row, each column set: the rows of a batch go to the database column by column. */
interface MailRow {
  template: MailTemplate;
  recipientId: string;
  correlationId: string | null;
  requestId: string | null;
  authorizationId: string | null;
  webhookEndpointId: string | null;
  dedupeKey: string;
}

function rowOf(correlationId: string | null, mail: OutgoingMail): MailRow {
  const common = {
    template: mail.template,
    recipientId: mail.recipientId,
    correlationId: ("correlationId" in mail ? mail.correlationId : undefined) ?? correlationId,
  };
  if (mail.template === "webhook-disabled") {
    return {
      ...common,
      requestId: null,
      authorizationId: null,
      webhookEndpointId: mail.webhookEndpointId,
      dedupeKey: `${mail.template}:${mail.webhookEndpointId}:${mail.occasion}:${mail.recipientId}`,
    };
  }
  return {
    ...common,
    requestId: mail.requestId,
    authorizationId: mail.authorizationId ?? null,
    webhookEndpointId: null,
    dedupeKey: `${mail.template}:${mail.requestId}:${mail.recipientId}${mail.occasion ? `:${mail.occasion}` : ""}`,
  };
}

/**
 * Records notification mail in the outbox inside the transition's transaction.
 * The dedupe key (template, subject, recipient) makes one message per transition
 * and recipient, however often a transition's follow-up work is retried.
 */
export async function queueMail(
  { tx, effect, correlationId }: Pick<TransitionScope, "tx" | "effect" | "correlationId">,
  organizationId: string,
  mails: OutgoingMail[],
): Promise<void> {
  if (mails.length === 0) return;
  const rows = mails.map((mail) => rowOf(correlationId, mail));
  const column = (key: keyof MailRow) => rows.map((row) => row[key]);
  // One statement of one shape whatever the count (Prisma compiles every createMany
  // afresh); the dedupe key's conflict skips a message already queued.
  await tx.$executeRaw`
    INSERT INTO "EmailMessage" (id, "organizationId", template, "recipientId", "requestId", "authorizationId",
                                "webhookEndpointId", "dedupeKey", "correlationId")
    SELECT m.id, ${organizationId}::uuid, m.template, m."recipientId", m."requestId", m."authorizationId",
           m."webhookEndpointId", m."dedupeKey", m."correlationId"
    FROM unnest(${rows.map(() => uuidv7())}::uuid[], ${column("template")}::text[], ${column("recipientId")}::uuid[],
                ${column("requestId")}::uuid[], ${column("authorizationId")}::uuid[], ${column("webhookEndpointId")}::uuid[],
                ${column("dedupeKey")}::text[], ${column("correlationId")}::text[])
      AS m(id, template, "recipientId", "requestId", "authorizationId", "webhookEndpointId", "dedupeKey", "correlationId")
    ON CONFLICT DO NOTHING`;
  const queued = await tx.emailMessage.findMany({
    where: { dedupeKey: { in: rows.map((row) => row.dedupeKey) }, status: "QUEUED" },
    select: { id: true },
  });
  effect({ kind: "mailQueued", messageIds: queued.map((message) => message.id) });
}

/**
 * Outbox messages still waiting to be sent, in batches: the reconciler re-adds
 * their jobs when Redis lost them. Fresh rows are left to the transition that
 * queued them, which adds their job right after commit.
 */
export async function* queuedMail(
  db: Db,
  batchSize: number,
  olderThanMs = 10_000,
): AsyncGenerator<{ id: string; correlationId: string | null }[]> {
  const before = new Date(Date.now() - olderThanMs);
  let cursor: string | undefined;
  for (;;) {
    const rows = await db.emailMessage.findMany({
      where: { status: "QUEUED", createdAt: { lt: before }, ...(cursor ? { id: { gt: cursor } } : {}) },
      orderBy: { id: "asc" },
      take: batchSize,
      select: { id: true, correlationId: true },
    });
    if (rows.length === 0) return;
    yield rows;
    cursor = rows.at(-1)?.id;
    if (rows.length < batchSize) return;
  }
}
