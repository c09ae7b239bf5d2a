import { UnrecoverableError } from "bullmq";
import { serviceContext } from "../domain/context.ts";
import { dueWebhookDelivery, recordWebhookAttempt, signingSecrets } from "../domain/webhooks/webhooks.service.ts";
import { WebhookAddressRefusedError } from "../webhooks/sender.ts";
import { type JobProcessor, type ProcessorDeps, payloadOf } from "./processing.ts";

/** Why an answer is not a delivery: anything but 2xx; redirects are never followed. */
function answerProblem(status: number): string | null {
  if (status >= 200 && status < 300) return null;
  if (status >= 300 && status < 400) return `HTTP ${status}: redirects are not followed`;
  return `HTTP ${status}`;
}

/**
 * One attempt of a webhook delivery: signed with the endpoint's secrets (the previous
 * one too during its grace period), recorded whatever happens. A failure is thrown so
 * the queue retries with exponential backoff; a refused address is not retried.
 */
export function deliverWebhookProcessor(deps: ProcessorDeps): JobProcessor {
  return async (job) => {
    const { deliveryId, replay, correlationId } = payloadOf("deliverWebhook", job);
    const delivery = await dueWebhookDelivery(deps.db, deliveryId, replay);
    if (!delivery) {
      deps.metrics?.webhooks.inc({ outcome: "skipped" });
      return { outcome: "skipped" };
    }
    const at = new Date();
    const started = performance.now();
    let responseStatus: number | null = null;
    let error: string | null;
    let refused = false;
    try {
      responseStatus = await deps.webhooks.send({
        url: delivery.endpoint.url,
        messageId: `msg_${delivery.id}`,
        body: JSON.stringify(delivery.payload),
        secrets: signingSecrets(deps.auditKeys, delivery.endpoint, at),
        requestId: delivery.correlationId,
      });
      error = answerProblem(responseStatus);
    } catch (failure) {
      refused = failure instanceof WebhookAddressRefusedError;
      error = failure instanceof Error ? failure.message : String(failure);
    }
    const final = error !== null && (refused || job.attemptsMade + 1 >= (job.opts.attempts ?? 1));
    const outcome = await recordWebhookAttempt(
      serviceContext(deps, delivery.organizationId, null, correlationId ?? delivery.correlationId),
      { deliveryId, replay, at, durationMs: performance.now() - started, responseStatus, error, final },
    );
    deps.metrics?.webhooks.inc({ outcome });
    if (error === null) return { outcome, responseStatus };
    if (refused) throw new UnrecoverableError(error);
    throw new Error(error);
  };
}
