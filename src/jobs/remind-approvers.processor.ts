import { serviceContext } from "../domain/context.ts";
import { remindApprovers } from "../domain/requests/reminders.service.ts";
import { type JobProcessor, type ProcessorDeps, payloadOf, sleepUntil } from "./processing.ts";

/** Reminds a PENDING request's undecided approvers at each reminder point; nothing once it settled. */
export function remindApproversProcessor(deps: ProcessorDeps): JobProcessor {
  return async (job, token) => {
    const { requestId, organizationId, correlationId } = payloadOf("remindApprovers", job);
    const outcome = await remindApprovers(serviceContext(deps, organizationId, null, correlationId ?? null), requestId);
    if (outcome.kind === "notDue") return sleepUntil(job, token, outcome.at);
    return { reminded: outcome.kind === "done" };
  };
}
