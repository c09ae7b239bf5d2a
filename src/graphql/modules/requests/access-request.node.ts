import { awaitingDecisionBy } from "../../../domain/approver-groups/eligibility.ts";
import {
  AlreadyDecidedError,
  ControlDisabledError,
  LimitExceededError,
  NoPolicyError,
  NotAnApproverError,
  RateLimitedError,
  RequestExpiredError,
  SelfApprovalError,
  StepUpRequiredError,
} from "../../../domain/errors.ts";
import { readLaterStages } from "../../../domain/policies/stages.ts";
import { requestFilter } from "../../../domain/requests/request-filter.ts";
import {
  approveAccessRequest,
  cancelAccessRequest,
  createAccessRequest,
  denyAccessRequest,
} from "../../../domain/requests/requests.service.ts";
import { decodeId } from "../../../domain/validation.ts";
import {
  visibleAuthorizations,
  visibleDecisions,
  visiblePolicies,
  visibleRequests,
} from "../../../domain/visibility.ts";
import { builder } from "../../builder.ts";
import {
  AccessRequestKindEnum,
  AccessRequestStatusEnum,
  ApprovalTypeEnum,
  DecisionChannelEnum,
  PolicyScopeEnum,
  PolicyTypeEnum,
} from "../common/enums.ts";
import { mutationErrors } from "../common/mutation-result.ts";
import { ApprovalStageRef } from "../policies/approval-stage.ts";

builder.prismaObject("AccessDecision", {
  fields: (t) => ({
    approver: t.relation("approver"),
    approved: t.exposeBoolean("approved"),
    comment: t.exposeString("comment", { nullable: true }),
    channel: t.expose("channel", { type: DecisionChannelEnum }),
    stage: t.exposeInt("stage", { description: "The approval stage it was made in (1: the first)" }),
    authenticationMethods: t.exposeStringList("authMethods", {
      description: "How the approver had signed in (the token's amr); empty for an email link",
    }),
    authenticationContext: t.exposeString("authContext", {
      nullable: true,
      description: "The token's acr, when it had one",
    }),
    decidedAt: t.expose("decidedAt", { type: "DateTime" }),
    durationHours: t.exposeInt("durationHours", {
      nullable: true,
      description: "Hours this approval gave when fewer than asked; the grant takes the fewest any approver gave",
    }),
  }),
});

