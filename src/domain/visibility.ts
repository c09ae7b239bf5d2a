import type { Prisma } from "../db/client.ts";
import { isReader, readsApprovalConfiguration } from "./access.ts";
import type { Actor } from "./context.ts";

// Who may read what, as Prisma filters inside the caller's tenant. Every read path
// uses them: root lists and gets, node(id:), subscriptions, and every GraphQL
// relation that reaches a request, authorization, decision, execution or policy.
// Group membership is read from the database at query time, so a removed approver
// stops seeing a group's requests at once.

const memberOfGroup = (actor: Actor) => ({ members: { some: { userId: actor.id } } });

/** Requesters see their own requests, approvers those of their groups, readers all; vendors their own. */
export function visibleRequests(actor: Actor): Prisma.AccessRequestWhereInput {
  const tenant = { organizationId: actor.organizationId };
  // A vendor sees its own requests only, even as a member of an approver group.
  if (actor.vendor) return { ...tenant, requesterId: actor.id };
  if (isReader(actor)) return tenant;
  // Approvers of an earlier stage keep seeing a multi-stage request they decided; an
  // escalation group sees a request from the moment it escalated.
  return {
    ...tenant,
    OR: [
      { requesterId: actor.id },
      { approverGroup: memberOfGroup(actor) },
      { escalatedAt: { not: null }, escalationGroup: memberOfGroup(actor) },
      { decisions: { some: { approverId: actor.id } } },
    ],
  };
}

/** An authorization is visible exactly when its request is. */
export function visibleAuthorizations(actor: Actor): Prisma.AccessAuthorizationWhereInput {
  return { organizationId: actor.organizationId, request: visibleRequests(actor) };
}

/** A decision is visible exactly when its request is. */
export function visibleDecisions(actor: Actor): Prisma.AccessDecisionWhereInput {
  return { request: visibleRequests(actor) };
}

/**
 * Executions: readers all; users their own; enforcement services the ones they
 * checked; approvers those made under grants they can see.
 */
export function visibleExecutions(actor: Actor): Prisma.TaskExecutionWhereInput {
  const tenant = { organizationId: actor.organizationId };
  if (isReader(actor)) return tenant;
  return {
    ...tenant,
    OR: [{ userId: actor.id }, { callerId: actor.id }, { authorization: visibleAuthorizations(actor) }],
  };
}

/** Policies (with their approval details): admins, auditors and approvers; nobody else. */
export function visiblePolicies(actor: Actor): Prisma.ApprovalPolicyWhereInput {
  return readsApprovalConfiguration(actor)
    ? { organizationId: actor.organizationId }
    : { organizationId: actor.organizationId, id: { in: [] } };
}
