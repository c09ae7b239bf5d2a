import { type AuthorizationFilter, authorizationFilter } from "../../../domain/authorizations/authorization-filter.ts";
import {
  endAccessAuthorizationEarly,
  revokeAccessAuthorization,
} from "../../../domain/authorizations/authorizations.service.ts";
import { authorizeTask, type TaskAuthorizationResult } from "../../../domain/authorizations/authorize-task.ts";
import { requestAccessExtension } from "../../../domain/authorizations/extensions.service.ts";
import {
  ControlDisabledError,
  DomainError,
  LimitExceededError,
  NoPolicyError,
  RateLimitedError,
} from "../../../domain/errors.ts";
import { visibleAuthorizations, visibleExecutions } from "../../../domain/visibility.ts";
import { builder, queryLimits } from "../../builder.ts";
import type { GraphQLContext } from "../../context.ts";
import { AuthorizationStatusEnum, AuthorizeReasonEnum } from "../common/enums.ts";
import { mutationErrors } from "../common/mutation-result.ts";
import { AccessRequestNode } from "../requests/access-request.node.ts";

/** A grant reached through an execution or a check: only for callers who may see it (domain/visibility.ts). */
function visibleAuthorization(
  query: { select?: object; include?: object },
  authorizationId: string | null,
  ctx: GraphQLContext,
) {
  return authorizationId
    ? ctx.db.accessAuthorization.findFirst({
        ...query,
        where: { id: authorizationId, AND: [visibleAuthorizations(ctx.actor)] },
      })
    : null;
}

/** Counts each answer by outcome and reason (elevate_authorize_task_total); a refused call as REFUSED. */
async function counted(ctx: GraphQLContext, check: Promise<TaskAuthorizationResult>): Promise<TaskAuthorizationResult> {
  try {
    const result = await check;
    ctx.metrics?.authorizeTask.inc({ allowed: String(result.allowed), reason: result.reason });
    return result;
  } catch (error) {
    if (error instanceof DomainError) ctx.metrics?.authorizeTask.inc({ allowed: "false", reason: "REFUSED" });
    throw error;
  }
}

function toFilter(args: { status?: AuthorizationFilter["status"]; userId?: string | number | null }) {
  return { status: args.status, userId: args.userId?.toString() };
}

const authorizationIdField = {
  nullable: true as const,
  description: "The grant that allowed it, for callers who may not read the grant itself (enforcement services)",
};

export const AccessAuthorizationNode = builder.prismaNode("AccessAuthorization", {
  id: { field: "id" },
  nullable: true,
  findUnique: (id, ctx) => ({ id, AND: [visibleAuthorizations(ctx.actor)] }),
  fields: (t) => ({
    identity: t.exposeString("id", { description: "The authorization's GUID" }),
    // Visible exactly when the authorization is (domain/visibility.ts).
    request: t.relation("request"),
    user: t.relation("user"),
    target: t.exposeString("target"),
    startsAt: t.expose("startsAt", { type: "DateTime" }),
    endsAt: t.expose("endsAt", { type: "DateTime" }),
    status: t.expose("status", { type: AuthorizationStatusEnum }),
    revokedAt: t.expose("revokedAt", { type: "DateTime", nullable: true }),
    revokedBy: t.relation("revokedBy", { nullable: true }),
    revocationComment: t.exposeString("revocationComment", { nullable: true }),
    endedAt: t.expose("endedAt", {
      type: "DateTime",
      nullable: true,
      description: "When it ended: at endsAt on its own, earlier when the grantee ended it",
    }),
    endComment: t.exposeString("endComment", {
      nullable: true,
      description: "The grantee's reason for ending it before endsAt (endAccessAuthorization)",
    }),
    executions: t.relatedConnection(
      "executions",
      {
        cursor: "id",
        totalCount: true,
        // A page inside a page: smaller, so nested lists cannot multiply into minutes of work.
        maxSize: queryLimits.maxNestedPage,
        defaultSize: 10,
        query: (_args, ctx) => ({ where: visibleExecutions(ctx.actor), orderBy: { id: "desc" } }),
      },
      TaskExecutionConnection,
    ),
  }),
});

