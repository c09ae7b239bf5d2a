import type { Tx } from "../../db/client.ts";
import { findApproverGroup } from "../approver-groups/approver-groups.service.ts";
import { maxRequestLifetimeHours } from "../control/control.service.ts";
import { ValidationError } from "../errors.ts";
import { wholeHours } from "../validation.ts";

// A policy's escalation: a group that may also decide a request left undecided for
// escalateAfterHours after it was filed (requests/escalation.service.ts carries it out).

export const escalateAfterHours = wholeHours(maxRequestLifetimeHours - 1);

/**
 * The escalation a policy gets from what the admin sent (and, on an update, what it
 * had): both a group and hours, or neither; MANUAL policies only; and sooner than a
 * request's lifetime, since a request expires undecided at the end of it.
 */
export async function resolveEscalation(
  tx: Tx,
  organizationId: string,
  {
    group,
    afterHours,
    approvalType,
    requestLifetimeHours,
  }: {
    group: string | null;
    afterHours: number | null;
    approvalType: "MANUAL" | "AUTO";
    requestLifetimeHours: number;
  },
): Promise<{ groupId: string; email: string; afterHours: number } | null> {
  if (group === null && afterHours === null) return null;
  if (group === null) throw new ValidationError("escalationGroup", "is required with escalateAfterHours");
  if (afterHours === null) throw new ValidationError("escalateAfterHours", "is required with escalationGroup");
  if (approvalType !== "MANUAL") throw new ValidationError("escalationGroup", "applies to MANUAL policies only");
  if (afterHours >= requestLifetimeHours) {
    throw new ValidationError(
      "escalateAfterHours",
      `must be less than the request lifetime of ${requestLifetimeHours} hours (a request expires undecided then)`,
    );
  }
  const found = await findApproverGroup(tx, organizationId, group, "escalationGroup");
  return { groupId: found.id, email: found.email, afterHours };
}
