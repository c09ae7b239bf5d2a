import { serviceContext } from "../domain/context.ts";
import { expireAccessRequest } from "../domain/requests/requests.service.ts";
import { type JobProcessor, type ProcessorDeps, payloadOf, sleepUntil } from "./processing.ts";

/**
 * Expires a request at its expiresAt. The conditional transition does nothing when
 * the request was decided, canceled, expired or deleted meanwhile.
 */
export function expireRequestProcessor(deps: ProcessorDeps): JobProcessor {
  return async (job, token) => {
    const { requestId, organizationId, correlationId } = payloadOf("expireRequest", job);
    const outcome = await expireAccessRequest(
      serviceContext(deps, organizationId, null, correlationId ?? null),
      requestId,
    );
    if (outcome.kind === "notDue") return sleepUntil(job, token, outcome.at);
    return { expired: outcome.kind === "done" };
  };
}
