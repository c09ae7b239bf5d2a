import type { Actor } from "../../../domain/context.ts";
import type { AccessRequestEventMessage } from "../../../domain/events.ts";
import { decodeId } from "../../../domain/validation.ts";
import { visibleRequests } from "../../../domain/visibility.ts";
import { builder } from "../../builder.ts";
import type { GraphQLContext } from "../../context.ts";
import { atTokenExpiry } from "../../token-expiry.ts";

export const AccessRequestEventTypeEnum = builder.enumType("AccessRequestEventType", {
  values: ["CREATED", "DECISION_RECORDED", "APPROVED", "DENIED", "EXPIRED", "CANCELED", "REVOKED", "ENDED"] as const,
});

/** An event as one subscriber receives it: read with what that subscriber may see now. */
type DeliveredEvent = AccessRequestEventMessage & { viewer: Actor };

const AccessRequestEvent = builder.objectRef<DeliveredEvent>("AccessRequestEvent").implement({
  fields: (t) => ({
    type: t.expose("type", { type: AccessRequestEventTypeEnum }),
    at: t.field({ type: "DateTime", resolve: (event) => new Date(event.at) }),
    request: t.prismaField({
      type: "AccessRequest",
      resolve: (query, event, _args, ctx) =>
        ctx.db.accessRequest.findFirstOrThrow({
          ...query,
          where: { id: event.requestId, AND: [visibleRequests(event.viewer)] },
        }),
    }),
  }),
});

/** How often an idle stream checks that its subscriber still exists (events check at once). */
const subscriberCheckMs = 5000;

/**
 * The caller's events. Each one is checked against the subscriber as the database
 * has them when it arrives (roles, group membership, existence), so a demoted or
 * removed user stops receiving at once; the stream ends when the user is gone
 * (checked on every event and on an interval) or the token expires.
 */
async function* visibleEvents(ctx: GraphQLContext, requestId: string | null): AsyncGenerator<DeliveredEvent> {
  const source = ctx.events.requestEvents(ctx.actor.organizationId);
  const end = () => void source.return?.();
  const cancelExpiry = atTokenExpiry(ctx.tokenExpiresAt, end);
  const check = setInterval(() => {
    ctx.reloadActor().then(
      (viewer) => viewer || end(),
      () => {},
    );
  }, subscriberCheckMs);
  try {
    for await (const event of source) {
      if (requestId && event.requestId !== requestId) continue;
      const viewer = await ctx.reloadActor();
      if (!viewer) return;
      const visible = await ctx.db.accessRequest.count({
        where: { id: event.requestId, AND: [visibleRequests(viewer)] },
      });
      if (visible) yield { ...event, viewer };
    }
  } finally {
    clearInterval(check);
    cancelExpiry();
    await source.return?.();
  }
}

builder.subscriptionField("accessRequestChanged", (t) =>
  t.field({
    type: AccessRequestEvent,
    description:
      "Events the caller may see: their own requests, requests they may decide, everything for admins and auditors. With requestId (global ID or GUID): that one.",
    args: { requestId: t.arg.id() },
    subscribe: (_root, args, ctx) =>
      visibleEvents(ctx, args.requestId ? (decodeId("AccessRequest", String(args.requestId)) ?? "none") : null),
    resolve: (event) => event,
  }),
);
