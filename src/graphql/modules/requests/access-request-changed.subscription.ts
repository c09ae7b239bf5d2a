import { GraphQLError } from "graphql";
import type { Actor } from "../../../domain/context.ts";
import { RateLimitedError } from "../../../domain/errors.ts";
import type { AccessRequestEventMessage } from "../../../domain/events.ts";
import { decodeId } from "../../../domain/validation.ts";
import { visibleRequests } from "../../../domain/visibility.ts";
import { builder } from "../../builder.ts";
import type { GraphQLContext } from "../../context.ts";
import { atTokenExpiry } from "../../token-expiry.ts";

export const AccessRequestEventTypeEnum = builder.enumType("AccessRequestEventType", {
  values: [
    "CREATED",
    "DECISION_RECORDED",
    "APPROVED",
    "DENIED",
    "EXPIRED",
    "CANCELED",
    "REVOKED",
    "ENDED",
    "STAGE_COMPLETED",
  ] as const,
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

/** A slot of the caller's quota of open streams; over it, the subscription is refused before it starts. */
async function openSlot(ctx: GraphQLContext): Promise<() => Promise<void>> {
  try {
    return await ctx.subscriptionSlots.acquire(ctx.actor.id);
  } catch (error) {
    if (!(error instanceof RateLimitedError)) throw error;
    throw new GraphQLError(error.message, {
      extensions: { code: error.code, retryAfterSeconds: error.retryAfterSeconds },
    });
  }
}

/**
 * The stream, giving its slot back however it ends: run out, failed, or closed by the
 * client, before its first event too (a generator that never started runs no `finally`).
 */
function holdingSlot<T>(events: AsyncGenerator<T>, release: () => Promise<void>): AsyncIterableIterator<T> {
  let released = false;
  const giveBack = async () => {
    if (released) return;
    released = true;
    await release();
  };
  const iterator: AsyncIterableIterator<T> = {
    async next() {
      try {
        const result = await events.next();
        if (result.done) await giveBack();
        return result;
      } catch (error) {
        await giveBack();
        throw error;
      }
    },
    async return(value?: unknown) {
      await giveBack();
      return events.return(value as T);
    },
    async throw(error?: unknown) {
      await giveBack();
      return events.throw(error);
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}

/** How often an idle stream checks that its subscriber still exists (events check at once). */
const subscriberCheckMs = 5000;

/**
 * The caller's events. Each one is checked against the subscriber as the database
 * has them when it arrives (roles, group membership, existence), so a demoted or
 * removed user stops receiving at once; the stream ends when the user is gone
 * (checked on every event and on an interval) or the token expires (over SSE; a WebSocket closes whole, see GraphQLContext.overWebSocket).
 */
async function* visibleEvents(ctx: GraphQLContext, requestId: string | null): AsyncGenerator<DeliveredEvent> {
  const source = ctx.events.requestEvents(ctx.actor.organizationId);
  const end = () => void source.return?.();
  const cancelExpiry = ctx.overWebSocket ? () => {} : atTokenExpiry(ctx.tokenExpiresAt, end);
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
    subscribe: async (_root, args, ctx) => {
      const requestId = args.requestId ? (decodeId("AccessRequest", String(args.requestId)) ?? "none") : null;
      return holdingSlot(visibleEvents(ctx, requestId), await openSlot(ctx));
    },
    resolve: (event) => event,
  }),
);
