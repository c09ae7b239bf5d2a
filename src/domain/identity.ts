import type { Db } from "../db/client.ts";
import { eligibleMember } from "./approver-groups/eligibility.ts";
import type { Actor } from "./context.ts";

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
  expiresAt: Date;
  /** The token's claims, for the organization's role and principal-kind mappings. */
  claims: Readonly<Record<string, unknown>>;
}

/** A token, or the user it names, that this server does not accept (HTTP 401). */
export class AuthenticationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AuthenticationError";
  }
}

const actorSelect = {
  id: true,
  organizationId: true,
  email: true,
  displayName: true,
  kind: true,
  roles: true,
  organization: { select: { name: true } },
  // An eligible approver somewhere: reads the approval configuration of the organization.
  memberships: { where: eligibleMember, select: { groupId: true }, take: 1 },
} as const;

type ActorRow = {
  id: string;
  organizationId: string;
  email: string;
  displayName: string;
  kind: Actor["kind"];
  roles: Actor["roles"];
  organization: { name: string };
  memberships: { groupId: string }[];
};

function toActor(user: ActorRow): Actor {
  return {
    id: user.id,
    organizationId: user.organizationId,
    organizationName: user.organization.name,
    email: user.email,
    displayName: user.displayName,
    kind: user.kind,
    roles: user.roles,
    approver: user.memberships.length > 0,
  };
}

/** Maps a verified identity to the user with that subject in the tenant's organization, or refuses. */
export async function resolveActor(db: Db, identity: VerifiedIdentity): Promise<Actor> {
  const user = await db.user.findFirst({
    where: { subject: identity.subject, organization: { tenantId: identity.tenantId } },
    select: actorSelect,
  });
  if (!user) throw new AuthenticationError("unknown user");
  return toActor(user);
}

/** The actor as the database has it now: for doors that already know the user (email links, open streams). */
export async function actorById(db: Db, organizationId: string, userId: string): Promise<Actor | null> {
  const user = await db.user.findFirst({ where: { id: userId, organizationId }, select: actorSelect });
  return user ? toActor(user) : null;
}
