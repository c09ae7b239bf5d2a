import { LimitExceededError } from "../../../domain/errors.ts";
import { createApprovalPolicy, removeApprovalPolicy } from "../../../domain/policies/policies.service.ts";
import { builder } from "../../builder.ts";
import { PolicyScopeEnum, PolicyTypeEnum } from "../catalog/catalog-entry.node.ts";
import { mutationErrors } from "../common/mutation-result.ts";

export const ApprovalTypeEnum = builder.enumType("ApprovalType", { values: ["MANUAL", "AUTO"] as const });

export const ApprovalPolicyNode = builder.prismaNode("ApprovalPolicy", {
  id: { field: "id" },
  nullable: true,
  findUnique: (id, ctx) => ({ id, organizationId: ctx.actor.organizationId }),
  fields: (t) => ({
    identity: t.exposeString("id", { description: "The policy identity GUID" }),
    type: t.expose("type", { type: PolicyTypeEnum }),
    scope: t.expose("scope", { type: PolicyScopeEnum }),
    target: t.exposeString("target"),
    approvalType: t.expose("approvalType", { type: ApprovalTypeEnum }),
    approverGroup: t.relation("approverGroup"),
    requiredApprovals: t.exposeInt("requiredApprovals"),
    maxDurationHours: t.exposeInt("maxDurationHours", { nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

builder.queryFields((t) => ({
  approvalPolicies: t.prismaConnection(
    {
      type: "ApprovalPolicy",
      cursor: "id",
      totalCount: (_parent, _args, ctx) =>
        ctx.db.approvalPolicy.count({ where: { organizationId: ctx.actor.organizationId } }),
      resolve: (query, _root, _args, ctx) =>
        ctx.db.approvalPolicy.findMany({
          ...query,
          where: { organizationId: ctx.actor.organizationId },
          orderBy: { id: "asc" },
        }),
    },
    { name: "ApprovalPolicyConnection" },
    { name: "ApprovalPolicyEdge" },
  ),
  approvalPolicy: t.prismaField({
    type: "ApprovalPolicy",
    nullable: true,
    args: { id: t.arg.globalID({ required: true, for: ApprovalPolicyNode }) },
    resolve: (query, _root, { id }, ctx) =>
      ctx.db.approvalPolicy.findFirst({ ...query, where: { id: id.id, organizationId: ctx.actor.organizationId } }),
  }),
}));

const CreateApprovalPolicyInput = builder.inputType("CreateApprovalPolicyInput", {
  fields: (t) => ({
    type: t.field({ type: PolicyTypeEnum, defaultValue: "TASK" }),
    scope: t.field({ type: PolicyScopeEnum, defaultValue: "EXCHANGE" }),
    target: t.string({ required: true, description: "Must name an entry of the organization's catalog" }),
    approvalType: t.field({ type: ApprovalTypeEnum, required: true }),
    approverGroup: t.string({ description: "Group email or ID; default: the default approver group" }),
    requiredApprovals: t.int({ defaultValue: 1 }),
    maxDurationHours: t.int(),
  }),
});

const RemoveApprovalPolicyInput = builder.inputType("RemoveApprovalPolicyInput", {
  fields: (t) => ({ id: t.id({ required: true }) }),
});

builder.mutationFields((t) => ({
  createApprovalPolicy: t.field({
    type: ApprovalPolicyNode,
    errors: mutationErrors("CreateApprovalPolicyResult", [LimitExceededError]),
    args: { input: t.arg({ type: CreateApprovalPolicyInput, required: true }) },
    resolve: (_root, { input }, ctx) => createApprovalPolicy(ctx.services, input),
  }),
  removeApprovalPolicy: t.prismaField({
    type: "ApprovalPolicy",
    description: "Removes a policy; its PENDING requests are canceled, its ACTIVE authorizations run to their end",
    errors: mutationErrors("RemoveApprovalPolicyResult"),
    args: { input: t.arg({ type: RemoveApprovalPolicyInput, required: true }) },
    resolve: (query, _root, { input }, ctx) => removeApprovalPolicy(ctx.services, input, query),
  }),
}));
