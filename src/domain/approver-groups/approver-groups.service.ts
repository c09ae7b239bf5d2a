import { z } from "zod";
import type { ApproverGroup, Tx } from "../../db/client.ts";
import { requireAdmin } from "../access.ts";
import type { ServiceContext } from "../context.ts";
import { ConflictError, NotFoundError } from "../errors.ts";
import { type TransitionScope, transition } from "../transition.ts";
import { emailAddress, entityId, nonEmptyText, optionalText, parseInput } from "../validation.ts";

const memberEmails = z.array(emailAddress).max(500, "must list at most 500 members");

const createInput = z.object({
  name: nonEmptyText(128),
  email: emailAddress,
  description: optionalText(1024),
  memberEmails,
});

const changeMembersInput = z.object({
  groupId: nonEmptyText(254),
  emails: memberEmails.min(1, "must list at least one member"),
});

/** Users of the organization with these addresses; an unknown address is NOT_FOUND. */
export async function usersByEmail(tx: Tx, organizationId: string, emails: string[], field: string) {
  const unique = [...new Set(emails)];
  const users = await tx.user.findMany({ where: { organizationId, email: { in: unique } } });
  const missing = unique.find((email) => !users.some((user) => user.email === email));
  if (missing) throw new NotFoundError(field, `user ${missing}`);
  return users;
}

export async function createApproverGroup(ctx: ServiceContext, rawInput: unknown) {
  requireAdmin(ctx);
  const input = parseInput(createInput, rawInput);
  return transition(ctx, async (scope) => {
    const members = await usersByEmail(scope.tx, ctx.organizationId, input.memberEmails, "memberEmails");
    return newApproverGroup(ctx, scope, { ...input, externalId: null }, members, "admin");
  });
}

/** Who changed an approver group: an admin, or the directory (SCIM provisioning). */
export type GroupChangeSource = "admin" | "directory";

/**
 * Creates an approver group inside a transition (admins, the directory): its name,
 * address and directory ID are each unique in the organization. Audited as
 * New-DistributionGroup with its first members.
 */
export async function newApproverGroup(
  ctx: ServiceContext,
  { tx, audit, effect }: TransitionScope,
  input: { name: string; email: string; description?: string | null; externalId: string | null },
  members: { id: string; email: string }[],
  source: GroupChangeSource,
) {
  await assertGroupNamesFree(tx, ctx.organizationId, input);
  const group = await tx.approverGroup.create({
    data: {
      organizationId: ctx.organizationId,
      name: input.name,
      email: input.email,
      description: input.description ?? null,
      externalId: input.externalId,
      members: { create: members.map((user) => ({ userId: user.id, organizationId: ctx.organizationId })) },
    },
  });
  if (members.length > 0) effect({ kind: "actorsChanged", organizationId: ctx.organizationId });
  audit({
    action: "New-DistributionGroup",
    subjectId: group.id,
    details: {
      source,
      name: group.name,
      email: group.email,
      ...(group.externalId ? { externalId: group.externalId } : {}),
      members: members.map((user) => user.email).sort(),
    },
  });
  return group;
}

/** Refuses a name, address or directory ID that another group of the organization holds. */
async function assertGroupNamesFree(
  tx: Tx,
  organizationId: string,
  wanted: { name?: string; email?: string; externalId?: string | null },
  groupId?: string,
) {
  const clash = await tx.approverGroup.findFirst({
    where: {
      organizationId,
      ...(groupId ? { id: { not: groupId } } : {}),
      OR: [
        ...(wanted.name ? [{ name: wanted.name }] : []),
        ...(wanted.email ? [{ email: wanted.email }] : []),
        ...(wanted.externalId ? [{ externalId: wanted.externalId }] : []),
      ],
    },
  });
  if (!clash) return;
  if (wanted.email && clash.email === wanted.email) {
    throw new ConflictError(`email: an approver group with address ${wanted.email} already exists`);
  }
  if (wanted.name && clash.name === wanted.name) {
    throw new ConflictError(`name: an approver group named ${wanted.name} already exists`);
  }
  throw new ConflictError(`externalId: another approver group has the directory ID ${wanted.externalId}`);
}

/**
 * Adds or removes members; audited only when membership really changed. The
 * change takes effect for decisions at once: eligibility is checked at decision time.
 */
async function changeMembers(ctx: ServiceContext, rawInput: unknown, change: "add" | "remove") {
  requireAdmin(ctx);
  const input = parseInput(changeMembersInput, rawInput);
  return transition(ctx, async (scope) => {
    const group = await findApproverGroup(scope.tx, ctx.organizationId, input.groupId, "groupId");
    const users = await usersByEmail(scope.tx, ctx.organizationId, input.emails, "emails");
    await applyMembership(ctx, scope, group.id, users, change, "admin");
    return group;
  });
}

/**
 * Adds or removes members inside a transition (admins, the directory); audited only
 * when membership really changed.
 */
export async function applyMembership(
  ctx: ServiceContext,
  { tx, audit, effect }: TransitionScope,
  groupId: string,
  users: { id: string; email: string }[],
  change: "add" | "remove",
  source: GroupChangeSource,
): Promise<void> {
  if (users.length === 0) return;
  const { count } =
    change === "add"
      ? await tx.approverGroupMember.createMany({
          data: users.map((user) => ({ groupId, userId: user.id, organizationId: ctx.organizationId })),
          skipDuplicates: true,
        })
      : await tx.approverGroupMember.deleteMany({ where: { groupId, userId: { in: users.map((user) => user.id) } } });
  if (count === 0) return;
  // Members are approvers (Actor.approver): cached actors are stale.
  effect({ kind: "actorsChanged", organizationId: ctx.organizationId });
  const action = change === "add" ? "Add-DistributionGroupMember" : "Remove-DistributionGroupMember";
  audit({ action, subjectId: groupId, details: { source, members: users.map((user) => user.email).sort() } });
}

