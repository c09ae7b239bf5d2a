import type { AccessRequest } from "../../db/client.ts";
import { eligibleApproverIds } from "../approver-groups/eligibility.ts";
import { ConflictError } from "../errors.ts";
import { queueMail } from "../notifications/notifications.service.ts";
import { readLaterStages, type StoredStage } from "../policies/stages.ts";
import type { TransitionScope } from "../transition.ts";

/** The stage after the request's current one, or null at the last stage. */
export function nextStageOf(request: Pick<AccessRequest, "stage" | "laterStages">): StoredStage | null {
  return readLaterStages(request.laterStages)[request.stage - 1] ?? null;
}

/**
 * Completes the current stage of a PENDING request and opens the next: its group and
 * quorum become the request's, with one conditional UPDATE (a racing decision that
 * completed the stage first makes this one a CONFLICT). The next stage's eligible
 * approvers are mailed now, never before; people who decided at an earlier stage are
 * left out, since a person decides a request once.
 */
export async function advanceStage(
  scope: TransitionScope,
  request: AccessRequest & { decisions: { approverId: string }[] },
  next: StoredStage,
  approvals: number,
  deciderId: string,
): Promise<AccessRequest> {
  const { tx, now, audit, effect } = scope;
  const { count } = await tx.accessRequest.updateMany({
    where: { id: request.id, status: "PENDING", stage: request.stage, expiresAt: { gt: now } },
    data: {
      stage: request.stage + 1,
      approverGroupId: next.approverGroupId,
      requiredApprovals: next.requiredApprovals,
    },
  });
  if (count !== 1) throw new ConflictError("request changed while it was being decided");
  const group = await tx.approverGroup.findUnique({ where: { id: next.approverGroupId }, select: { email: true } });
  audit({
    action: "Complete-ElevatedAccessRequestStage",
    subjectId: request.id,
    details: {
      stage: request.stage,
      approvals,
      nextStage: request.stage + 1,
      approverGroup: group?.email ?? next.approverGroupId,
      requiredApprovals: next.requiredApprovals,
    },
  });
  effect({
    kind: "requestEvent",
    organizationId: request.organizationId,
    requestId: request.id,
    type: "STAGE_COMPLETED",
    at: now,
  });
  const decided = new Set([...request.decisions.map((decision) => decision.approverId), deciderId]);
  const approvers = (await eligibleApproverIds(tx, next.approverGroupId, request.requesterId)).filter(
    (id) => !decided.has(id),
  );
  await queueMail(
    scope,
    request.organizationId,
    approvers.map((recipientId) => ({ template: "approval-needed", recipientId, requestId: request.id })),
  );
  return tx.accessRequest.findUniqueOrThrow({ where: { id: request.id } });
}
