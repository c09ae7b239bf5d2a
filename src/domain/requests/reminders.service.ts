import { eligibleApproverIds } from "../approver-groups/eligibility.ts";
import type { DeadlineOutcome, ServiceContext } from "../context.ts";
import { queueMail } from "../notifications/notifications.service.ts";
import { transition } from "../transition.ts";
import { lockIfPending } from "./pending-lock.ts";

const hour = 3_600_000;

/** The first of the organization's reminder points after `after`, before the request expires; null when none is left. */
export function nextReminder(
  reminderHours: number[],
  request: { createdAt: Date; expiresAt: Date },
  after: Date,
): Date | null {
  const points = [...reminderHours]
    .sort((a, b) => a - b)
    .map((hours) => new Date(request.createdAt.getTime() + hours * hour))
    .filter((at) => at > after && at < request.expiresAt);
  return points[0] ?? null;
}

/**
 * Reminds the approvers of a PENDING request who have not decided it yet, at the latest
 * reminder point that has come (a job woken late sends that one, not every missed one),
 * then answers when the next point is due. Runs under the request's row lock, so it is
 * ordered with decisions: a request settled first gets nothing. One mail per point and
 * approver: the point is part of the outbox's dedupe key, so a retried or duplicated job
 * never reminds twice.
 */
export async function remindApprovers(ctx: ServiceContext, requestId: string): Promise<DeadlineOutcome> {
  return transition(ctx, async (scope) => {
    const { tx, now } = scope;
    if (!(await lockIfPending(tx, ctx.organizationId, requestId))) return { kind: "settled" };
    const request = await tx.accessRequest.findUniqueOrThrow({
      where: { id: requestId },
      include: { decisions: true },
    });
    if (request.expiresAt <= now) return { kind: "settled" };
    const { reminderHours } = await tx.elevatedAccessControl.findUniqueOrThrow({
      where: { organizationId: ctx.organizationId },
      select: { reminderHours: true },
    });
    const due = [...reminderHours]
      .sort((a, b) => a - b)
      .filter((hours) => request.createdAt.getTime() + hours * hour <= now.getTime())
      .at(-1);
    if (due !== undefined) {
      const decided = new Set(request.decisions.map((decision) => decision.approverId));
      const approvers = (await eligibleApproverIds(tx, request.approverGroupId, request.requesterId)).filter(
        (approverId) => !decided.has(approverId),
      );
      await queueMail(
        scope,
        ctx.organizationId,
        approvers.map((recipientId) => ({
          template: "approval-reminder",
          recipientId,
          requestId,
          occasion: `${due}h`,
        })),
      );
    }
    const next = nextReminder(reminderHours, request, now);
    return next ? { kind: "notDue", at: next } : { kind: due === undefined ? "settled" : "done" };
  });
}
