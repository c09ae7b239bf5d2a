import { activateAccessAuthorization } from "../domain/authorizations/authorizations.service.ts";
import { serviceContext } from "../domain/context.ts";
import { type JobProcessor, type ProcessorDeps, payloadOf, sleepUntil } from "./processing.ts";

/**
 * Makes a SCHEDULED authorization ACTIVE at its startsAt. The conditional transition
 * does nothing when it was revoked, ended early or deleted meanwhile.
 */
export function activateAuthorizationProcessor(deps: ProcessorDeps): JobProcessor {
  return async (job, token) => {
    const { authorizationId, organizationId, correlationId } = payloadOf("activateAuthorization", job);
    const outcome = await activateAccessAuthorization(
      serviceContext(deps, organizationId, null, correlationId ?? null),
      authorizationId,
    );
    if (outcome.kind === "notDue") return sleepUntil(job, token, outcome.at);
    return { started: outcome.kind === "done" };
  };
}
