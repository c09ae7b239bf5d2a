import type { Db } from "../../db/client.ts";
import type { TransitionScope } from "../transition.ts";

/** Every notification the domain sends: the one list, which src/email must render each of. */
export const mailTemplates = [
  "approval-needed",
  "request-approved",
  "request-denied",
  "request-expired",
  "access-revoked",
  "access-ended",
] as const;

export type MailTemplate = (typeof mailTemplates)[number];

export function isMailTemplate(value: string): value is MailTemplate {
  return (mailTemplates as readonly string[]).includes(value);
}

export interface OutgoingMail {
  template: MailTemplate;
  recipientId: string;
  requestId: string;
  authorizationId?: string;
}

/**
 * Records notification mail in the outbox inside the transition's transaction.
 * The dedupe key (template, request, recipient) makes one message per transition
 * and recipient, however often a transition's follow-up work is retried.
 */
export async function queueMail(
  { tx, effect }: Pick<TransitionScope, "tx" | "effect">,
  organizationId: string,
  mails: OutgoingMail[],
): Promise<void> {
  if (mails.length === 0) return;
  const rows = mails.map((mail) => ({
    organizationId,
    template: mail.template,
    recipientId: mail.recipientId,
    requestId: mail.requestId,
    authorizationId: mail.authorizationId ?? null,
    dedupeKey: `${mail.template}:${mail.requestId}:${mail.recipientId}`,
  }));
  await tx.emailMessage.createMany({ data: rows, skipDuplicates: true });
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
export async function* queuedMail(db: Db, batchSize: number, olderThanMs = 10_000): AsyncGenerator<{ id: string }[]> {
  const before = new Date(Date.now() - olderThanMs);
  let cursor: string | undefined;
  for (;;) {
    const rows = await db.emailMessage.findMany({
      where: { status: "QUEUED", createdAt: { lt: before }, ...(cursor ? { id: { gt: cursor } } : {}) },
      orderBy: { id: "asc" },
      take: batchSize,
      select: { id: true },
    });
    if (rows.length === 0) return;
    yield rows;
    cursor = rows.at(-1)?.id;
    if (rows.length < batchSize) return;
  }
}
