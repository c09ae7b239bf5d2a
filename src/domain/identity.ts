import { batched } from "../db/batch.ts";
import type { Db, PrincipalKind, User, UserRole } from "../db/client.ts";
import { eligibleMember } from "./approver-groups/eligibility.ts";
import { type Actor, type Authentication, type ServiceDeps, serviceContext } from "./context.ts";
import { ConflictError } from "./errors.ts";
import { transition } from "./transition.ts";
import { addUser, changeUser } from "./users/users.service.ts";

/**
 * What the edge (src/auth) hands the domain once a bearer token's signature,
 * issuer, audience and lifetime check out. The user is the immutable subject
 * within the tenant; the address claims only fill in what is shown.
 */
export interface VerifiedIdentity {
  tenantId: string;
  /** `oid` where present (Microsoft Entra ID), else `sub`. */
  subject: string;
  /** `upn`, `email` or `preferred_username`, lower-cased; never used to identify. */
  email: string | null;
  displayName: string | null;
  /** MEMBER or GUEST (Entra's `acct`, or a configured claim), SERVICE (an app's own token); null: not said. */
  kind: PrincipalKind | null;
  /** Elevate roles from the token's app roles; null when the token names none. */
  roles: UserRole[] | null;
  /** How the user signed in, as the token says (`amr`, `acr`): what step-up at decision reads. */
  authentication: Authentication;
  expiresAt: Date;
}

/** A token, or the user it names, that this server does not accept (HTTP 401). */
export class AuthenticationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AuthenticationError";
  }
}

// The whole row (every column is small): it is what `me` answers with (Actor.user).
const actorInclude = {
  organization: { select: { name: true } },
  // An eligible approver somewhere: reads the approval configuration of the organization.
  memberships: { where: eligibleMember, select: { groupId: true }, take: 1 },
} as const;

type ActorRow = User & { organization: { name: string }; memberships: { groupId: string }[] };

function toActor({ organization, memberships, ...user }: ActorRow): Actor {
  return {
    id: user.id,
    organizationId: user.organizationId,
    organizationName: organization.name,
    email: user.email,
    displayName: user.displayName,
    kind: user.kind,
    // A vendor holds no role whatever its row or its token says: it administers and reads nothing.
    roles: user.vendorName ? [] : user.roles,
    approver: memberships.length > 0,
    vendor: user.vendorName,
    user,
  };
}

/** The same answer for an unknown tenant and an unknown user: a prober learns nothing. */
const notAccepted = "not a user of a registered organization";

/** What a token says about the user; claims it does not carry leave the user's values alone. */
function claimedProfile(identity: VerifiedIdentity, rolesFromToken: boolean) {
  return {
    ...(identity.email ? { email: identity.email } : {}),
    ...(identity.displayName ? { displayName: identity.displayName } : {}),
    ...(identity.kind ? { kind: identity.kind } : {}),
    ...(rolesFromToken && identity.roles ? { roles: identity.roles } : {}),
  };
}

/** A new user's profile: what the token says, with stand-ins for what it does not. */
function newProfile(identity: VerifiedIdentity, claimed: ReturnType<typeof claimedProfile>) {
  // App tokens (service principals) carry no address: a reserved name stands in.
  const email = claimed.email ?? `${identity.subject.toLowerCase()}@apps.invalid`;
  return { ...claimed, email, displayName: claimed.displayName ?? email, kind: claimed.kind ?? "MEMBER" };
}

/**
 * The user a token names, creating or updating it as the identity provider says:
 * - the user with the token's subject in the organization registered for its tenant;
 * - else a user the operator or the directory registered by this address who has not
 *   signed in yet: the subject is bound to it, once (invitations);
 * - else a new user, just in time.
 * Address, name and principal kind follow the token at every sign-in, and roles too
 * where the organization takes them from tokens; each change is audited. A token of
 * an unregistered tenant, or of a deactivated user, is refused.
 */
export async function resolveActor(deps: ServiceDeps, identity: VerifiedIdentity): Promise<Actor> {
  const organization = await deps.db.organization.findUnique({
    where: { tenantId: identity.tenantId },
    select: { id: true, rolesFromToken: true },
  });
  if (!organization) throw new AuthenticationError(notAccepted);
  const where = { organizationId: organization.id, subject: identity.subject };
  let user = await deps.db.user.findFirst({ where, include: actorInclude });
  const profile = claimedProfile(identity, organization.rolesFromToken);
  const unchanged =
    user !== null &&
    (!profile.email || user.email === profile.email) &&
    (!profile.displayName || user.displayName === profile.displayName) &&
    (!profile.kind || user.kind === profile.kind) &&
    (!profile.roles || profile.roles.join() === [...user.roles].sort().join());
  if (!user || !unchanged) {
    const ctx = serviceContext(deps, organization.id, null);
    try {
      await transition(ctx, async (scope) => {
        const invited = profile.email
          ? await scope.tx.user.findFirst({
              where: { organizationId: organization.id, email: profile.email, subject: null },
            })
          : null;
        const known = (await scope.tx.user.findFirst({ where })) ?? invited;
        if (!known)
          return addUser(ctx, scope, { ...newProfile(identity, profile), subject: identity.subject }, "sign-in");
        const changes = { ...profile, ...(known.subject ? {} : { subject: identity.subject }) };
        // Another user's address in this token is not taken over; the rest still follows.
        const taken = profile.email
          ? await scope.tx.user.count({
              where: { organizationId: organization.id, email: profile.email, id: { not: known.id } },
            })
          : 0;
        return changeUser(ctx, scope, known.id, taken ? { ...changes, email: known.email } : changes, "sign-in");
      });
    } catch (error) {
      // The address belongs to another (signed-in) user: not this token's to take.
      if (error instanceof ConflictError) throw new AuthenticationError(notAccepted);
      // Two first requests of a new user raced; the other one created it.
      if (!isUniqueViolation(error)) throw error;
    }
    user = await deps.db.user.findFirst({ where, include: actorInclude });
  }
  if (!user) throw new AuthenticationError(notAccepted);
  if (!user.active) throw new AuthenticationError("user is deactivated");
  return toActor(user);
}

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string }).code === "P2002";
}

type ActorLookup = (key: { organizationId: string; userId: string }) => Promise<Actor | null>;
const lookups = new WeakMap<Db, ActorLookup>();

/**
 * The actor as the database has it now, for doors that already know the user (email
 * links, open streams); null when the user is gone or deactivated. Concurrent calls
 * share one SELECT (each open stream rereads its subscriber at every event, so an
 * event reaching a thousand streams would otherwise be a thousand lookups); each
 * call still reads after it was made.
 */
export function actorById(db: Db, organizationId: string, userId: string): Promise<Actor | null> {
  let lookup = lookups.get(db);
  if (!lookup) {
    lookup = batched<{ organizationId: string; userId: string }, Actor | null>(
      async (keys) => {
        const users = await db.user.findMany({
          where: { id: { in: [...new Set(keys.map((key) => key.userId))] }, active: true },
          include: actorInclude,
        });
        const byId = new Map(users.map((user) => [user.id, user]));
        return keys.map(({ organizationId, userId }) => {
          const user = byId.get(userId);
          return user?.organizationId === organizationId ? toActor(user) : null;
        });
      },
      { maxBatch: 1000, gatherTurn: true },
    );
    lookups.set(db, lookup);
  }
  return lookup({ organizationId, userId });
}
