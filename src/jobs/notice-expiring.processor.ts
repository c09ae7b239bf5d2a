import { noticeExpiringAccess } from "../domain/authorizations/authorizations.service.ts";
import { serviceContext } from "../domain/context.ts";
import { type JobProcessor, type ProcessorDeps, payloadOf, sleepUntil } from "./processing.ts";

/** Tells the grantee their access ends soon; nothing when it ended, was revoked or is gone. */
export function noticeExpiringProcessor(deps: ProcessorDeps): JobProcessor {
  return async (job, token) => {
    const { authorizationId, organizationId, correlationId } = payloadOf("noticeExpiring", job);
    const outcome = await noticeExpiringAccess(
      serviceContext(deps, organizationId, null, correlationId ?? null),
      authorizationId,
    );
    if (outcome.kind === "notDue") return sleepUntil(job, token, outcome.at);
    return { noticed: outcome.kind === "done" };
  };
}
