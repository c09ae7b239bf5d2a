import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import type { QuotaName, Quotas } from "../domain/context.ts";
import { RateLimitedError } from "../domain/errors.ts";
import type { SubscriptionSlots } from "../graphql/context.ts";

export interface QuotaSettings {
  /** Requests one user may file per hour. */
  requestsPerHour: number;
  /** authorizeTask calls one caller may make per minute. */
  authorizeTaskPerMinute: number;
  /** SCIM requests one organization's provisioning client may make per minute. */
  scimRequestsPerMinute: number;
  /** Subscriptions one user may hold open at once. */
  subscriptionsPerUser: number;
}

/** While Redis is unreachable, a quota that fails closed asks to come back after this long. */
const unavailableRetrySeconds = 5;

/**
 * Per-user quotas kept in Redis (rate-limiter-flexible), so every API instance counts
 * the same. While Redis is unreachable, request creation fails closed (a flood of
 * approval mail must not start because a counter is down) and checks fail open (an
 * enforcement point must keep answering).
 */
export function redisQuotas(redis: Redis, prefix: string, settings: QuotaSettings): Quotas {
  const limiters: Record<QuotaName, { limiter: RateLimiterRedis; failOpen: boolean; what: string }> = {
    requestCreation: {
      limiter: new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `${prefix}:quota:requests`,
        points: settings.requestsPerHour,
        duration: 3600,
      }),
      failOpen: false,
      what: `at most ${settings.requestsPerHour} requests an hour`,
    },
    authorizeTask: {
      limiter: new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `${prefix}:quota:authorize`,
        points: settings.authorizeTaskPerMinute,
        duration: 60,
      }),
      failOpen: true,
      what: `at most ${settings.authorizeTaskPerMinute} checks a minute`,
    },
    // Open: deprovisioning must not wait for a counter to come back.
    scimRequests: {
      limiter: new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `${prefix}:quota:scim`,
        points: settings.scimRequestsPerMinute,
        duration: 60,
      }),
      failOpen: true,
      what: `at most ${settings.scimRequestsPerMinute} SCIM requests a minute`,
    },
  };
  return {
    async consume(name, key) {
      const { limiter, failOpen, what } = limiters[name];
      try {
        await limiter.consume(key);
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) {
          const retryAfterSeconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
          throw new RateLimitedError(
            `over the quota of ${what}; try again in ${retryAfterSeconds} s`,
            retryAfterSeconds,
          );
        }
        if (failOpen) return;
        throw new RateLimitedError(
          "the quota store is unreachable, so no request can be filed right now; try again shortly",
          unavailableRetrySeconds,
        );
      }
    },
  };
}

/** How long a lease lives unless its instance renews it (every third of it). */
const leaseMs = 60_000;

/**
 * A sorted set per user whose members are open streams, scored by when their lease
 * lapses: counting live members across instances needs no coordination, and a
 * stream of an instance that died stops counting once its lease lapses. Fails open.
 */
export function redisSubscriptionSlots(redis: Redis, prefix: string, perUser: number): SubscriptionSlots {
  return {
    async acquire(userId) {
      const key = `${prefix}:quota:subscriptions:${userId}`;
      const member = randomUUID();
      let open: number;
      try {
        const now = Date.now();
        const replies = await redis
          .multi()
          .zremrangebyscore(key, "-inf", now)
          .zadd(key, now + leaseMs, member)
          .zcard(key)
          .pexpire(key, leaseMs)
          .exec();
        open = Number(replies?.[2]?.[1] ?? 0);
      } catch {
        return async () => {};
      }
      const release = async () => {
        clearInterval(renew);
        await redis.zrem(key, member).catch(() => {});
      };
      const renew = setInterval(() => {
        redis
          .multi()
          .zadd(key, Date.now() + leaseMs, member)
          .pexpire(key, leaseMs)
          .exec()
          .catch(() => {});
      }, leaseMs / 3);
      renew.unref();
      if (open > perUser) {
        await release();
        throw new RateLimitedError(`at most ${perUser} open subscriptions per user; close one first`, 30);
      }
      return release;
    },
  };
}
