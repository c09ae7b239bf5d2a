import {
  addApproverGroupMembers,
  createApproverGroup,
  removeApproverGroupMembers,
} from "../../../domain/approver-groups/approver-groups.service.ts";
import { builder } from "../../builder.ts";
import { mutationErrors } from "../common/mutation-result.ts";
import { UserNode } from "../users/user.node.ts";

export const ApproverGroupNode = builder.prismaNode("ApproverGroup", {
  id: { field: "id" },
  nullable: true,
  findUnique: (id, ctx) => ({ id, organizationId: ctx.actor.organizationId }),
  fields: (t) => ({
    name: t.exposeString("name"),
    email: t.exposeString("email", { description: "Mail-enabled security group address" }),
    description: t.exposeString("description", { nullable: true }),
    members: t.field({
      type: [UserNode],
      authScopes: { approvalReader: true },
      description: "Admins, auditors and approvers only",
      select: { members: { select: { user: true }, orderBy: { addedAt: "asc" } } },
      resolve: (group) => group.members.map((member) => member.user),
    }),
  }),
});

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
    groupId: t.id({ required: true }),
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
