import { queryFromInfo } from "@pothos/plugin-prisma";
import { GraphQLError } from "graphql";
import { batched } from "../../../db/batch.ts";
import type { AccessRequest, Db } from "../../../db/client.ts";
import type { Actor } from "../../../domain/context.ts";
import { NotFoundError, RateLimitedError } from "../../../domain/errors.ts";
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
    "ESCALATED",
  ] as const,
});

/**
 * An event as one subscriber receives it: its request read, with the stream's selection,
 * through what that subscriber may see now.
 */
type DeliveredEvent = AccessRequestEventMessage & { viewer: Actor; request: AccessRequest; selection: string };

/** A read of one request through one visibility filter, with the selection a stream asked for. */
interface StreamRead {
  requestId: string;
  viewer: Actor;
  query: object;
}

type StreamReader = (read: StreamRead) => Promise<AccessRequest | null>;
const readers = new WeakMap<Db, StreamReader>();

/**
 * The request as `viewer` may see it now, or null. An event reaches every open stream
 * of the organization at once (500 on an instance, most of them held by a few users),
 * so concurrent reads gather (src/db/batch.ts) and those with the same request, filter
 * and selection share one statement: a handful of statements per event instead of two
 * per stream. Each read still starts after it was asked, so a removed approver or a
 * demoted user sees nothing from the next event on.
 */
function readForStream(db: Db, read: StreamRead): Promise<AccessRequest | null> {
  let reader = readers.get(db);
  if (!reader) {
    reader = batched<StreamRead, AccessRequest | null>(
      (reads) => {
        const shared = new Map<string, Promise<AccessRequest | null>>();
        return Promise.all(
          reads.map(({ requestId, viewer, query }) => {
            // The filter, not the user, is the key: two subscribers with the same filter see the same.
            const where = { id: requestId, AND: [visibleRequests(viewer)] };
            const key = JSON.stringify([where, query]);
            let row = shared.get(key);
            if (!row) {
              row = db.accessRequest.findFirst({ ...query, where });
              shared.set(key, row);
            }
            return row;
          }),
        );
      },
      { maxBatch: 1000, gatherTurn: true },
    );
    readers.set(db, reader);
  }
  return reader(read);
}

const AccessRequestEvent = builder.objectRef<DeliveredEvent>("AccessRequestEvent").implement({
  fields: (t) => ({
    type: t.expose("type", { type: AccessRequestEventTypeEnum }),
    at: t.field({ type: "DateTime", resolve: (event) => new Date(event.at) }),
    request: t.prismaField({
      type: "AccessRequest",
      resolve: async (query, event, _args, ctx) => {
        // The row the event was let through with, when read with this selection (the
        // stream's, planned at subscribe); another selection is read now, as visible now.
        if (JSON.stringify(query) === event.selection) return event.request;
        const request = await readForStream(ctx.db, { requestId: event.requestId, viewer: event.viewer, query });
        // Visible when the event was let through, gone or hidden since (deleted, or the viewer demoted).
        if (!request) throw new NotFoundError("request", "access request you may see");
        return request;
      },
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
async function* visibleEvents(
  ctx: GraphQLContext,
  requestId: string | null,
  query: object,
): AsyncGenerator<DeliveredEvent> {
  const selection = JSON.stringify(query);
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
      const request = await readForStream(ctx.db, { requestId: event.requestId, viewer, query });
      if (request) yield { ...event, viewer, request, selection };
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
    subscribe: async (_root, args, ctx, info) => {
      const requestId = args.requestId ? (decodeId("AccessRequest", String(args.requestId)) ?? "none") : null;
      // What the stream selects of each event's request, planned once: the read that lets
      // an event through is the one it is answered with.
      const query = queryFromInfo({ context: ctx, info, path: ["request"] });
      return holdingSlot(visibleEvents(ctx, requestId, query), await openSlot(ctx));
    },
    resolve: (event) => event,
  }),
);
