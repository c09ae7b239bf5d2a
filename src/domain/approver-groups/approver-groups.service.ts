import { z } from "zod";
import type { Tx } from "../../db/client.ts";
import { requireAdmin } from "../access.ts";
import type { ServiceContext } from "../context.ts";
import { ConflictError, NotFoundError } from "../errors.ts";
import { transition } from "../transition.ts";
import { emailAddress, entityId, nonEmptyText, optionalText, parseInput } from "../validation.ts";

const memberEmails = z.array(emailAddress).max(500, "must list at most 500 members");

const createInput = z.object({
  name: nonEmptyText(128),
  email: emailAddress,
  description: optionalText(1024),
  memberEmails,
});

const changeMembersInput = z.object({
  groupId: entityId("ApproverGroup"),
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
  return transition(ctx, async ({ tx, audit }) => {
    const members = await usersByEmail(tx, ctx.organizationId, input.memberEmails, "memberEmails");
    const clash = await tx.approverGroup.findFirst({
      where: { organizationId: ctx.organizationId, OR: [{ email: input.email }, { name: input.name }] },
    });
    if (clash) {
      throw new ConflictError(
        clash.email === input.email
          ? `email: an approver group with address ${input.email} already exists`
          : `name: an approver group named ${input.name} already exists`,
      );
    }
    const group = await tx.approverGroup.create({
      data: {
        organizationId: ctx.organizationId,
        name: input.name,
        email: input.email,
        description: input.description,
        members: { create: members.map((user) => ({ userId: user.id, organizationId: ctx.organizationId })) },
      },
    });
    audit({
      action: "New-DistributionGroup",
      subjectId: group.id,
      details: { name: group.name, email: group.email, members: members.map((user) => user.email).sort() },
    });
    return group;
  });
}

/**
 * Adds or removes members; audited only when membership really changed. The
 * change takes effect for decisions at once: eligibility is checked at decision time.
 */
async function changeMembers(ctx: ServiceContext, rawInput: unknown, change: "add" | "remove") {
  requireAdmin(ctx);
  const input = parseInput(changeMembersInput, rawInput);
  return transition(ctx, async ({ tx, audit }) => {
    const group = await tx.approverGroup.findFirst({
      where: { id: input.groupId, organizationId: ctx.organizationId },
    });
    if (!group) throw new NotFoundError("groupId", "approver group");
    const users = await usersByEmail(tx, ctx.organizationId, input.emails, "emails");
    const { count } =
      change === "add"
        ? await tx.approverGroupMember.createMany({
            data: users.map((user) => ({ groupId: group.id, userId: user.id, organizationId: ctx.organizationId })),
            skipDuplicates: true,
          })
        : await tx.approverGroupMember.deleteMany({
            where: { groupId: group.id, userId: { in: users.map((user) => user.id) } },
          });
    if (count > 0) {
      const action = change === "add" ? "Add-DistributionGroupMember" : "Remove-DistributionGroupMember";
      audit({ action, subjectId: group.id, details: { members: input.emails.sort() } });
    }
    return group;
  });
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
