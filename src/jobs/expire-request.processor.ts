import { serviceContext } from "../domain/context.ts";
import { pendingRequestExpiry } from "../domain/requests/overdue.service.ts";
import { expireAccessRequest } from "../domain/requests/requests.service.ts";
import { type JobProcessor, type ProcessorDeps, payloadOf, sleepUntil } from "./processing.ts";

/**
 * Expires a request at its expiresAt. The conditional transition does nothing when
 * the request was decided, canceled, expired or deleted meanwhile.
 */
export function expireRequestProcessor(deps: ProcessorDeps): JobProcessor {
  return async (job, token) => {
    const { requestId, organizationId } = payloadOf("expireRequest", job);
    if (await expireAccessRequest(serviceContext(deps, organizationId, null), requestId)) return { expired: true };
    const expiresAt = await pendingRequestExpiry(deps.db, organizationId, requestId);
    if (expiresAt) return sleepUntil(job, token, expiresAt);
    return { expired: false };
  };
}
