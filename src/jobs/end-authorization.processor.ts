import { endAccessAuthorization } from "../domain/authorizations/authorizations.service.ts";
import { serviceContext } from "../domain/context.ts";
import { type JobProcessor, type ProcessorDeps, payloadOf, sleepUntil } from "./processing.ts";

/**
 * Ends an authorization at its endsAt. The conditional transition does nothing when
 * it was revoked, ended or deleted meanwhile.
 */
export function endAuthorizationProcessor(deps: ProcessorDeps): JobProcessor {
  return async (job, token) => {
    const { authorizationId, organizationId, correlationId } = payloadOf("endAuthorization", job);
    const outcome = await endAccessAuthorization(
      serviceContext(deps, organizationId, null, correlationId ?? null),
      authorizationId,
    );
    if (outcome.kind === "notDue") return sleepUntil(job, token, outcome.at);
    return { ended: outcome.kind === "done" };
  };
}
