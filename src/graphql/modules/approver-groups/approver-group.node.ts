import { readsApprovalConfiguration } from "../../../domain/access.ts";
import {
  addApproverGroupMembers,
  createApproverGroup,
  deleteApproverGroup,
  removeApproverGroupMembers,
  updateApproverGroup,
} from "../../../domain/approver-groups/approver-groups.service.ts";
import { builder } from "../../builder.ts";
import { mutationErrors } from "../common/mutation-result.ts";
import { UserNode } from "../users/user.node.ts";

export const ApproverGroupNode = builder.prismaNode("ApproverGroup", {
  id: { field: "id" },
  nullable: true,
  findUnique: (id, ctx) => ({ id, organizationId: ctx.actor.organizationId }),
  fields: (t) => ({
    identity: t.exposeString("id", { description: "The group's GUID" }),
    name: t.exposeString("name"),
    email: t.exposeString("email", { description: "Mail-enabled security group address" }),
    description: t.exposeString("description", { nullable: true }),
    managedByDirectory: t.boolean({
      description: "Provisioned by SCIM: its members follow the directory",
      select: { externalId: true },
      resolve: (group) => group.externalId !== null,
    }),
    members: t.field({
      type: [UserNode],
      authScopes: { approvalReader: true },
      description: "Admins, auditors and approvers only",
      select: { members: { select: { user: true }, orderBy: { addedAt: "asc" } } },
      resolve: (group) => group.members.map((member) => member.user),
    }),
  }),
});

// On User here, so users/ need not know approver groups.
builder.prismaObjectField(UserNode, "approverGroups", (t) =>
  t.field({
    type: [ApproverGroupNode],
    nullable: true,
    description:
      "The groups whose requests the user decides; null unless it is the caller, or the caller is an admin, auditor or approver",
    select: { memberships: { select: { group: true }, orderBy: { group: { name: "asc" } } } },
    resolve: (user, _args, ctx) =>
      user.id === ctx.actor.id || readsApprovalConfiguration(ctx.actor)
        ? user.memberships.map((membership) => membership.group)
        : null,
  }),
);

builder.queryField("approverGroups", (t) =>
  t.prismaConnection(
    {
      type: "ApproverGroup",
      cursor: "id",
      totalCount: (_parent, _args, ctx) =>
        ctx.db.approverGroup.count({ where: { organizationId: ctx.actor.organizationId } }),
      resolve: (query, _root, _args, ctx) =>
        ctx.db.approverGroup.findMany({
          ...query,
          where: { organizationId: ctx.actor.organizationId },
          orderBy: { id: "asc" },
        }),
    },
    { name: "ApproverGroupConnection" },
    { name: "ApproverGroupEdge" },
  ),
);

const CreateApproverGroupInput = builder.inputType("CreateApproverGroupInput", {
  fields: (t) => ({
    name: t.string({ required: true }),
    email: t.string({ required: true }),
    description: t.string(),
    memberEmails: t.stringList({ required: true }),
  }),
});

const ChangeApproverGroupMembersInput = builder.inputType("ChangeApproverGroupMembersInput", {
  fields: (t) => ({
    groupId: t.id({ required: true, description: "Global ID, GUID or the group's address" }),
    emails: t.stringList({ required: true }),
  }),
});

builder.mutationField("createApproverGroup", (t) =>
  t.field({
    type: ApproverGroupNode,
    errors: mutationErrors("CreateApproverGroupResult"),
    args: { input: t.arg({ type: CreateApproverGroupInput, required: true }) },
    resolve: (_root, { input }, ctx) => createApproverGroup(ctx.services, input),
  }),
);

builder.mutationField("addApproverGroupMembers", (t) =>
  t.field({
    type: ApproverGroupNode,
    errors: mutationErrors("AddApproverGroupMembersResult"),
    args: { input: t.arg({ type: ChangeApproverGroupMembersInput, required: true }) },
    resolve: (_root, { input }, ctx) => addApproverGroupMembers(ctx.services, input),
  }),
);

builder.mutationField("removeApproverGroupMembers", (t) =>
  t.field({
    type: ApproverGroupNode,
    errors: mutationErrors("RemoveApproverGroupMembersResult"),
    args: { input: t.arg({ type: ChangeApproverGroupMembersInput, required: true }) },
    resolve: (_root, { input }, ctx) => removeApproverGroupMembers(ctx.services, input),
  }),
);

const UpdateApproverGroupInput = builder.inputType("UpdateApproverGroupInput", {
  description: "Fields left out keep their value",
  fields: (t) => ({
    groupId: t.id({ required: true, description: "Global ID, GUID or the group's address" }),
    name: t.string(),
    email: t.string(),
    description: t.string(),
  }),
});

const DeleteApproverGroupInput = builder.inputType("DeleteApproverGroupInput", {
  fields: (t) => ({ groupId: t.id({ required: true, description: "Global ID, GUID or the group's address" }) }),
});

builder.mutationField("updateApproverGroup", (t) =>
  t.field({
    type: ApproverGroupNode,
    description: "Set-DistributionGroup: renames a group or changes its address or description (admins)",
    errors: mutationErrors("UpdateApproverGroupResult"),
    args: { input: t.arg({ type: UpdateApproverGroupInput, required: true }) },
    resolve: (_root, { input }, ctx) => updateApproverGroup(ctx.services, input),
  }),
);

builder.mutationField("deleteApproverGroup", (t) =>
  t.prismaField({
    type: "ApproverGroup",
    description:
      "Remove-DistributionGroup: not while a policy or the control names it, or requests were filed under it",
    errors: mutationErrors("DeleteApproverGroupResult"),
    args: { input: t.arg({ type: DeleteApproverGroupInput, required: true }) },
    resolve: (_query, _root, { input }, ctx) => deleteApproverGroup(ctx.services, input),
  }),
);
