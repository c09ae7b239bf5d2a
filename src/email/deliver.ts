import type { Db } from "../db/client.ts";
import { mintDecisionTokens } from "../domain/approval-tokens/approval-tokens.service.ts";
import { mayDecide } from "../domain/approver-groups/eligibility.ts";
import { isMailTemplate } from "../domain/notifications/notifications.service.ts";
import { stepUpRule } from "../domain/requests/step-up.ts";
import type { Mailer, OutgoingMessage } from "./mailer.ts";
import { renderEmail } from "./render.ts";

export interface DeliveryDeps {
  db: Db;
  mailer: Mailer;
  publicUrl: string;
}

/** The console's page of the request (its route takes the request identity GUID). */
function requestUrl(publicUrl: string, requestId: string): string {
  return `${publicUrl}/requests/${requestId}`;
}

/**
 * Renders and sends one outbox message, then marks it SENT. Does nothing for a
 * message already sent, so a retried or duplicated job never mails twice after
 * a recorded delivery. Approval links are minted here, at send time, so they
 * exist only in the message that went out.
 */
export async function deliverMail(deps: DeliveryDeps, messageId: string): Promise<"sent" | "skipped"> {
  const { db, publicUrl } = deps;
  const message = await db.emailMessage.findUnique({
    where: { id: messageId },
    include: {
      organization: true,
      recipient: true,
      request: {
        include: { requester: true, decisions: { include: { approver: true }, orderBy: { decidedAt: "desc" } } },
      },
      authorization: { include: { revokedBy: true } },
      webhookEndpoint: true,
    },
  });
  if (!message || message.status === "SENT") return "skipped";
  const { request, organization, recipient, authorization, webhookEndpoint } = message;
  const branding = { orgName: organization.name, publicUrl };
  const send = async (rendered: Awaited<ReturnType<typeof renderEmail>>, about?: OutgoingMessage["about"]) => {
    await deps.mailer.send({ to: recipient.email, messageId, requestId: message.correlationId, ...rendered, about });
    await db.emailMessage.update({ where: { id: messageId }, data: { status: "SENT", sentAt: new Date() } });
    return "sent" as const;
  };
  const template = message.template;
  if (!isMailTemplate(template)) throw new Error(`unknown mail template ${template}`);
  if (template === "webhook-disabled") {
    if (!webhookEndpoint) return markSkipped(db, messageId);
    return send(
      await renderEmail("webhook-disabled", {
        ...branding,
        adminName: recipient.displayName,
        url: webhookEndpoint.url,
        failures: webhookEndpoint.consecutiveFailures,
        disabledAt: webhookEndpoint.disabledAt ?? new Date(),
        lastError: webhookEndpoint.disabledReason ?? "unknown",
      }),
    );
  }
  if (!request) return "skipped";
  const access = { target: request.target, type: request.type, scope: request.scope, ticket: request.ticket };
  const common = {
    ...branding,
    ...access,
    requesterName: request.requester.displayName,
    requestUrl: requestUrl(publicUrl, request.id),
  };
  let rendered: Awaited<ReturnType<typeof renderEmail>>;
  switch (template) {
    case "approval-needed":
    case "approval-reminder":
    case "approval-escalated": {
      // The request was decided or expired before this message went out: its links would be stale.
      if (request.status !== "PENDING") return markSkipped(db, messageId);
      // An approver who decided since the reminder was queued needs no reminding.
      if (template !== "approval-needed" && request.decisions.some((d) => d.approver.id === recipient.id))
        return markSkipped(db, messageId);
      // Left the escalation group (or was deactivated) since the escalation was queued: no
      // links for someone who could not use them.
      if (template === "approval-escalated" && !(await mayDecide(db, request, recipient.id)))
        return markSkipped(db, messageId);
      // Step-up requests get no decision links at all: only a sign-in with MFA decides them.
      const stepUp = (await stepUpRule(db, request)).required;
      const tokens = stepUp ? null : await mintDecisionTokens(db, request, recipient.id);
      const decideUrl = (decision: "APPROVE" | "DENY") =>
        tokens ? `${publicUrl}/decide/${tokens[decision]}` : common.requestUrl;
      rendered = await renderEmail(template, {
        ...common,
        approverName: recipient.displayName,
        requesterEmail: request.requester.email,
        reason: request.reason,
        durationHours: request.durationHours,
        expiresAt: request.expiresAt,
        extendsAccessEndingAt: await extendedGrantEnd(db, request.extendsAuthorizationId),
        lockboxVendor: request.kind === "CUSTOMER_LOCKBOX" ? (request.requester.vendorName ?? "A vendor") : null,
        approveUrl: decideUrl("APPROVE"),
        denyUrl: decideUrl("DENY"),
        stepUp,
      });
      break;
    }
    case "request-approved":
      if (!authorization) return markSkipped(db, messageId);
      rendered = await renderEmail(template, {
        ...common,
        startsAt: authorization.startsAt,
        endsAt: authorization.endsAt,
        requestedHours: request.durationHours,
        grantedHours: grantedHours(request),
      });
      break;
    case "request-denied": {
      const denial = request.decisions.find((decision) => !decision.approved);
      rendered = await renderEmail(template, {
        ...common,
        deniedByName: denial?.approver.displayName ?? "an approver",
        comment: denial?.comment ?? undefined,
      });
      break;
    }
    case "request-expired":
      rendered = await renderEmail(template, { ...common, expiredAt: request.expiresAt });
      break;
    case "access-revoked":
      if (!authorization?.revokedAt) return markSkipped(db, messageId);
      rendered = await renderEmail(template, {
        ...common,
        revokedByName: authorization.revokedBy?.displayName ?? "an administrator",
        revokedAt: authorization.revokedAt,
        comment: authorization.revocationComment ?? undefined,
      });
      break;
    case "access-extended":
      if (!authorization || request.status !== "APPROVED") return markSkipped(db, messageId);
      rendered = await renderEmail(template, {
        ...common,
        durationHours: grantedHours(request),
        endsAt: authorization.endsAt,
      });
      break;
    case "access-expiring":
      // Ended or revoked before it went out: nothing to tell (an extended grant shows its new end).
      if (authorization?.status !== "ACTIVE" || authorization.endsAt <= new Date()) return markSkipped(db, messageId);
      rendered = await renderEmail(template, { ...common, requestId: request.id, endsAt: authorization.endsAt });
      break;
    case "access-ended":
      if (!authorization) return markSkipped(db, messageId);
      rendered = await renderEmail(template, {
        ...common,
        endedAt: authorization.endedAt ?? authorization.endsAt,
        endedEarly:
          authorization.endedAt && authorization.endedAt < authorization.endsAt
            ? { reason: authorization.endComment ?? undefined }
            : undefined,
      });
      break;
  }

  return send(rendered, { target: request.target, reason: request.reason, requestedAt: request.createdAt });
}

