import { z } from "zod";
import type { PrincipalKind, Prisma, UserRole } from "../../db/client.ts";
import { requireAdmin } from "../access.ts";
import { revokeGrant } from "../authorizations/authorizations.service.ts";
import type { ServiceContext } from "../context.ts";
import { ConflictError, NotFoundError, ValidationError } from "../errors.ts";
import { cancelPendingRequests } from "../requests/requests.service.ts";
import { type TransitionScope, transition } from "../transition.ts";
import { emailAddress, entityId, nonEmptyText, optionalText, parseInput } from "../validation.ts";

// Users of an organization: provisioned by the directory (SCIM), created at their
// first sign-in (just in time), invited by address by the operator, and changed by
// admins. Every change is audited.

export const userRoles = ["ADMIN", "AUDITOR", "ENFORCER"] as const satisfies readonly UserRole[];
export const principalKinds = ["MEMBER", "GUEST", "SERVICE"] as const satisfies readonly PrincipalKind[];

/** What a user is to the organization, as the directory or a token says. */
export interface UserProfile {
  email: string;
  displayName: string;
  kind: PrincipalKind;
  externalId?: string | null;
  roles?: UserRole[];
  active?: boolean;
  /** A Customer Lockbox vendor's support identity (vendors.service.ts). */
  vendorName?: string | null;
}

const profileInput = z.object({
  email: emailAddress,
  displayName: nonEmptyText(256),
  kind: z.enum(principalKinds),
  externalId: optionalText(256),
  roles: z.array(z.enum(userRoles)).max(3).optional(),
  active: z.boolean().optional(),
});

/** The fields that differ between a user and a profile, as { field: { from, to } }. */
function differences(
  user: Record<string, unknown>,
  profile: Partial<UserProfile>,
): Record<string, { from: unknown; to: unknown }> {
  const changed: Record<string, { from: unknown; to: unknown }> = {};
  for (const [field, to] of Object.entries(profile)) {
    if (to === undefined) continue;
    const from = user[field];
    const same =
      Array.isArray(to) && Array.isArray(from) ? [...to].sort().join() === [...from].sort().join() : from === to;
    if (!same) changed[field] = { from, to };
  }
  return changed;
}

async function assertAddressFree(scope: TransitionScope, organizationId: string, email: string, userId?: string) {
  const holder = await scope.tx.user.findFirst({
    where: { organizationId, email, ...(userId ? { id: { not: userId } } : {}) },
    select: { id: true },
  });
  if (holder) throw new ConflictError(`email: another user of the organization has the address ${email}`);
}

/** The directory's ID names one user of the organization. */
async function assertExternalIdFree(
  scope: TransitionScope,
  organizationId: string,
  externalId: string,
  userId?: string,
) {
  const holder = await scope.tx.user.findFirst({
    where: { organizationId, externalId, ...(userId ? { id: { not: userId } } : {}) },
    select: { id: true },
  });
  if (holder)
    throw new ConflictError(`externalId: another user of the organization has the directory ID ${externalId}`);
}

/** Creates a user, inside a transition; audited as New-User with where it came from. */
export async function addUser(
  ctx: ServiceContext,
  scope: TransitionScope,
  profile: UserProfile & { subject?: string | null },
  source: "directory" | "sign-in" | "operator",
) {
  await assertAddressFree(scope, ctx.organizationId, profile.email);
  if (profile.externalId) await assertExternalIdFree(scope, ctx.organizationId, profile.externalId);
  const user = await scope.tx.user.create({
    data: {
      organizationId: ctx.organizationId,
      subject: profile.subject ?? null,
      email: profile.email,
      displayName: profile.displayName,
      kind: profile.kind,
      externalId: profile.externalId ?? null,
      roles: profile.roles ?? [],
      active: profile.active ?? true,
      vendorName: profile.vendorName ?? null,
    },
  });
  scope.audit({
    action: "New-User",
    subjectId: user.id,
    details: {
      source,
      email: user.email,
      kind: user.kind,
      roles: user.roles,
      active: user.active,
      ...(user.externalId ? { externalId: user.externalId } : {}),
      ...(user.vendorName ? { vendorName: user.vendorName } : {}),
    },
  });
  return user;
}

/**
 * Changes a user's profile inside a transition, audited as Set-User with what changed;
 * deactivation and reactivation go through `setActive`.
 */
export async function changeUser(
  ctx: ServiceContext,
  scope: TransitionScope,
  userId: string,
  changes: Partial<Omit<UserProfile, "active">> & { subject?: string },
  source: "directory" | "sign-in" | "admin",
) {
  const user = await scope.tx.user.findFirst({ where: { id: userId, organizationId: ctx.organizationId } });
  if (!user) throw new NotFoundError("userId", "user");
  const changed = differences(user, changes);
  if (Object.keys(changed).length === 0) return user;
  if (changed.email) await assertAddressFree(scope, ctx.organizationId, changes.email!, userId);
  if (changes.externalId && changed.externalId) {
    await assertExternalIdFree(scope, ctx.organizationId, changes.externalId, userId);
  }
  const updated = await scope.tx.user.update({
    where: { id: userId },
    data: Object.fromEntries(Object.entries(changed).map(([field, { to }]) => [field, to])),
  });
  scope.audit({ action: "Set-User", subjectId: userId, details: { source, changes: changed } });
  scope.effect({ kind: "actorsChanged", organizationId: ctx.organizationId });
  return updated;
}

