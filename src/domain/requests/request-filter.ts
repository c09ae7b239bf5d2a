import type { AccessRequestKind, AccessRequestStatus, Prisma } from "../../db/client.ts";
import { awaitingDecisionBy } from "../approver-groups/eligibility.ts";
import { canonicalName } from "../catalog/names.ts";
import type { Actor } from "../context.ts";
import { visibleRequests } from "../visibility.ts";

export interface RequestFilter {
  status?: AccessRequestStatus[] | null;
  requesterEmail?: string | null;
  /** Any spelling of the target's name (canonical names, like everywhere). */
  target?: string | null;
  awaitingMyDecision?: boolean | null;
  /** CUSTOMER_LOCKBOX: vendors' requests (the Customer Lockbox list). */
  kind?: AccessRequestKind | null;
}

/** The requests a list shows: what the caller may see, narrowed by the filter. */
export function requestFilter(
  actor: Actor,
  filter: RequestFilter | null | undefined,
  now: Date,
): Prisma.AccessRequestWhereInput {
  const and: Prisma.AccessRequestWhereInput[] = [visibleRequests(actor)];
  if (filter?.status?.length) and.push({ status: { in: filter.status } });
  if (filter?.requesterEmail) and.push({ requester: { email: filter.requesterEmail.trim().toLowerCase() } });
  if (filter?.target) {
    const keys = [canonicalName("TASK", filter.target), canonicalName("ROLE", filter.target)];
    and.push({ catalogEntry: { key: { in: keys } } });
  }
  if (filter?.kind) and.push({ kind: filter.kind });
  if (filter?.awaitingMyDecision) and.push(awaitingDecisionBy(actor, now));
  return { AND: and };
}
