import { endAccessAuthorization } from "../domain/authorizations/authorizations.service.ts";
import { serviceContext } from "../domain/context.ts";
import { activeAuthorizationEnd } from "../domain/requests/overdue.service.ts";
import { type JobProcessor, type ProcessorDeps, payloadOf, sleepUntil } from "./processing.ts";

/**
 * Ends an authorization at its endsAt. The conditional transition does nothing when
 * it was revoked, ended or deleted meanwhile.
 */
export function endAuthorizationProcessor(deps: ProcessorDeps): JobProcessor {
  return async (job, token) => {
    const { authorizationId, organizationId } = payloadOf("endAuthorization", job);
    if (await endAccessAuthorization(serviceContext(deps, organizationId, null), authorizationId))
      return { ended: true };
    const endsAt = await activeAuthorizationEnd(deps.db, organizationId, authorizationId);
    if (endsAt) return sleepUntil(job, token, endsAt);
    return { ended: false };
  };
}