const TaskExecutionNode = builder.prismaNode("TaskExecution", {
  id: { field: "id" },
  nullable: true,
  findUnique: (id, ctx) => ({ id, AND: [visibleExecutions(ctx.actor)] }),
  fields: (t) => ({
    user: t.relation("user"),
    caller: t.relation("caller", { description: "Who asked: the user, or an enforcement service on its behalf" }),
    task: t.exposeString("task", { description: "As the caller spelled it" }),
    resolvedTask: t.exposeString("resolvedTask", {
      nullable: true,
      description: "The catalog task that spelling resolved to; null for an unknown task",
    }),
    allowed: t.exposeBoolean("allowed"),
    reason: t.expose("reason", { type: AuthorizeReasonEnum }),
    refusal: t.exposeString("refusal", { nullable: true, description: "Why a REFUSED call was refused" }),
    authorizationId: t.globalID({
      ...authorizationIdField,
      resolve: (execution) =>
        execution.authorizationId ? { type: "AccessAuthorization", id: execution.authorizationId } : null,
    }),
    authorization: t.prismaField({
      type: "AccessAuthorization",
      nullable: true,
      select: { authorizationId: true },
      resolve: (query, execution, _args, ctx) => visibleAuthorization(query, execution.authorizationId, ctx),
    }),
    parameters: t.expose("parameters", { type: "JSON", nullable: true }),
    at: t.expose("at", { type: "DateTime" }),
  }),
});

// One connection type for both lists of executions (all of them, and one grant's).
const TaskExecutionConnection = builder.connectionObject(
  {
    type: TaskExecutionNode,
    name: "TaskExecutionConnection",
    fields: (t) => ({
      // Pothos hands a count function to root connections and a value to related ones.
      totalCount: t.int({
        resolve: (connection) => {
          const count = (connection as { totalCount?: number | (() => number | Promise<number>) }).totalCount;
          return typeof count === "function" ? count() : (count ?? 0);
        },
      }),
    }),
  },
  { name: "TaskExecutionEdge" },
);

builder.queryFields((t) => ({
  accessAuthorizations: t.prismaConnection(
    {
      type: "AccessAuthorization",
      cursor: "id",
      description: "Newest first",
      args: {
        status: t.arg({ type: [AuthorizationStatusEnum] }),
        userId: t.arg.id({ description: "Only this grantee's: a user's global ID or GUID" }),
      },
      totalCount: (_parent, args, ctx) =>
        ctx.db.accessAuthorization.count({ where: authorizationFilter(ctx.actor, toFilter(args)) }),
      resolve: (query, _root, args, ctx) =>
        ctx.db.accessAuthorization.findMany({
          ...query,
          where: authorizationFilter(ctx.actor, toFilter(args)),
          orderBy: { id: "desc" },
        }),
    },
    { name: "AccessAuthorizationConnection" },
    { name: "AccessAuthorizationEdge" },
  ),
  taskExecutions: t.prismaConnection(
    {
      type: "TaskExecution",
      cursor: "id",
      totalCount: (_parent, _args, ctx) => ctx.db.taskExecution.count({ where: visibleExecutions(ctx.actor) }),
      resolve: (query, _root, _args, ctx) =>
        ctx.db.taskExecution.findMany({ ...query, where: visibleExecutions(ctx.actor), orderBy: { id: "desc" } }),
    },
    TaskExecutionConnection,
  ),
}));

