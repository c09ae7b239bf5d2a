import type { Prisma } from "../db/client.ts";
import { isReader } from "./access.ts";
import type { Actor } from "./context.ts";

// Who may read what, as Prisma filters, so every read path (lists, get by ID,
// node(id:), subscriptions) applies the same rules inside the caller's tenant.

/** Requesters see their own requests, approvers those of their groups, readers all. */
export function visibleRequests(actor: Actor): Prisma.AccessRequestWhereInput {
  const tenant = { organizationId: actor.organizationId };
  if (isReader(actor)) return tenant;
  return {
    ...tenant,
    OR: [{ requesterId: actor.id }, { approverGroup: { members: { some: { userId: actor.id } } } }],
  };
}

export function visibleAuthorizations(actor: Actor): Prisma.AccessAuthorizationWhereInput {
  const tenant = { organizationId: actor.organizationId };
  if (isReader(actor)) return tenant;
  return {
    ...tenant,
    OR: [{ userId: actor.id }, { request: { approverGroup: { members: { some: { userId: actor.id } } } } }],
  };
}

/** Enforcement services see the executions they checked; users their own. */
export function visibleExecutions(actor: Actor): Prisma.TaskExecutionWhereInput {
  const tenant = { organizationId: actor.organizationId };
  if (isReader(actor)) return tenant;
  return { ...tenant, OR: [{ userId: actor.id }, { callerId: actor.id }] };
}
