import type { Prisma, Tx } from "../../db/client.ts";
import type { Actor } from "../context.ts";

// Who may decide: the one rule, used by the decision transaction, by revocation, by
// the approval mail, by "awaiting my decision" and by who reads approval configuration.

/**
 * An eligible approver of a group: an active MEMBER principal in it now (GUEST and
 * SERVICE principals and Customer Lockbox vendors never decide, even as members).
 * Read at decision time.
 */
export const eligibleMember = {
  user: { kind: "MEMBER", active: true, vendorName: null },
} satisfies Prisma.ApproverGroupMemberWhereInput;

export async function isEligibleApprover(tx: Tx, approverGroupId: string, userId: string): Promise<boolean> {
  const membership = await tx.approverGroupMember.findFirst({
    where: { groupId: approverGroupId, userId, ...eligibleMember },
    select: { userId: true },
  });
  return membership !== null;
}

/** The eligible approvers of a request: never its requester. */
export async function eligibleApproverIds(tx: Tx, approverGroupId: string, requesterId: string): Promise<string[]> {
  const members = await tx.approverGroupMember.findMany({
    where: { groupId: approverGroupId, userId: { not: requesterId }, ...eligibleMember },
    select: { userId: true },
  });
  return members.map((member) => member.userId);
}

/** Requests the actor may decide now: waiting, not their own, not decided by them, in a group they are eligible in. */
export function awaitingDecisionBy(actor: Actor, now: Date): Prisma.AccessRequestWhereInput {
  return {
    status: "PENDING",
    expiresAt: { gt: now },
    requesterId: { not: actor.id },
    decisions: { none: { approverId: actor.id } },
    approverGroup: { members: { some: { userId: actor.id, ...eligibleMember } } },
  };
}
