import { z } from "zod";
import type { PrincipalKind, Tx } from "../../db/client.ts";
import {
  applyMembership,
  changeApproverGroup,
  newApproverGroup,
  removeApproverGroup,
} from "../approver-groups/approver-groups.service.ts";
import { type Actor, type ServiceContext, type ServiceDeps, serviceContext } from "../context.ts";
import { NotFoundError } from "../errors.ts";
import { organizationBySecret } from "../organizations.service.ts";
import { transition } from "../transition.ts";
import { addUser, changeUser, parseProfile, parseProfileChanges, setActive } from "../users/users.service.ts";
import { emailAddress, nonEmptyText, optionalText, parseInput } from "../validation.ts";
import { derivedGroupAddress } from "./group-address.ts";

// The directory's door (SCIM provisioning, src/scim): the identity provider creates,
// changes and deactivates users and approver groups through the same rules as every
// other door. Each change is audited with the organization's provisioning principal
// as its actor, so the audit log and a revoked grant name the directory as who did it.

/**
 * The provisioning principal's address: `.invalid` (RFC 2606) is no one's mailbox,
 * and while the principal holds it no directory user can take it.
 */
export const provisionerEmail = "scim-provisioning@directory.invalid";

/** IDs from outside are checked before they reach a uuid column, which would refuse them with an error. */
const uuid = z.uuid();

/**
 * The service context of a SCIM client presenting `secret`, acting as its
 * organization's provisioning principal; null when no organization issued it.
 * The principal is created at the first call: a SERVICE user, deactivated so that
 * it can never sign in, which stands for the directory in the audit log.
 */
export async function directoryContext(
  deps: ServiceDeps,
  secret: string,
  correlationId: string | null,
): Promise<ServiceContext | null> {
  const organization = await organizationBySecret(deps.db, secret);
  if (!organization) return null;
  const where = { organizationId: organization.id, email: provisionerEmail };
  let provisioner = await deps.db.user.findFirst({ where });
  if (!provisioner) {
    const system = serviceContext(deps, organization.id, null, correlationId);
    try {
      await transition(system, (scope) =>
        addUser(
          system,
          scope,
          { email: provisionerEmail, displayName: "SCIM provisioning", kind: "SERVICE", active: false },
          "directory",
        ),
      );
    } catch (error) {
      // Two first calls raced (a unique violation, or the address already taken): the other one created it.
      if (!(await deps.db.user.count({ where }))) throw error;
    }
    provisioner = await deps.db.user.findFirstOrThrow({ where });
  }
  const actor: Actor = {
    id: provisioner.id,
    organizationId: organization.id,
    organizationName: organization.name,
    email: provisioner.email,
    displayName: provisioner.displayName,
    kind: provisioner.kind,
    roles: [],
    approver: false,
  };
  return serviceContext(deps, organization.id, actor, correlationId);
}

/** The provisioning principal itself is no directory user: it is never read or changed as one. */
export function directoryUsers(organizationId: string) {
  return { organizationId, NOT: { email: provisionerEmail } };
}

async function findDirectoryUser(tx: Tx, ctx: ServiceContext, userId: string) {
  const user = uuid.safeParse(userId).success
    ? await tx.user.findFirst({ where: { ...directoryUsers(ctx.organizationId), id: userId } })
    : null;
  if (!user) throw new NotFoundError("id", "user");
  return user;
}

/** What the directory says about a user; roles are not the directory's to set (tokens or admins set them). */
export interface DirectoryUser {
  email: string;
  displayName: string;
  kind?: PrincipalKind;
  externalId?: string | null;
  active?: boolean;
}

/** Creates a user the directory provisions (MEMBER unless it says GUEST); audited as New-User. */
export async function provisionUser(ctx: ServiceContext, raw: DirectoryUser) {
  const profile = parseProfile({ kind: "MEMBER", active: true, ...raw });
  return transition(ctx, (scope) => addUser(ctx, scope, { ...profile, roles: [] }, "directory"));
}

/**
 * Applies what changed in the directory to a user: profile fields through changeUser
 * (Set-User), `active` through setActive, so a deactivation cancels the user's pending
 * requests and revokes their grants in the same transaction. Only the fields named
 * change: a concurrent change of another field is not undone.
 */
