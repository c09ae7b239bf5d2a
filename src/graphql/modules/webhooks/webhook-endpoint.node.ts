import { WebhookDeliveryStatus, WebhookEventType } from "../../../db/client.ts";
import { LimitExceededError } from "../../../domain/errors.ts";
import { decodeId } from "../../../domain/validation.ts";
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  replayWebhookDelivery,
  rotateWebhookSecret,
  updateWebhookEndpoint,
  type WebhookEndpointWithSecret,
} from "../../../domain/webhooks/webhooks.service.ts";
import { builder, queryLimits } from "../../builder.ts";
import { mutationErrors } from "../common/mutation-result.ts";

export const WebhookEventTypeEnum = builder.enumType(WebhookEventType, {
  name: "WebhookEventType",
  description: "The accessRequestChanged types; the payload's `type` is e.g. access_request.approved",
});
export const WebhookDeliveryStatusEnum = builder.enumType(WebhookDeliveryStatus, { name: "WebhookDeliveryStatus" });

// Admins and auditors read endpoints and deliveries (never a secret); admins change them.
export const WebhookEndpointNode = builder.prismaNode("WebhookEndpoint", {
  id: { field: "id" },
  nullable: true,
  authScopes: { reader: true },
  findUnique: (id, ctx) => ({ id, organizationId: ctx.actor.organizationId }),
  fields: (t) => ({
    url: t.exposeString("url"),
    description: t.exposeString("description", { nullable: true }),
    events: t.expose("eventTypes", { type: [WebhookEventTypeEnum] }),
    enabled: t.exposeBoolean("enabled"),
    disabledAt: t.expose("disabledAt", { type: "DateTime", nullable: true }),
    disabledReason: t.exposeString("disabledReason", {
      nullable: true,
      description: "By whom, or after how many failed deliveries in a row",
    }),
    consecutiveFailures: t.exposeInt("consecutiveFailures", {
      description: "Deliveries in a row that failed for good; a success resets it",
    }),
    previousSecretExpiresAt: t.expose("previousSecretExpiresAt", {
      type: "DateTime",
      nullable: true,
      description: "Until then the secret before the last rotation signs too",
    }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    deliveries: t.relatedConnection(
      "deliveries",
      {
        cursor: "id",
        totalCount: true,
        maxSize: queryLimits.maxNestedPage,
        defaultSize: 10,
        description: "Newest first",
        args: { status: t.arg({ type: [WebhookDeliveryStatusEnum] }) },
        query: (args) => ({
          where: args.status?.length ? { status: { in: args.status } } : {},
          orderBy: { id: "desc" },
        }),
      },
      { name: "WebhookEndpointDeliveryConnection" },
      { name: "WebhookEndpointDeliveryEdge" },
    ),
  }),
});

const WebhookDeliveryAttempt = builder.prismaObject("WebhookDeliveryAttempt", {
  fields: (t) => ({
    at: t.expose("at", { type: "DateTime" }),
    responseStatus: t.exposeInt("responseStatus", { nullable: true }),
    error: t.exposeString("error", { nullable: true }),
    durationMs: t.exposeInt("durationMs"),
  }),
});

export const WebhookDeliveryNode = builder.prismaNode("WebhookDelivery", {
  id: { field: "id" },
  nullable: true,
  authScopes: { reader: true },
  findUnique: (id, ctx) => ({ id, organizationId: ctx.actor.organizationId }),
  fields: (t) => ({
    endpoint: t.relation("endpoint"),
    eventType: t.expose("eventType", { type: WebhookEventTypeEnum }),
    messageId: t.string({
      description: "The webhook-id header: the same for every attempt and replay",
      select: { id: true },
      resolve: (delivery) => `msg_${delivery.id}`,
    }),
    status: t.expose("status", { type: WebhookDeliveryStatusEnum }),
    attempts: t.exposeInt("attempts"),
    replays: t.exposeInt("replays"),
    responseStatus: t.exposeInt("responseStatus", { nullable: true, description: "Of the last attempt" }),
    lastError: t.exposeString("lastError", { nullable: true }),
    correlationId: t.exposeString("correlationId", {
      nullable: true,
      description: "The x-request-id of the HTTP request that caused the event (sent as X-Request-Id)",
    }),
    payload: t.expose("payload", { type: "JSON", description: "The body as sent" }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    lastAttemptAt: t.expose("lastAttemptAt", { type: "DateTime", nullable: true }),
    deliveredAt: t.expose("deliveredAt", { type: "DateTime", nullable: true }),
    attemptHistory: t.relation("attemptLog", {
      type: WebhookDeliveryAttempt,
      description: "The latest 50 attempts, newest first",
      query: { orderBy: { at: "desc" }, take: 50 },
    }),
  }),
});

const WebhookEndpointSecret = builder.objectRef<WebhookEndpointWithSecret>("WebhookEndpointSecret").implement({
  description: "An endpoint with its new signing secret, shown this once",
  fields: (t) => ({
    endpoint: t.field({ type: WebhookEndpointNode, resolve: (result) => result.endpoint }),
    secret: t.exposeString("secret", { description: "whsec_...: verify webhook-signature with it" }),
  }),
});

builder.queryFields((t) => ({
  webhookEndpoints: t.prismaConnection(
    {
      type: "WebhookEndpoint",
      cursor: "id",
      authScopes: { reader: true },
      totalCount: (_parent, _args, ctx) =>
        ctx.db.webhookEndpoint.count({ where: { organizationId: ctx.actor.organizationId } }),
      resolve: (query, _root, _args, ctx) =>
        ctx.db.webhookEndpoint.findMany({
          ...query,
          where: { organizationId: ctx.actor.organizationId },
          orderBy: { id: "asc" },
        }),
    },
    { name: "WebhookEndpointConnection" },
    { name: "WebhookEndpointEdge" },
  ),
  webhookDeliveries: t.prismaConnection(
    {
      type: "WebhookDelivery",
      cursor: "id",
      authScopes: { reader: true },
      description: "Newest first; of one endpoint (global ID or GUID) or of all",
      args: {
        endpointId: t.arg.id(),
        status: t.arg({ type: [WebhookDeliveryStatusEnum] }),
      },
      resolve: (query, _root, args, ctx) =>
        ctx.db.webhookDelivery.findMany({
          ...query,
          where: {
            organizationId: ctx.actor.organizationId,
            ...(args.endpointId
              ? {
                  endpointId:
                    decodeId("WebhookEndpoint", String(args.endpointId)) ?? "00000000-0000-0000-0000-000000000000",
                }
              : {}),
            ...(args.status?.length ? { status: { in: args.status } } : {}),
          },
          orderBy: { id: "desc" },
        }),
    },
    { name: "WebhookDeliveryConnection" },
    { name: "WebhookDeliveryEdge" },
  ),
}));

const CreateWebhookEndpointInput = builder.inputType("CreateWebhookEndpointInput", {
  fields: (t) => ({
    url: t.string({ required: true, description: "https:// (http:// only where private addresses are allowed)" }),
    events: t.field({ type: [WebhookEventTypeEnum], required: true }),
    description: t.string(),
  }),
});

const UpdateWebhookEndpointInput = builder.inputType("UpdateWebhookEndpointInput", {
  description: "Fields left out stay as they are",
  fields: (t) => ({
    id: t.id({ required: true }),
    url: t.string(),
    events: t.field({ type: [WebhookEventTypeEnum] }),
    description: t.string({ description: "Empty or null clears it" }),
    enabled: t.boolean({ description: "true also clears the run of failures" }),
  }),
});

const RotateWebhookSecretInput = builder.inputType("RotateWebhookSecretInput", {
  fields: (t) => ({
    id: t.id({ required: true }),
    graceHours: t.int({
      description: "How long the old secret keeps signing too (default 24, at most 168, 0: not at all)",
    }),
  }),
});

const WebhookEndpointIdInput = builder.inputType("DeleteWebhookEndpointInput", {
  fields: (t) => ({ id: t.id({ required: true }) }),
});

const ReplayWebhookDeliveryInput = builder.inputType("ReplayWebhookDeliveryInput", {
  fields: (t) => ({ id: t.id({ required: true }) }),
});

builder.mutationFields((t) => ({
  createWebhookEndpoint: t.field({
    type: WebhookEndpointSecret,
    description: "Admins: registers an endpoint; the answer holds its secret, shown this once",
    errors: mutationErrors("CreateWebhookEndpointResult", [LimitExceededError]),
    args: { input: t.arg({ type: CreateWebhookEndpointInput, required: true }) },
    resolve: (_root, { input }, ctx) => createWebhookEndpoint(ctx.services, input),
  }),
  updateWebhookEndpoint: t.field({
    type: WebhookEndpointNode,
    errors: mutationErrors("UpdateWebhookEndpointResult"),
    args: { input: t.arg({ type: UpdateWebhookEndpointInput, required: true }) },
    resolve: (_root, { input }, ctx) => updateWebhookEndpoint(ctx.services, input),
  }),
  rotateWebhookSecret: t.field({
    type: WebhookEndpointSecret,
    description: "Admins: a new secret, shown this once; the old one keeps signing during the grace period",
    errors: mutationErrors("RotateWebhookSecretResult"),
    args: { input: t.arg({ type: RotateWebhookSecretInput, required: true }) },
    resolve: (_root, { input }, ctx) => rotateWebhookSecret(ctx.services, input),
  }),
  deleteWebhookEndpoint: t.field({
    type: WebhookEndpointNode,
    errors: mutationErrors("DeleteWebhookEndpointResult"),
    args: { input: t.arg({ type: WebhookEndpointIdInput, required: true }) },
    resolve: (_root, { input }, ctx) => deleteWebhookEndpoint(ctx.services, input),
  }),
  replayWebhookDelivery: t.field({
    type: WebhookDeliveryNode,
    description: "Admins: sends a finished delivery again, same webhook-id and body, with fresh retries",
    errors: mutationErrors("ReplayWebhookDeliveryResult"),
    args: { input: t.arg({ type: ReplayWebhookDeliveryInput, required: true }) },
    resolve: (_root, { input }, ctx) => replayWebhookDelivery(ctx.services, input),
  }),
}));
