import { serviceContext } from "../domain/context.ts";
import { escalateRequest } from "../domain/requests/escalation.service.ts";
import { type JobProcessor, type ProcessorDeps, payloadOf, sleepUntil } from "./processing.ts";

/** Escalates a PENDING request at its policy's escalation moment; nothing once it settled or escalated. */
export function escalateRequestProcessor(deps: ProcessorDeps): JobProcessor {
  return async (job, token) => {
    const { requestId, organizationId, correlationId } = payloadOf("escalateRequest", job);
    const outcome = await escalateRequest(serviceContext(deps, organizationId, null, correlationId ?? null), requestId);
    if (outcome.kind === "notDue") return sleepUntil(job, token, outcome.at);
    return { escalated: outcome.kind === "done" };
  };
}
