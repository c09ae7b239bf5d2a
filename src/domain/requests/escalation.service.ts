import type { Tx } from "../../db/client.ts";
import { eligibleApproverIds } from "../approver-groups/eligibility.ts";
import type { DeadlineOutcome, ServiceContext } from "../context.ts";
import { queueMail } from "../notifications/notifications.service.ts";
import { transition } from "../transition.ts";
import { lockIfPending } from "./pending-lock.ts";

// Escalation: a policy may name a group whose members may also decide a request that
// has waited escalateAfterHours undecided (counted from its filing, like reminders and
// expiry). The request keeps the group and the moment as filed; at that moment one job
// (the reconciler as backstop) marks it escalated, once, and mails the group. From then
// on the group's eligible members decide whatever stage the request is at, as that
// stage's approvers do (eligibility.ts holds the rule).

const hour = 3_600_000;

/** The escalation a request filed now under the policy gets: none when the policy has none or it would come at or after expiry. */
export async function escalationOf(
  tx: Pick<Tx, "approvalPolicy">,
  policyId: string,
  now: Date,
  expiresAt: Date,
): Promise<{ groupId: string; at: Date } | null> {
  const policy = await tx.approvalPolicy.findUniqueOrThrow({
    where: { id: policyId },
    select: { escalationGroupId: true, escalateAfterHours: true },
  });
  if (!policy.escalationGroupId || !policy.escalateAfterHours) return null;
  const at = new Date(now.getTime() + policy.escalateAfterHours * hour);
  return at < expiresAt ? { groupId: policy.escalationGroupId, at } : null;
}

/**
 * Escalates a PENDING request whose moment has come: marks it escalated (once: a retried
 * or duplicated job, or the reconciler after the job, finds escalatedAt set), audits it,
 * announces it, and mails the escalation group's eligible members who are not already
 * among the current stage's approvers and have not decided. Runs under the request's row
 * lock, so it is ordered with decisions: a request settled first gets nothing, and a
 * member removed from the group before this transaction reads it is not mailed.
 */
export async function escalateRequest(ctx: ServiceContext, requestId: string): Promise<DeadlineOutcome> {
  return transition(ctx, async (scope) => {
    const { tx, now, audit, effect } = scope;
    if (!(await lockIfPending(tx, ctx.organizationId, requestId))) return { kind: "settled" };
    const request = await tx.accessRequest.findUniqueOrThrow({
      where: { id: requestId },
      include: { decisions: { select: { approverId: true } }, escalationGroup: { select: { email: true } } },
    });
    if (request.expiresAt <= now || !request.escalateAt || !request.escalationGroupId || request.escalatedAt) {
      return { kind: "settled" };
    }
    if (request.escalateAt > now) return { kind: "notDue", at: request.escalateAt };
    await tx.accessRequest.update({ where: { id: requestId }, data: { escalatedAt: now } });
    const decided = new Set(request.decisions.map((decision) => decision.approverId));
    const asked = new Set(await eligibleApproverIds(tx, request.approverGroupId, request.requesterId));
    const recipients = (await eligibleApproverIds(tx, request.escalationGroupId, request.requesterId)).filter(
      (id) => !decided.has(id) && !asked.has(id),
    );
    audit({
      action: "Escalate-ElevatedAccessRequest",
      subjectId: requestId,
      details: {
        escalationGroup: request.escalationGroup?.email ?? request.escalationGroupId,
        stage: request.stage,
        mailed: recipients.length,
      },
    });
    effect({ kind: "requestEvent", organizationId: ctx.organizationId, requestId, type: "ESCALATED", at: now });
    await queueMail(
      scope,
      ctx.organizationId,
      recipients.map((recipientId) => ({ template: "approval-escalated", recipientId, requestId })),
    );
    return { kind: "done" };
  });
}
