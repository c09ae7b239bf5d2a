import type { Db } from "../../db/client.ts";
import { clockOf, type ServiceDeps, serviceContext } from "../context.ts";
import { ConflictError, DomainError, type ErrorCode } from "../errors.ts";
import { actorById } from "../identity.ts";
import { recordDecision } from "../requests/requests.service.ts";
import { stepUpRule } from "../requests/step-up.ts";
import { consumeDecisionToken, findDecisionToken } from "./approval-tokens.service.ts";

// The one-click decision from an email, as a use case: the pages in src/http only
// route, check the form and render what these functions answer.

export type DecisionLink = NonNullable<Awaited<ReturnType<typeof findDecisionToken>>>;

/** Why a link can no longer decide, or that it still can. */
export type LinkState = "open" | "settled" | "used" | "expired";

/**
 * The state of a link: it decides only while its request is PENDING and before the
 * request's expiry, once, and before its own expiry.
 */
export function linkState(
  link: { usedAt: Date | null; expiresAt: Date; request: { status: string; expiresAt: Date } },
  now: Date,
): LinkState {
  if (link.request.status !== "PENDING") return "settled";
  if (link.usedAt) return "used";
  if (link.request.expiresAt <= now || link.expiresAt <= now) return "expired";
  return "open";
}

/** A link that can no longer decide, and why. */
export type SpentLink = { kind: Exclude<LinkState, "open">; link: DecisionLink };

export function isSpent(value: { kind: string }): value is SpentLink {
  return value.kind === "settled" || value.kind === "used" || value.kind === "expired";
}

/**
 * A link of a request whose approvers must decide with multi-factor authentication: it
 * never decides (whoever holds a forwarded or scanned mail has no sign-in at all); the
 * page sends the approver to sign in at the identity provider and decide in the console.
 */
export type SignInRequiredLink = { kind: "signInRequired"; link: DecisionLink };

export type LinkLookup = { kind: "unknown" } | { kind: "open"; link: DecisionLink } | SpentLink | SignInRequiredLink;

/** What a link is and can do, without changing anything (GET and HEAD). */
export async function lookUpLink(db: Db, value: string, now: Date): Promise<LinkLookup> {
  const link = await findDecisionToken(db, value);
  if (!link) return { kind: "unknown" };
  const kind = linkState(link, now);
  if (kind !== "open") return { kind, link };
  return (await stepUpRule(db, link.request)).required ? { kind: "signInRequired", link } : { kind, link };
}

export type LinkDecision =
  | { kind: "unknown" }
  /** Nothing decided by this post; the link shows who decided what and when. */
  | SpentLink
  | SignInRequiredLink
  /** The request is approved (with its access window) or denied by this decision. */
  | { kind: "decided"; link: DecisionLink; status: "APPROVED" | "DENIED"; window: { from: Date; until: Date } | null }
  /** An approval counted; the quorum needs more. */
  | { kind: "recorded"; link: DecisionLink; approvals: number; requiredApprovals: number }
  /** The approver may not decide this request (no longer in the group, the requester, ...). */
  | { kind: "refused"; link: DecisionLink; code: ErrorCode; message: string };

/**
 * Decides a request through an emailed link: as the approver the link was minted for,
 * through the same decision transaction as every other door (channel EMAIL), spending
 * the link in it. When the decision fails because something happened meanwhile
 * (another approver decided, the link was used, the request expired), that is the
 * answer; otherwise the refusal is.
 */
export async function decideByLink(
  deps: ServiceDeps,
  value: string,
  comment: string | null,
  /** The request id of the HTTP request that follows the link: its mail and webhooks carry it. */
  correlationId: string | null = null,
  /** An approval for fewer hours than asked, as the page's form gave it (validated by the decision). */
  durationHours: number | null = null,
): Promise<LinkDecision> {
  const clock = clockOf(deps);
  const found = await lookUpLink(deps.db, value, clock());
  if (found.kind !== "open") return found;
  const { link } = found;
  const actor = await actorById(deps.db, link.organizationId, link.approverId);
  if (!actor) return { kind: "unknown" };
  const approved = link.decision === "APPROVE";
  try {
    const request = await recordDecision(
      serviceContext(deps, link.organizationId, actor, correlationId),
      { requestId: link.requestId, comment, durationHours },
      {
        approved,
        channel: "EMAIL",
        spendLink: async (tx, at) => {
          if (!(await consumeDecisionToken(tx, link.id, at))) throw new ConflictError("this link was already used");
        },
      },
    );
    if (request.status === "PENDING") {
      // The approvals of the stage the request is at now (a completed stage opens the next at 0).
      const approvals = await deps.db.accessDecision.count({
        where: { requestId: request.id, approved: true, stage: request.stage },
      });
      return { kind: "recorded", link, approvals, requiredApprovals: request.requiredApprovals };
    }
    const grant = await deps.db.accessAuthorization.findUnique({
      where: { requestId: request.id },
      select: { startsAt: true, endsAt: true },
    });
    return {
      kind: "decided",
      link,
      status: request.status === "APPROVED" ? "APPROVED" : "DENIED",
      window: grant ? { from: grant.startsAt, until: grant.endsAt } : null,
    };
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    const meanwhile = await lookUpLink(deps.db, value, clock());
    if (meanwhile.kind !== "open" && meanwhile.kind !== "unknown") return meanwhile;
    return { kind: "refused", link, code: error.code, message: error.message };
  }
}
