import type { PolicyScope, PolicyType } from "../../../db/client.ts";
import { LimitExceededError } from "../../../domain/errors.ts";
import { readConditions } from "../../../domain/policies/auto-approval.ts";
import {
  createApprovalPolicy,
  removeApprovalPolicy,
  updateApprovalPolicy,
} from "../../../domain/policies/policies.service.ts";
import { decodeId } from "../../../domain/validation.ts";
import { visiblePolicies } from "../../../domain/visibility.ts";
import { builder } from "../../builder.ts";
import { ApprovalTypeEnum, PolicyScopeEnum, PolicyTypeEnum } from "../common/enums.ts";
import { mutationErrors } from "../common/mutation-result.ts";
import { ApprovalStageInput, ApprovalStageRef, stagesOf } from "./approval-stage.ts";
import { AutoApprovalConditionsInput, AutoApprovalConditionsRef } from "./auto-approval.ts";

export const ApprovalPolicyNode = builder.prismaNode("ApprovalPolicy", {
  id: { field: "id" },
  nullable: true,
  description: "How a target is approved. Admins, auditors and approvers only; others see governedTargets",
  findUnique: (id, ctx) => ({ id, AND: [visiblePolicies(ctx.actor)] }),
  fields: (t) => ({
    identity: t.exposeString("id", { description: "The policy identity GUID" }),
    type: t.expose("type", { type: PolicyTypeEnum }),
    scope: t.expose("scope", { type: PolicyScopeEnum }),
    target: t.exposeString("target"),
    approvalType: t.expose("approvalType", { type: ApprovalTypeEnum }),
    approverGroup: t.relation("approverGroup"),
    requiredApprovals: t.exposeInt("requiredApprovals"),
    maxDurationHours: t.exposeInt("maxDurationHours", { nullable: true }),
    ticketRequired: t.exposeBoolean("ticketRequired", { description: "Requests must carry a ticket reference" }),
    ticketPattern: t.exposeString("ticketPattern", {
      nullable: true,
      description: "An RE2 regular expression a ticket must match in full",
    }),
    requireMfa: t.exposeBoolean("requireMfa", {
      description:
        "Approvers decide with multi-factor authentication (amr mfa, or an acr the organization names); email links send them to sign in",
    }),
    stages: t.field({
      type: [ApprovalStageRef],
      description: "Ordered approval stages; the first is approverGroup and requiredApprovals",
      resolve: (policy) => stagesOf(policy, policy.laterStages),
    }),
    autoApproveWhen: t.field({
      type: AutoApprovalConditionsRef,
      nullable: true,
      description: "Conditions under which this MANUAL policy approves at once; null: never",
      resolve: (policy) => readConditions(policy.autoApproveWhen),
    }),
    escalationGroup: t.relation("escalationGroup", {
      nullable: true,
      description:
        "A group whose members may also decide (and are mailed) once a request has waited escalateAfterHours undecided; null: no escalation",
    }),
    escalateAfterHours: t.exposeInt("escalateAfterHours", {
      nullable: true,
      description: "Hours after filing at which an undecided request escalates to escalationGroup",
    }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

const GovernedTarget = builder
  .objectRef<{
    type: PolicyType;
    scope: PolicyScope;
    target: string;
    maxDurationHours: number | null;
    ticketRequired: boolean;
    ticketPattern: string | null;
  }>("GovernedTarget")
  .implement({
    description: "A task, role or role group that a policy governs",
    fields: (t) => ({
      type: t.expose("type", { type: PolicyTypeEnum }),
      scope: t.expose("scope", { type: PolicyScopeEnum }),
      target: t.exposeString("target"),
      maxDurationHours: t.exposeInt("maxDurationHours", { nullable: true, description: "Null: up to 720 hours" }),
      ticketRequired: t.exposeBoolean("ticketRequired", { description: "Requests must carry a ticket reference" }),
      ticketPattern: t.exposeString("ticketPattern", {
        nullable: true,
        description: "An RE2 regular expression a ticket must match in full",
      }),
    }),
  });

builder.queryFields((t) => ({
  approvalPolicies: t.prismaConnection(
    {
      type: "ApprovalPolicy",
      cursor: "id",
      authScopes: { approvalReader: true },
      totalCount: (_parent, _args, ctx) => ctx.db.approvalPolicy.count({ where: visiblePolicies(ctx.actor) }),
      resolve: (query, _root, _args, ctx) =>
        ctx.db.approvalPolicy.findMany({ ...query, where: visiblePolicies(ctx.actor), orderBy: { id: "asc" } }),
    },
    { name: "ApprovalPolicyConnection" },
    { name: "ApprovalPolicyEdge" },
  ),
  approvalPolicy: t.prismaField({
    type: "ApprovalPolicy",
    nullable: true,
    authScopes: { approvalReader: true },
    description: "By global ID or by the policy identity GUID",
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, args, ctx) => {
      const id = decodeId("ApprovalPolicy", String(args.id));
      return id
        ? ctx.db.approvalPolicy.findFirst({ ...query, where: { id, AND: [visiblePolicies(ctx.actor)] } })
        : null;
    },
  }),
  governedTargets: t.field({
    type: [GovernedTarget],
    description: "What needs approval, and for how long one may ask: what every member needs to file a request",
    resolve: (_root, _args, ctx) =>
      ctx.db.approvalPolicy.findMany({
        where: { organizationId: ctx.actor.organizationId },
        select: {
          type: true,
          scope: true,
          target: true,
          maxDurationHours: true,
          ticketRequired: true,
          ticketPattern: true,
        },
        orderBy: [{ target: "asc" }, { type: "asc" }],
      }),
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
    ticketRequired: t.boolean({ description: "Requests must carry a ticket reference (default false)" }),
    ticketPattern: t.string({
      description:
        "An RE2 regular expression (at most 200 characters; no backreferences or lookaround) a ticket must match in full, e.g. INC[0-9]{7}",
    }),
    requireMfa: t.boolean({ description: "Approvers decide with multi-factor authentication (default false)" }),
    autoApproveWhen: t.field({
      type: AutoApprovalConditionsInput,
      description: "MANUAL policies: approve at once when every condition holds",
    }),
    stages: t.field({
      type: [ApprovalStageInput],
      description: "MANUAL policies: ordered stages; the first replaces approverGroup and requiredApprovals",
    }),
    escalationGroup: t.string({
      description:
        "MANUAL policies: group email or ID whose members may also decide a request left undecided escalateAfterHours after filing; with escalateAfterHours",
    }),
    escalateAfterHours: t.int({
      description: "Whole hours after filing, less than the request lifetime (24 by default); with escalationGroup",
    }),
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

const UpdateApprovalPolicyInput = builder.inputType("UpdateApprovalPolicyInput", {
  description: "Fields left out keep their value; requests already filed keep the terms they were filed under",
  fields: (t) => ({
    id: t.id({ required: true, description: "Global ID or the policy identity GUID" }),
    approvalType: t.field({ type: ApprovalTypeEnum }),
    approverGroup: t.string({ description: "Group email or ID" }),
    requiredApprovals: t.int(),
    maxDurationHours: t.int({ description: "null clears the maximum" }),
    ticketRequired: t.boolean(),
    ticketPattern: t.string({ description: "null clears the pattern" }),
    requireMfa: t.boolean({ description: "Approvers decide with multi-factor authentication" }),
    autoApproveWhen: t.field({ type: AutoApprovalConditionsInput, description: "null clears the conditions" }),
    stages: t.field({
      type: [ApprovalStageInput],
      description: "Replaces every stage; one stage makes a single-stage policy again",
    }),
    escalationGroup: t.string({
      description: "Group email or ID; null clears the escalation (with escalateAfterHours)",
    }),
    escalateAfterHours: t.int({ description: "null clears the escalation (with escalationGroup)" }),
  }),
});

builder.mutationField("updateApprovalPolicy", (t) =>
  t.field({
    type: ApprovalPolicyNode,
    description: "Set-ElevatedAccessApprovalPolicy (admins)",
    errors: mutationErrors("UpdateApprovalPolicyResult"),
    args: { input: t.arg({ type: UpdateApprovalPolicyInput, required: true }) },
    resolve: (_root, { input }, ctx) => updateApprovalPolicy(ctx.services, input),
  }),
);