export const AccessRequestNode = builder.prismaNode("AccessRequest", {
  id: { field: "id" },
  nullable: true,
  findUnique: (id, ctx) => ({ id, AND: [visibleRequests(ctx.actor)] }),
  fields: (t) => ({
    identity: t.exposeString("id", { description: "The request identity GUID (Get-ElevatedAccessRequest -Identity)" }),
    requester: t.relation("requester"),
    kind: t.expose("kind", { type: AccessRequestKindEnum }),
    type: t.expose("type", { type: PolicyTypeEnum }),
    scope: t.expose("scope", { type: PolicyScopeEnum }),
    target: t.exposeString("target"),
    reason: t.exposeString("reason"),
    durationHours: t.exposeInt("durationHours"),
    ticket: t.exposeString("ticket", { nullable: true, description: "The change or incident ticket it refers to" }),
    startsAt: t.expose("startsAt", {
      type: "DateTime",
      nullable: true,
      description: "The start asked for; null: at approval. Approved before it, the grant is SCHEDULED until then",
    }),
    status: t.expose("status", { type: AccessRequestStatusEnum }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    expiresAt: t.expose("expiresAt", { type: "DateTime" }),
    decidedAt: t.expose("decidedAt", { type: "DateTime", nullable: true }),
    approvalType: t.expose("approvalType", { type: ApprovalTypeEnum, description: "As filed" }),
    requiredApprovals: t.exposeInt("requiredApprovals"),
    requireMfa: t.boolean({
      description:
        "Approvers must decide with multi-factor authentication: the policy's flag as filed, or the organization's setting now",
      select: { requireMfa: true, organization: { select: { control: { select: { requireMfaForDecisions: true } } } } },
      resolve: (request) => request.requireMfa || (request.organization.control?.requireMfaForDecisions ?? false),
    }),
    approverGroup: t.relation("approverGroup", { description: "The current stage's group" }),
    stage: t.exposeInt("stage", { description: "The approval stage waiting for decisions, or the last one reached" }),
    stageCount: t.int({
      description: "How many approval stages the request goes through (1: a single-stage policy)",
      select: { laterStages: true },
      resolve: (request) => 1 + readLaterStages(request.laterStages).length,
    }),
    nextStages: t.field({
      type: [ApprovalStageRef],
      description: "The stages after the current one, still to come",
      select: { laterStages: true, stage: true },
      resolve: (request) =>
        readLaterStages(request.laterStages)
          .map((stage, index) => ({ ...stage, position: index + 2 }))
          .filter((stage) => stage.position > request.stage),
    }),
    escalationGroup: t.relation("escalationGroup", {
      nullable: true,
      description: "The policy's escalation group as filed; its members may decide too once the request escalated",
    }),
    escalatesAt: t.expose("escalateAt", {
      type: "DateTime",
      nullable: true,
      description: "When the request escalates if still undecided; null: no escalation before it expires",
    }),
    escalatedAt: t.expose("escalatedAt", {
      type: "DateTime",
      nullable: true,
      description: "When it escalated: from then on escalationGroup's members may decide it, at whatever stage",
    }),
    awaitsMyDecision: t.boolean({
      description:
        "The caller may decide it now (PENDING, not theirs, not decided by them, eligible in its current stage's group or, once escalated, its escalation group): the rule every decision checks",
      select: { id: true },
      resolve: async (request, _args, ctx) =>
        (await ctx.db.accessRequest.count({
          where: { id: request.id, ...awaitingDecisionBy(ctx.actor, ctx.services.clock()) },
        })) > 0,
    }),
    // Relations go through the same read rules as the root queries (domain/visibility.ts).
    policy: t.prismaField({
      type: "ApprovalPolicy",
      nullable: true,
      description: "Null once removed, and for callers who do not read approval configuration",
      select: { policyId: true },
      resolve: (query, request, _args, ctx) =>
        request.policyId
          ? ctx.db.approvalPolicy.findFirst({
              ...query,
              where: { id: request.policyId, AND: [visiblePolicies(ctx.actor)] },
            })
          : null,
    }),
    decisions: t.relation("decisions", {
      query: (_args, ctx) => ({ where: visibleDecisions(ctx.actor), orderBy: { decidedAt: "asc" } }),
    }),
    extendsAuthorization: t.prismaField({
      type: "AccessAuthorization",
      nullable: true,
      description: "For a request to extend a grant (requestAccessExtension): that grant",
      select: { extendsAuthorizationId: true },
      resolve: (query, request, _args, ctx) =>
        request.extendsAuthorizationId
          ? ctx.db.accessAuthorization.findFirst({
              ...query,
              where: { id: request.extendsAuthorizationId, AND: [visibleAuthorizations(ctx.actor)] },
            })
          : null,
    }),
    authorization: t.prismaField({
      type: "AccessAuthorization",
      nullable: true,
      resolve: (query, request, _args, ctx) =>
        ctx.db.accessAuthorization.findFirst({
          ...query,
          where: { requestId: request.id, AND: [visibleAuthorizations(ctx.actor)] },
        }),
    }),
  }),
});

const AccessRequestFilter = builder.inputType("AccessRequestFilter", {
  fields: (t) => ({
    status: t.field({ type: [AccessRequestStatusEnum] }),
    requesterEmail: t.string(),
    target: t.string(),
    awaitingMyDecision: t.boolean({ description: "PENDING requests the caller may approve" }),
    kind: t.field({ type: AccessRequestKindEnum, description: "CUSTOMER_LOCKBOX: the Customer Lockbox list" }),
  }),
});

builder.queryFields((t) => ({
  accessRequests: t.prismaConnection(
    {
      type: "AccessRequest",
      cursor: "id",
      args: { filter: t.arg({ type: AccessRequestFilter }) },
      totalCount: (_parent, args, ctx) =>
        ctx.db.accessRequest.count({ where: requestFilter(ctx.actor, args.filter, ctx.services.clock()) }),
      resolve: (query, _root, args, ctx) =>
        ctx.db.accessRequest.findMany({
          ...query,
          where: requestFilter(ctx.actor, args.filter, ctx.services.clock()),
          orderBy: { id: "desc" },
        }),
    },
    { name: "AccessRequestConnection" },
    { name: "AccessRequestEdge" },
  ),
  accessRequest: t.prismaField({
    type: "AccessRequest",
    nullable: true,
    description: "By global ID or by the request identity GUID",
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, args, ctx) => {
      const id = decodeId("AccessRequest", String(args.id));
      return id ? ctx.db.accessRequest.findFirst({ ...query, where: { id, AND: [visibleRequests(ctx.actor)] } }) : null;
    },
  }),
}));

