import type { Logger } from "pino";
import type { Effect, EffectHandlers, EffectSink } from "../domain/context.ts";
import type { JobQueues } from "./producer.ts";

/** Wakes the worker at a request's expiry and an authorization's end, cancels pointless wake-ups, sends mail. */
export function jobEffectHandlers(queues: JobQueues): EffectHandlers {
  return {
    requestCreated: ({ requestId, organizationId, expiresAt }) =>
      queues.schedule("expireRequest", [{ payload: { requestId, organizationId }, at: expiresAt }]),
    requestSettled: async ({ requestId }) => {
      await queues.cancel("expireRequest", requestId);
    },
    authorizationStarted: ({ authorizationId, organizationId, endsAt }) =>
      queues.schedule("endAuthorization", [{ payload: { authorizationId, organizationId }, at: endsAt }]),
    authorizationSettled: async ({ authorizationId }) => {
      await queues.cancel("endAuthorization", authorizationId);
    },
    mailQueued: ({ messageIds }) =>
      queues.schedule(
        "sendMail",
        messageIds.map((messageId) => ({ payload: { messageId }, at: new Date() })),
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
    async dispatch(effects) {
      await Promise.all(
        effects.flatMap((effect) =>
          handlerSets.map(async (handlers) => {
            const handler = handlers[effect.kind] as ((effect: Effect) => Promise<void>) | undefined;
            if (!handler) return;
            try {
              await handler(effect);
            } catch (error) {
              logger.warn({ err: error, effect }, "effect not carried out; the reconciler will catch up");
            }
          }),
        ),
      );
    },
  };
}