const TaskAuthorization = builder.objectRef<TaskAuthorizationResult>("TaskAuthorization").implement({
  fields: (t) => ({
    allowed: t.exposeBoolean("allowed"),
    reason: t.expose("reason", { type: AuthorizeReasonEnum }),
    authorizationId: t.globalID({
      ...authorizationIdField,
      resolve: (result) =>
        result.authorizationId ? { type: "AccessAuthorization", id: result.authorizationId } : null,
    }),
    authorization: t.prismaField({
      type: "AccessAuthorization",
      nullable: true,
      resolve: (query, result, _args, ctx) => visibleAuthorization(query, result.authorizationId, ctx),
    }),
    execution: t.prismaField({
      type: "TaskExecution",
      description: "Every call is logged, allowed or not",
      resolve: (query, result, _args, ctx) =>
        ctx.db.taskExecution.findUniqueOrThrow({ ...query, where: { id: result.executionId } }),
    }),
  }),
});

const RevokeAccessAuthorizationInput = builder.inputType("RevokeAccessAuthorizationInput", {
  fields: (t) => ({
    requestId: t.id({ required: true }),
    comment: t.string(),
  }),
});

const EndAccessAuthorizationInput = builder.inputType("EndAccessAuthorizationInput", {
  fields: (t) => ({
    authorizationId: t.id({ required: true, description: "The grant's global ID or GUID" }),
    reason: t.string({ description: "Why it is no longer needed; shown in the audit log" }),
  }),
});

const RequestAccessExtensionInput = builder.inputType("RequestAccessExtensionInput", {
  fields: (t) => ({
    authorizationId: t.id({ required: true, description: "Your ACTIVE grant's global ID or GUID" }),
    hours: t.int({ required: true, description: "Hours to add; the policy's maximum applies to the whole grant" }),
    reason: t.string({ required: true, description: "Why you need longer (shown to approvers)" }),
  }),
});

const AuthorizeTaskInput = builder.inputType("AuthorizeTaskInput", {
  fields: (t) => ({
    task: t.string({ required: true, description: 'e.g. "Exchange\\\\New-MoveRequest"' }),
    userEmail: t.string({ description: "On behalf of another user: enforcement services only" }),
    parameters: t.field({ type: "JSON" }),
  }),
});

builder.mutationFields((t) => ({
  revokeAccessAuthorization: t.field({
    type: AccessAuthorizationNode,
    errors: mutationErrors("RevokeAccessAuthorizationResult"),
    args: { input: t.arg({ type: RevokeAccessAuthorizationInput, required: true }) },
    resolve: (_root, { input }, ctx) => revokeAccessAuthorization(ctx.services, input),
  }),
  endAccessAuthorization: t.field({
    type: AccessAuthorizationNode,
    description:
      "The grantee ends their own ACTIVE grant before its end (Stop-ElevatedAccessAuthorization); others revoke",
    errors: mutationErrors("EndAccessAuthorizationResult"),
    args: { input: t.arg({ type: EndAccessAuthorizationInput, required: true }) },
    resolve: (_root, { input }, ctx) => endAccessAuthorizationEarly(ctx.services, input),
  }),
  requestAccessExtension: t.field({
    type: AccessRequestNode,
    description:
      "The grantee asks to extend their ACTIVE grant: an extension request decided under the grant's policy like any request (AUTO extends at once); on approval endsAt and the end job move",
    errors: mutationErrors("RequestAccessExtensionResult", [
      ControlDisabledError,
      NoPolicyError,
      LimitExceededError,
      RateLimitedError,
    ]),
    args: { input: t.arg({ type: RequestAccessExtensionInput, required: true }) },
    resolve: (_root, { input }, ctx) => requestAccessExtension(ctx.services, input),
  }),
  authorizeTask: t.field({
    type: TaskAuthorization,
    description: "The per-execution check; every call is logged as a TaskExecution",
    errors: mutationErrors("AuthorizeTaskResult", [RateLimitedError]),
    args: { input: t.arg({ type: AuthorizeTaskInput, required: true }) },
    resolve: (_root, { input }, ctx) => counted(ctx, authorizeTask(ctx.services, input)),
  }),
}));
