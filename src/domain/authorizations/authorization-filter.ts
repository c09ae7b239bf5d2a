import type { AuthorizationStatus, Prisma } from "../../db/client.ts";
import type { Actor } from "../context.ts";
import { ValidationError } from "../errors.ts";
import { decodeId } from "../validation.ts";
import { visibleAuthorizations } from "../visibility.ts";

export interface AuthorizationFilter {
  status?: AuthorizationStatus[] | null;
  /** The grantee: a user's global ID or GUID. */
  userId?: string | null;
}

/** The grants a list shows: what the caller may see, narrowed by the filter; a malformed ID is a VALIDATION error. */
export function authorizationFilter(actor: Actor, filter: AuthorizationFilter): Prisma.AccessAuthorizationWhereInput {
  const and: Prisma.AccessAuthorizationWhereInput[] = [visibleAuthorizations(actor)];
  if (filter.status?.length) and.push({ status: { in: filter.status } });
  if (filter.userId) {
    const userId = decodeId("User", filter.userId.trim());
    if (!userId) throw new ValidationError("userId", "must be the ID of a User");
    and.push({ userId });
  }
  return { AND: and };
}