/**
 * Deactivates or reactivates a user inside a transition. A deactivated user is refused
 * at once (sign-in, decisions, open streams); their PENDING requests are canceled and
 * their ACTIVE grants revoked, each audited, mailed and published.
 */
export async function setActive(
  ctx: ServiceContext,
  scope: TransitionScope,
  userId: string,
  active: boolean,
  source: "directory" | "admin",
) {
  const { count } = await scope.tx.user.updateMany({
    where: { id: userId, organizationId: ctx.organizationId, active: !active },
    data: { active },
  });
  if (count === 0) {
    const exists = await scope.tx.user.count({ where: { id: userId, organizationId: ctx.organizationId } });
    if (!exists) throw new NotFoundError("userId", "user");
    return { canceledRequests: [], revokedAuthorizations: [] };
  }
  scope.effect({ kind: "actorsChanged", organizationId: ctx.organizationId });
  if (active) {
    scope.audit({ action: "Enable-User", subjectId: userId, details: { source } });
    return { canceledRequests: [], revokedAuthorizations: [] };
  }
  const canceledRequests = await cancelPendingRequests(ctx, scope, { requesterId: userId }, { by: "deactivation" });
  const grants = await scope.tx.accessAuthorization.findMany({
    where: { userId, organizationId: ctx.organizationId, status: { in: ["ACTIVE", "SCHEDULED"] } },
    select: { id: true, requestId: true, userId: true },
  });
  const revokedAuthorizations: string[] = [];
  for (const grant of grants) {
    if (await revokeGrant(ctx, scope, grant, ctx.actor?.id ?? null, "the user was deactivated")) {
      revokedAuthorizations.push(grant.id);
    }
  }
  scope.audit({
    action: "Disable-User",
    subjectId: userId,
    details: { source, canceledRequests, revokedAuthorizations },
  });
  return { canceledRequests, revokedAuthorizations };
}

const userIdInput = z.object({ userId: entityId("User") });

/** Disable-User (admins): the user is refused at once, their requests canceled and grants revoked. */
export async function deactivateUser(ctx: ServiceContext, rawInput: unknown) {
  const admin = requireAdmin(ctx);
  const input = parseInput(userIdInput, rawInput);
  if (input.userId === admin.id) throw new ConflictError("userId: administrators may not deactivate themselves");
  return transition(ctx, async (scope) => {
    await setActive(ctx, scope, input.userId, false, "admin");
    return scope.tx.user.findUniqueOrThrow({ where: { id: input.userId } });
  });
}

/** Enable-User (admins). */
export async function reactivateUser(ctx: ServiceContext, rawInput: unknown) {
  requireAdmin(ctx);
  const input = parseInput(userIdInput, rawInput);
  return transition(ctx, async (scope) => {
    await setActive(ctx, scope, input.userId, true, "admin");
    return scope.tx.user.findUniqueOrThrow({ where: { id: input.userId } });
  });
}

const rolesInput = z.object({ userId: entityId("User"), roles: z.array(z.enum(userRoles)).max(3) });

/**
 * Sets a user's roles (admins), where the organization does not take roles from the
 * identity provider's tokens. An admin may not take the role away from themselves.
 */
export async function setUserRoles(ctx: ServiceContext, rawInput: unknown) {
  const admin = requireAdmin(ctx);
  const input = parseInput(rolesInput, rawInput);
  return transition(ctx, async (scope) => {
    const organization = await scope.tx.organization.findUniqueOrThrow({ where: { id: ctx.organizationId } });
    if (organization.rolesFromToken) {
      throw new ConflictError("roles: this organization takes roles from its identity provider's tokens (app roles)");
    }
    if (input.userId === admin.id && !input.roles.includes("ADMIN")) {
      throw new ValidationError("roles", "an administrator may not take the ADMIN role from themselves");
    }
    return changeUser(ctx, scope, input.userId, { roles: [...new Set(input.roles)].sort() }, "admin");
  });
}

/** Validates a profile from the directory or an operator; the domain's text and address rules. */
export function parseProfile(raw: unknown): UserProfile {
  return parseInput(profileInput, raw);
}

/** Validates the fields of a profile that a change names; the others are left out. */
export function parseProfileChanges(raw: unknown): Partial<UserProfile> {
  const parsed = parseInput(profileInput.partial(), raw);
  // optionalText turns a missing value into null; only what the change names may be cleared.
  return Object.fromEntries(
    Object.entries(parsed).filter(([field]) => Object.hasOwn(raw as object, field)),
  ) as Partial<UserProfile>;
}

/** Users of the organization matching a search, for the admin API (admins and auditors). */
export function userSearch(
  organizationId: string,
  filter:
    | { search?: string | null; role?: UserRole | null; active?: boolean | null; vendor?: boolean | null }
    | null
    | undefined,
): Prisma.UserWhereInput {
  const search = filter?.search?.trim();
  return {
    organizationId,
    ...(search
      ? {
          OR: [
            { email: { contains: search, mode: "insensitive" } },
            { displayName: { contains: search, mode: "insensitive" } },
          ],
        }
      : {}),
    ...(filter?.role ? { roles: { has: filter.role } } : {}),
    ...(filter?.active != null ? { active: filter.active } : {}),
    ...(filter?.vendor != null ? { vendorName: filter.vendor ? { not: null } : null } : {}),
  };
}