/** When the grant an extension request is for ends now; undefined for a request for new access. */
async function extendedGrantEnd(db: Db, authorizationId: string | null): Promise<Date | undefined> {
  if (!authorizationId) return undefined;
  const grant = await db.accessAuthorization.findUnique({ where: { id: authorizationId }, select: { endsAt: true } });
  return grant?.endsAt;
}

/** The hours an approved request was granted: the fewest any approver gave, else as asked. */
function grantedHours(request: {
  durationHours: number;
  decisions: { approved: boolean; durationHours: number | null }[];
}) {
  return Math.min(
    request.durationHours,
    ...request.decisions.flatMap((decision) => (decision.approved && decision.durationHours) || []),
  );
}

async function markSkipped(db: Db, messageId: string): Promise<"skipped"> {
  await db.emailMessage.update({
    where: { id: messageId },
    data: { status: "SKIPPED" },
  });
  return "skipped";
}

/** Records a failed attempt; the queue retries with backoff. */
export async function recordMailFailure(db: Db, messageId: string, error: unknown, final: boolean): Promise<void> {
  await db.emailMessage.updateMany({
    where: { id: messageId, status: "QUEUED" },
    data: {
      attempts: { increment: 1 },
      lastError: error instanceof Error ? error.message.slice(0, 500) : String(error),
      ...(final ? { status: "FAILED" } : {}),
    },
  });
}
