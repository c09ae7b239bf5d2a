import type { Db } from "../db/client.ts";
import type { Actor, EffectSink, ServiceContext } from "../domain/context.ts";
import type { EventBus } from "../domain/events.ts";
import type { Metrics } from "../observability/metrics.ts";

/** Open subscriptions of one user, counted across instances (implemented at the edge). */
export interface SubscriptionSlots {
  /** Takes a slot for a stream or throws RateLimitedError; the returned function gives it back. */
  acquire(userId: string): Promise<() => Promise<void>>;
}

/** Built once per operation before Yoga executes it; read-only afterwards. */
export interface GraphQLContext {
  db: Db;
  actor: Actor;
  /** When the caller's token stops being valid; subscriptions end then. */
  tokenExpiresAt: Date;
  /**
   * The operation came over graphql-ws. Its socket closes with 4401 at the token's
   * expiry (http/app.ts), so its subscriptions leave that to the socket: completing them
   * first would let a lazy client close the socket itself (1000) and never learn why.
   */
  overWebSocket: boolean;
  effects: EffectSink;
  events: EventBus;
  services: ServiceContext;
  /** Counts the caller's open subscriptions across instances. */
  subscriptionSlots: SubscriptionSlots;
  /** This process's metrics, when it keeps them. */
  metrics: Metrics | null;
  /** The caller as the database has them now (roles, kind, existence): open streams re-check with it. */
  reloadActor(): Promise<Actor | null>;
}
