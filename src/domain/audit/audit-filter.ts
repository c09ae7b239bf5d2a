import type { Prisma } from "../../db/client.ts";
import { ValidationError } from "../errors.ts";
import { decodeGlobalId } from "../global-id.ts";
import { decodeId, isUuid } from "../validation.ts";

export interface AuditFilter {
  /** Cmdlet names, in any case (Approve-ElevatedAccessRequest). */
  actions?: string[] | null;
  /** Who acted: a user's global ID or GUID. */
  actorId?: string | null;
  /** What the event is about: a global ID or the raw ID the event names. */
  subjectId?: string | null;
  from?: Date | null;
  to?: Date | null;
}

/** The organization's audit events a list shows, narrowed by the filter; a malformed ID is a VALIDATION error. */
export function auditFilter(
  organizationId: string,
  filter: AuditFilter | null | undefined,
): Prisma.AuditEventWhereInput {
  const and: Prisma.AuditEventWhereInput[] = [{ organizationId }];
  if (filter?.actions?.length) {
    and.push({ OR: filter.actions.map((action) => ({ action: { equals: action.trim(), mode: "insensitive" } })) });
  }
  if (filter?.actorId) {
    const actorId = decodeId("User", filter.actorId.trim());
    if (!actorId) throw new ValidationError("filter.actorId", "must be the ID of a User");
    and.push({ actorId });
  }
  if (filter?.subjectId) {
    // A bare UUID is taken as it is: one in seven also decodes as base64 into something
    // with a colon, which read as a global ID named a subject that does not exist.
    const subject = filter.subjectId.trim();
    and.push({ subjectId: isUuid(subject) ? subject.toLowerCase() : (decodeGlobalId(subject)?.id ?? subject) });
  }
  if (filter?.from && filter?.to && filter.from > filter.to) {
    throw new ValidationError("filter.to", "must not be before filter.from");
  }
  // Every event at or after `from` has a chainAt at or after it too (chainAt is the chain's
  // latest time so far), and those lie on the chain from one sequence on: the index on
  // chainAt starts there instead of scanning the whole chain before it.
  if (filter?.from) and.push({ at: { gte: filter.from } }, { chainAt: { gte: filter.from } });
  if (filter?.to) and.push({ at: { lt: filter.to } });
  return { AND: and };
}

/**
 * Chain order (by sequence), oldest or newest first. With `from`, by chainAt first: the
 * same order, since chainAt never decreases along the chain, in the terms of the index
 * that starts at `from`. Only then: the other filters' indexes are in sequence order.
 */
export function auditOrder(
  filter: AuditFilter | null | undefined,
  direction: Prisma.SortOrder,
): Prisma.AuditEventOrderByWithRelationInput[] {
  return filter?.from ? [{ chainAt: direction }, { sequence: direction }] : [{ sequence: direction }];
}
