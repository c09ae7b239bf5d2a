import { batched } from "../db/batch.ts";
import type { DeadlineOutcome } from "../domain/context.ts";
import { serviceContext } from "../domain/context.ts";
import { type DueRequest, expireAccessRequests } from "../domain/requests/requests.service.ts";
import { type JobProcessor, type ProcessorDeps, payloadOf, sleepUntil } from "./processing.ts";

/** Requests expired in one transition at most. */
const maxBatch = 500;

/**
 * Expires a request at its expiresAt. The conditional transition does nothing when
 * the request was decided, canceled, expired or deleted meanwhile. The jobs of one
 * organization that run at the same time share one transition (a burst of deadlines
 * would otherwise queue on the organization's audit chain one by one); each job still
 * answers for its own request.
 */
export function expireRequestProcessor(deps: ProcessorDeps): JobProcessor {
  const perOrganization = new Map<string, (due: DueRequest) => Promise<DeadlineOutcome>>();
  const expire = (organizationId: string) => {
    let run = perOrganization.get(organizationId);
    if (!run) {
      run = batched(
        (due: DueRequest[]) => {
          // A lone job keeps its request id on everything the transition causes; a batch, on each mail.
          const shared = due.every((entry) => entry.correlationId === due[0]!.correlationId);
          const ctx = serviceContext(deps, organizationId, null, shared ? due[0]!.correlationId : null);
          return expireAccessRequests(ctx, due);
        },
        { maxBatch, inFlight: 1 },
      );
      perOrganization.set(organizationId, run);
    }
    return run;
  };
  return async (job, token) => {
    const { requestId, organizationId, correlationId } = payloadOf("expireRequest", job);
    const outcome = await expire(organizationId)({ requestId, correlationId: correlationId ?? null });
    if (outcome.kind === "notDue") return sleepUntil(job, token, outcome.at);
    return { expired: outcome.kind === "done" };
  };
}