const CreateAccessRequestInput = builder.inputType("CreateAccessRequestInput", {
  fields: (t) => ({
    type: t.field({ type: PolicyTypeEnum, defaultValue: "TASK" }),
    scope: t.field({ type: PolicyScopeEnum, defaultValue: "EXCHANGE" }),
    target: t.string({ required: true }),
    reason: t.string({ required: true }),
    durationHours: t.int({ description: "Default: the organization's default duration (4)" }),
    ticket: t.string({
      description:
        "A ticket reference (at most 64 characters); required, and matching a pattern, when its policy says so",
    }),
    startsAt: t.field({
      type: "DateTime",
      description:
        "Start the access later (at most 14 days ahead); the request still expires 24 hours after filing if undecided",
    }),
  }),
});

const DecideAccessRequestInput = builder.inputType("DecideAccessRequestInput", {
  fields: (t) => ({
    requestId: t.id({ required: true }),
    comment: t.string(),
    durationHours: t.int({
      description:
        "Approvals only: grant fewer hours than asked (1 up to the request's durationHours); the requester is told",
    }),
  }),
});

const CancelAccessRequestInput = builder.inputType("CancelAccessRequestInput", {
  fields: (t) => ({ requestId: t.id({ required: true }) }),
});

const decisionErrors = [
  SelfApprovalError,
  NotAnApproverError,
  AlreadyDecidedError,
  RequestExpiredError,
  StepUpRequiredError,
];

builder.mutationFields((t) => ({
  createAccessRequest: t.field({
    type: AccessRequestNode,
    errors: mutationErrors("CreateAccessRequestResult", [
      ControlDisabledError,
      NoPolicyError,
      LimitExceededError,
      RateLimitedError,
    ]),
    args: { input: t.arg({ type: CreateAccessRequestInput, required: true }) },
    resolve: (_root, { input }, ctx) => createAccessRequest(ctx.services, input),
  }),
  approveAccessRequest: t.field({
    type: AccessRequestNode,
    errors: mutationErrors("ApproveAccessRequestResult", decisionErrors),
    args: { input: t.arg({ type: DecideAccessRequestInput, required: true }) },
    resolve: (_root, { input }, ctx) => approveAccessRequest(ctx.services, input),
  }),
  denyAccessRequest: t.field({
    type: AccessRequestNode,
    errors: mutationErrors("DenyAccessRequestResult", decisionErrors),
    args: { input: t.arg({ type: DecideAccessRequestInput, required: true }) },
    resolve: (_root, { input }, ctx) => denyAccessRequest(ctx.services, input),
  }),
  cancelAccessRequest: t.field({
    type: AccessRequestNode,
    errors: mutationErrors("CancelAccessRequestResult", [AlreadyDecidedError, RequestExpiredError]),
    args: { input: t.arg({ type: CancelAccessRequestInput, required: true }) },
    resolve: (_root, { input }, ctx) => cancelAccessRequest(ctx.services, input),
  }),
}));