const updateInput = z.object({
  groupId: nonEmptyText(254),
  name: nonEmptyText(128).nullish(),
  email: emailAddress.nullish(),
  description: optionalText(1024),
});

/** Set-DistributionGroup: renames a group, changes its address or description (admins). */
export async function updateApproverGroup(ctx: ServiceContext, rawInput: unknown) {
  requireAdmin(ctx);
  const input = parseInput(updateInput, rawInput);
  return transition(ctx, async (scope) => {
    const group = await findApproverGroup(scope.tx, ctx.organizationId, input.groupId, "groupId");
    return changeApproverGroup(
      ctx,
      scope,
      group,
      {
        ...(input.name ? { name: input.name } : {}),
        ...(input.email ? { email: input.email } : {}),
        ...(input.description !== undefined ? { description: input.description } : {}),
      },
      "admin",
    );
  });
}

/**
 * Changes a group's name, address, description or directory ID inside a transition
 * (admins, the directory); audited as Set-DistributionGroup with what changed, only
 * when something did.
 */
export async function changeApproverGroup(
  ctx: ServiceContext,
  { tx, audit }: TransitionScope,
  group: ApproverGroup,
  wanted: { name?: string; email?: string; description?: string | null; externalId?: string | null },
  source: GroupChangeSource,
) {
  const changes = Object.fromEntries(
    Object.entries(wanted).filter(([field, to]) => to !== undefined && to !== group[field as keyof typeof wanted]),
  ) as typeof wanted;
  if (Object.keys(changes).length === 0) return group;
  await assertGroupNamesFree(tx, ctx.organizationId, changes, group.id);
  const updated = await tx.approverGroup.update({ where: { id: group.id }, data: changes });
  audit({
    action: "Set-DistributionGroup",
    subjectId: group.id,
    details: {
      source,
      ...Object.fromEntries(
        Object.entries(changes).map(([field, to]) => [field, { from: group[field as keyof typeof changes], to }]),
      ),
    },
  });
  return updated;
}

/** Remove-DistributionGroup (admins). */
export async function deleteApproverGroup(ctx: ServiceContext, rawInput: unknown) {
  requireAdmin(ctx);
  const input = parseInput(z.object({ groupId: nonEmptyText(254) }), rawInput);
  return transition(ctx, async (scope) => {
    const group = await findApproverGroup(scope.tx, ctx.organizationId, input.groupId, "groupId");
    return removeApproverGroup(ctx, scope, group, "admin");
  });
}

/**
 * Deletes a group inside a transition (admins, the directory). Refused while a policy
 * or the control names the group, or once requests were filed under it (they keep it
 * for their history).
 */
export async function removeApproverGroup(
  ctx: ServiceContext,
  { tx, audit, effect }: TransitionScope,
  group: ApproverGroup,
  source: GroupChangeSource,
) {
  const [policies, control, lockbox, requests] = await Promise.all([
    tx.approvalPolicy.findMany({
      where: { OR: [{ approverGroupId: group.id }, { escalationGroupId: group.id }] },
      select: { target: true },
    }),
    tx.elevatedAccessControl.count({ where: { defaultApproverGroupId: group.id } }),
    tx.elevatedAccessControl.count({ where: { lockboxApproverGroupId: group.id } }),
    tx.accessRequest.count({ where: { OR: [{ approverGroupId: group.id }, { escalationGroupId: group.id }] } }),
  ]);
  if (policies.length > 0) {
    throw new ConflictError(
      `groupId: policies use this group: ${policies.map((policy) => policy.target).join(", ")}; change or remove them first`,
    );
  }
  if (control > 0) throw new ConflictError("groupId: it is the control's default approver group; name another first");
  if (lockbox > 0) throw new ConflictError("groupId: it is the Customer Lockbox approver group; name another first");
  if (requests > 0) throw new ConflictError(`groupId: ${requests} requests were filed under this group and keep it`);
  await tx.approverGroup.delete({ where: { id: group.id } });
  effect({ kind: "actorsChanged", organizationId: ctx.organizationId });
  audit({
    action: "Remove-DistributionGroup",
    subjectId: group.id,
    details: { source, name: group.name, email: group.email },
  });
  return group;
}

export const addApproverGroupMembers = (ctx: ServiceContext, rawInput: unknown) => changeMembers(ctx, rawInput, "add");

export const removeApproverGroupMembers = (ctx: ServiceContext, rawInput: unknown) =>
  changeMembers(ctx, rawInput, "remove");

/** Resolves an approver group named by its address or its ID. */
export async function findApproverGroup(tx: Tx, organizationId: string, emailOrId: string, field: string) {
  const trimmed = emailOrId.trim();
  const id = entityId("ApproverGroup").safeParse(trimmed);
  const group = await tx.approverGroup.findFirst({
    where: { organizationId, ...(id.success ? { id: id.data } : { email: trimmed.toLowerCase() }) },
  });
  if (!group) throw new NotFoundError(field, "approver group");
  return group;
}
