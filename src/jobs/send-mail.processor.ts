import { deliverMail, recordMailFailure } from "../email/deliver.ts";
import { type JobProcessor, type ProcessorDeps, payloadOf } from "./processing.ts";
import { jobTable } from "./queues.ts";

/**
 * Sends one outbox message. A failure is recorded on the row and thrown, so the
 * queue retries with backoff; a message already SENT is never sent again.
 */
export function sendMailProcessor(deps: ProcessorDeps): JobProcessor {
  return async (job) => {
    const { messageId } = payloadOf("sendMail", job);
    try {
      const outcome = await deliverMail({ db: deps.db, ...deps.delivery }, messageId);
      deps.metrics?.mail.inc({ outcome });
      return { outcome };
    } catch (error) {
      const final = job.attemptsMade + 1 >= (job.opts.attempts ?? jobTable.sendMail.options.attempts ?? 1);
      await recordMailFailure(deps.db, messageId, error, final);
      deps.metrics?.mail.inc({ outcome: final ? "failed" : "retried" });
      throw error;
    }
  };
}
