import type { Logger } from "pino";
import { expiringNoticeMinutes } from "../domain/authorizations/authorizations.service.ts";
import type { Effect, EffectHandlers, EffectOrigin, EffectSink } from "../domain/context.ts";
import type { JobQueues } from "./producer.ts";

const noticeAt = (endsAt: Date) => new Date(endsAt.getTime() - expiringNoticeMinutes * 60_000);

/** Wakes the worker at a request's expiry and an authorization's end, cancels pointless wake-ups, sends mail and webhooks. */
export function jobEffectHandlers(queues: JobQueues): EffectHandlers {
  const from = (origin: EffectOrigin) => (origin.correlationId ? { correlationId: origin.correlationId } : {});
  return {
    requestCreated: async ({ requestId, organizationId, expiresAt, remindAt, escalateAt }, origin) => {
      const payload = { requestId, organizationId, ...from(origin) };
      await queues.schedule("expireRequest", [{ payload, at: expiresAt }]);
      if (remindAt) await queues.schedule("remindApprovers", [{ payload, at: remindAt }]);
      if (escalateAt) await queues.schedule("escalateRequest", [{ payload, at: escalateAt }]);
    },
    requestSettled: async ({ requestId }) => {
      await queues.cancel("expireRequest", requestId);
      await queues.cancel("remindApprovers", requestId);
      await queues.cancel("escalateRequest", requestId);
    },
    authorizationStarted: async ({ authorizationId, organizationId, endsAt }, origin) => {
      const payload = { authorizationId, organizationId, ...from(origin) };
      await queues.schedule("endAuthorization", [{ payload, at: endsAt }]);
      await queues.schedule("noticeExpiring", [{ payload, at: noticeAt(endsAt) }]);
    },
    authorizationScheduled: ({ authorizationId, organizationId, startsAt }, origin) =>
      queues.schedule("activateAuthorization", [
        { payload: { authorizationId, organizationId, ...from(origin) }, at: startsAt },
      ]),
    authorizationSettled: async ({ authorizationId }) => {
      await queues.cancel("endAuthorization", authorizationId);
      await queues.cancel("activateAuthorization", authorizationId);
      await queues.cancel("noticeExpiring", authorizationId);
    },
    // Removes the end job and adds it at the new end. A job already running cannot be
    // removed: it finds the grant not due yet and sleeps until the new endsAt.
    authorizationExtended: async ({ authorizationId, organizationId, endsAt }, origin) => {
      const payload = { authorizationId, organizationId, ...from(origin) };
      await queues.cancel("endAuthorization", authorizationId);
      await queues.schedule("endAuthorization", [{ payload, at: endsAt }]);
      await queues.cancel("noticeExpiring", authorizationId);
      await queues.schedule("noticeExpiring", [{ payload, at: noticeAt(endsAt) }]);
    },
    mailQueued: ({ messageIds }, origin) =>
      queues.schedule(
        "sendMail",
        messageIds.map((messageId) => ({ payload: { messageId, ...from(origin) }, at: new Date() })),
      ),
    webhooksQueued: ({ deliveries }, origin) =>
      queues.schedule(
        "deliverWebhook",
        deliveries.map(({ deliveryId, replay }) => ({
          payload: { deliveryId, replay, ...from(origin) },
          at: new Date(),
        })),
      ),
  };
}

/**
 * Carries out effects with every handler set, all at once. Never throws: the
 * transaction has already committed, so a failure is logged and left to the
 * reconciler, which rebuilds jobs from the database.
 */
export function createEffectSink(handlerSets: EffectHandlers[], logger: Logger): EffectSink {
  return {
    async dispatch(effects, origin = { correlationId: null }) {
      await Promise.all(
        effects.flatMap((effect) =>
          handlerSets.map(async (handlers) => {
            const handler = handlers[effect.kind] as
              | ((effect: Effect, origin: EffectOrigin) => Promise<void>)
              | undefined;
            if (!handler) return;
            try {
              await handler(effect, origin);
            } catch (error) {
              logger.warn({ err: error, effect }, "effect not carried out; the reconciler will catch up");
            }
          }),
        ),
      );
    },
  };
}
