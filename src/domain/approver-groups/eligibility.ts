import type { Prisma, Tx } from "../../db/client.ts";
import type { Actor } from "../context.ts";

// Who may decide: the one rule, used by the decision transaction (every door: GraphQL,
// the command line, email links), by the approval, reminder and escalation mail (at
// queueing and again at sending), by "awaiting my decision" and by who reads approval
// configuration. Revoking a grant stays with the request's group (authorizations.service.ts).

/**
 * An eligible approver of a group: an active MEMBER principal in it now (GUEST and
 * SERVICE principals and Customer Lockbox vendors never decide, even as members).
 * Read at decision time.
 */
export const eligibleMember = {
  user: { kind: "MEMBER", active: true, vendorName: null },
} satisfies Prisma.ApproverGroupMemberWhereInput;

/** What eligibility reads of a request: its current stage's group, and its escalation group once it escalated. */
export interface DecidingGroups {
  approverGroupId: string;
  escalationGroupId: string | null;
  escalatedAt: Date | null;
}

/**
 * The groups whose eligible members may decide a request now: the current stage's, plus
 * the escalation group from the moment the request escalated (whatever stage it is at).
 */
export function decidingGroupIds(request: DecidingGroups): string[] {
  return request.escalatedAt && request.escalationGroupId
    ? [request.approverGroupId, request.escalationGroupId]
    : [request.approverGroupId];
}

export async function isEligibleApprover(tx: Tx, approverGroupId: string, userId: string): Promise<boolean> {
  const membership = await tx.approverGroupMember.findFirst({
    where: { groupId: approverGroupId, userId, ...eligibleMember },
    select: { userId: true },
  });
  return membership !== null;
}

/** May this user decide the request now (besides not being its requester, checked apart)? */
export async function mayDecide(tx: Pick<Tx, "approverGroupMember">, request: DecidingGroups, userId: string) {
  const membership = await tx.approverGroupMember.findFirst({
    where: { groupId: { in: decidingGroupIds(request) }, userId, ...eligibleMember },
    select: { userId: true },
  });
  return membership !== null;
}

/** The eligible approvers of a group for a request: never its requester. */
export async function eligibleApproverIds(tx: Tx, approverGroupId: string, requesterId: string): Promise<string[]> {
  const members = await tx.approverGroupMember.findMany({
    where: { groupId: approverGroupId, userId: { not: requesterId }, ...eligibleMember },
    select: { userId: true },
  });
  return members.map((member) => member.userId);
}

/** Requests the actor may decide now: waiting, not their own, not decided by them, in a group they are eligible in. */
export function awaitingDecisionBy(actor: Actor, now: Date): Prisma.AccessRequestWhereInput {
  const eligible = { members: { some: { userId: actor.id, ...eligibleMember } } };
  return {
    status: "PENDING",
    expiresAt: { gt: now },
    requesterId: { not: actor.id },
    decisions: { none: { approverId: actor.id } },
    OR: [{ approverGroup: eligible }, { escalatedAt: { not: null }, escalationGroup: eligible }],
  };
}
