import { setMaxListeners } from "node:events";
import { createRedisEventTarget } from "@graphql-yoga/redis-event-target";
import { createPubSub } from "graphql-yoga";
import type { Redis } from "ioredis";
import { invalidateActors, invalidateAllActors } from "../domain/actor-cache.ts";
import { invalidateAllCoverage, invalidateCoverage } from "../domain/authorizations/coverage-cache.ts";
import type { EffectHandlers } from "../domain/context.ts";
import type { AccessRequestEventMessage, EventBus } from "../domain/events.ts";

type Topics = {
  [topic: `${string}access-request:${string}`]: [AccessRequestEventMessage];
  [topic: `${string}coverage-changed`]: [{ organizationId: string }];
  [topic: `${string}actors-changed`]: [{ organizationId: string }];
};

/** Every subscriber listens on one topic per organization: many listeners are the normal case. */
function inProcessTarget(): EventTarget {
  const target = new EventTarget();
  setMaxListeners(0, target);
  return target;
}

/**
 * Events after commit, through Redis pub/sub so every API instance sees what any
 * process (API, email page, worker, reconciler) did. Without Redis clients it
 * stays in this process (unit-style tests).
 */
export function createEventBus(redis?: { publish: Redis; subscribe: Redis; channelPrefix: string }): EventBus {
  // Channels carry the deployment's prefix (QUEUE_PREFIX), so deployments sharing a Redis never see each other.
  const prefix = redis ? `${redis.channelPrefix}:` : "";
  const pubsub = createPubSub<Topics>({
    eventTarget: redis
      ? createRedisEventTarget({ publishClient: redis.publish, subscribeClient: redis.subscribe })
      : inProcessTarget(),
  });
  return {
    publishRequestEvent: (message) => pubsub.publish(`${prefix}access-request:${message.organizationId}`, message),
    requestEvents: (organizationId) => pubsub.subscribe(`${prefix}access-request:${organizationId}`),
    publishCoverageChanged: (organizationId) => pubsub.publish(`${prefix}coverage-changed`, { organizationId }),
    coverageChanges: () => pubsub.subscribe(`${prefix}coverage-changed`),
    publishActorsChanged: (organizationId) => pubsub.publish(`${prefix}actors-changed`, { organizationId }),
    actorsChanges: () => pubsub.subscribe(`${prefix}actors-changed`),
  };
}

/** Effect handlers that publish transitions and configuration changes after commit. */
export function eventEffectHandlers(bus: EventBus): EffectHandlers {
  return {
    requestEvent: async ({ type, requestId, organizationId, at }) =>
      bus.publishRequestEvent({ type, requestId, organizationId, at: at.toISOString() }),
    coverageChanged: async ({ organizationId }) => bus.publishCoverageChanged(organizationId),
    actorsChanged: async ({ organizationId }) => bus.publishActorsChanged(organizationId),
  };
}

/** Drops this instance's cached policy coverage whenever any instance changes it. */
export async function followCoverageChanges(bus: EventBus): Promise<void> {
  for await (const { organizationId } of bus.coverageChanges()) invalidateCoverage(organizationId);
}

/** Drops this instance's cached actors of an organization whenever any instance changes its users. */
export async function followActorChanges(bus: EventBus): Promise<void> {
  for await (const { organizationId } of bus.actorsChanges()) invalidateActors(organizationId);
}

/**
 * Invalidations travel on the event connection: while it is down the caches keep
 * nothing, and once it is back they start over (what was missed meanwhile is gone).
 */
export function followEventConnection(subscribe: Redis): void {
  const set = (connected: boolean) => {
    invalidateAllCoverage(connected);
    invalidateAllActors(connected);
  };
  subscribe.on("ready", () => set(true));
  subscribe.on("close", () => set(false));
}