export async function updateDirectoryUser(ctx: ServiceContext, userId: string, raw: Partial<DirectoryUser>) {
  const { active, ...changes } = parseProfileChanges(raw);
  return transition(ctx, async (scope) => {
    await findDirectoryUser(scope.tx, ctx, userId);
    await changeUser(ctx, scope, userId, changes, "directory");
    if (active !== undefined) await setActive(ctx, scope, userId, active, "directory");
    return scope.tx.user.findUniqueOrThrow({ where: { id: userId } });
  });
}

/** A user deleted in the directory is deactivated, never deleted: their requests, grants and audit trail stay. */
export async function deprovisionUser(ctx: ServiceContext, userId: string) {
  return transition(ctx, async (scope) => {
    await findDirectoryUser(scope.tx, ctx, userId);
    await setActive(ctx, scope, userId, false, "directory");
  });
}

/** Users of the organization with these IDs, for group membership; an unknown ID names itself. */
async function membersById(tx: Tx, ctx: ServiceContext, ids: string[]) {
  const unique = [...new Set(ids)];
  const users = await tx.user.findMany({
    where: { ...directoryUsers(ctx.organizationId), id: { in: unique.filter((id) => uuid.safeParse(id).success) } },
    select: { id: true, email: true },
  });
  const missing = unique.find((id) => !users.some((user) => user.id === id));
  if (missing) throw new NotFoundError("members", `user ${missing}`);
  return users;
}

const groupInput = z.object({
  name: nonEmptyText(128),
  email: emailAddress.nullish(),
  externalId: optionalText(256),
  memberIds: z.array(z.string()).max(500, "must list at most 500 members"),
});

const groupChangesInput = z.object({
  name: nonEmptyText(128).optional(),
  email: emailAddress.optional(),
  externalId: optionalText(256),
  addMemberIds: z.array(z.string()).max(500, "must add at most 500 members at once"),
  removeMemberIds: z.array(z.string()).max(500, "must remove at most 500 members at once"),
});

/** Creates an approver group the directory provisions; its members follow the directory from then on. */
export async function provisionGroup(
  ctx: ServiceContext,
  raw: { name: string; email?: string | null; externalId?: string | null; memberIds: string[] },
) {
  const input = parseInput(groupInput, raw);
  return transition(ctx, async (scope) => {
    const members = await membersById(scope.tx, ctx, input.memberIds);
    return newApproverGroup(
      ctx,
      scope,
      { name: input.name, email: input.email ?? derivedGroupAddress(input.name), externalId: input.externalId },
      members,
      "directory",
    );
  });
}

async function findDirectoryGroup(tx: Tx, ctx: ServiceContext, groupId: string) {
  const group = uuid.safeParse(groupId).success
    ? await tx.approverGroup.findFirst({ where: { id: groupId, organizationId: ctx.organizationId } })
    : null;
  if (!group) throw new NotFoundError("id", "approver group");
  return group;
}

/**
 * Applies what changed in the directory to an approver group: name, address and
 * directory ID (Set-DistributionGroup), members added and removed
 * (Add-/Remove-DistributionGroupMember). Membership changes are applied as such, not
 * as a new member list, so concurrent changes of one group are all kept; eligibility
 * is read at decision time, so they count for the next decision at once.
 */
export async function updateDirectoryGroup(
  ctx: ServiceContext,
  groupId: string,
  raw: {
    name?: string;
    email?: string;
    externalId?: string | null;
    addMemberIds: string[];
    removeMemberIds: string[];
  },
) {
  const input = parseInput(groupChangesInput, raw);
  return transition(ctx, async (scope) => {
    const group = await findDirectoryGroup(scope.tx, ctx, groupId);
    const [added, removed] = [
      await membersById(scope.tx, ctx, input.addMemberIds),
      await membersById(scope.tx, ctx, input.removeMemberIds),
    ];
    const changes = {
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.email !== undefined ? { email: input.email } : {}),
      ...(Object.hasOwn(raw, "externalId") ? { externalId: input.externalId } : {}),
    };
    const updated = await changeApproverGroup(ctx, scope, group, changes, "directory");
    await applyMembership(ctx, scope, group.id, removed, "remove", "directory");
    await applyMembership(ctx, scope, group.id, added, "add", "directory");
    return updated;
  });
}

/** A group deleted in the directory; refused while policies, the control or requests name it. */
export async function deprovisionGroup(ctx: ServiceContext, groupId: string) {
  return transition(ctx, async (scope) => {
    const group = await findDirectoryGroup(scope.tx, ctx, groupId);
    await removeApproverGroup(ctx, scope, group, "directory");
  });
}
