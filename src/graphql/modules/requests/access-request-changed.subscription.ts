import type { AccessRequestEventMessage } from "../../../domain/events.ts";
import { atTokenExpiry } from "../../../domain/identity.ts";
import { decodeId } from "../../../domain/validation.ts";
import { visibleRequests } from "../../../domain/visibility.ts";
import { builder } from "../../builder.ts";
import type { GraphQLContext } from "../../context.ts";

export const AccessRequestEventTypeEnum = builder.enumType("AccessRequestEventType", {
  values: ["CREATED", "DECISION_RECORDED", "APPROVED", "DENIED", "EXPIRED", "CANCELED", "REVOKED", "ENDED"] as const,
});

const AccessRequestEvent = builder.objectRef<AccessRequestEventMessage>("AccessRequestEvent").implement({
  fields: (t) => ({
    type: t.expose("type", { type: AccessRequestEventTypeEnum }),
    at: t.field({ type: "DateTime", resolve: (event) => new Date(event.at) }),
    request: t.prismaField({
      type: "AccessRequest",
      resolve: (query, event, _args, ctx) =>
        ctx.db.accessRequest.findFirstOrThrow({
          ...query,
          where: { id: event.requestId, AND: [visibleRequests(ctx.actor)] },
        }),
    }),
  }),
});

/**
 * The caller's events: each one is checked against what the caller may see at
 * the moment it arrives (group membership can change), and the stream ends when
 * the caller's token expires.
 */
async function* visibleEvents(
  ctx: GraphQLContext,
  requestId: string | null,
): AsyncGenerator<AccessRequestEventMessage> {
  const source = ctx.events.requestEvents(ctx.actor.organizationId);
  const cancelExpiry = atTokenExpiry(ctx.tokenExpiresAt, () => void source.return?.());
  try {
    for await (const event of source) {
      if (requestId && event.requestId !== requestId) continue;
      const visible = await ctx.db.accessRequest.count({
        where: { id: event.requestId, AND: [visibleRequests(ctx.actor)] },
      });
      if (visible) yield event;
    }
  } finally {
    cancelExpiry();
    await source.return?.();
  }
}

builder.subscriptionField("accessRequestChanged", (t) =>
  t.field({
    type: AccessRequestEvent,
    description:
      "Events the caller may see: their own requests, requests they may decide, everything for admins and auditors. With requestId: that one.",
    args: { requestId: t.arg.id() },
    subscribe: (_root, args, ctx) =>
      visibleEvents(ctx, args.requestId ? (decodeId("AccessRequest", String(args.requestId)) ?? "none") : null),
    resolve: (event) => event,
  }),
);
