import type { JobsOptions } from "bullmq";
import { z } from "zod";
import { isRequestId } from "../observability/request-context.ts";

interface JobDefinition<Payload extends z.ZodType> {
  /** One queue per kind of job, so each has its own concurrency and backlog. */
  queue: string;
  /** Ids only: the processor reloads everything else from the database. */
  payload: Payload;
  /** The row a job is about; its job id is derived from it. */
  subjectId: (payload: z.infer<Payload>) => string;
  /**
   * Deterministic and without ':' so that adding an existing job is a no-op and a
   * transition that makes the job pointless can remove it by id.
   */
  jobId: (subjectId: string) => string;
  /** Jobs processed at once by one worker process. */
  concurrency: number;
  /**
   * "deadline": a transition due at a moment (an expiry, a grant's start or end);
   * "follow-up": work a transition causes (mail, webhooks), which waits in a worker
   * while deadline jobs run there (deadlines-first.ts); "other": neither.
   */
  lane: "deadline" | "follow-up" | "other";
  options: JobsOptions;
}

function defineJob<Payload extends z.ZodType>(definition: JobDefinition<Payload>): JobDefinition<Payload> {
  return definition;
}

/**
 * Transitions are conditional and idempotent, so a failed attempt is simply retried.
 * Finished jobs are kept a while to be inspected; re-adding one of their ids is a
 * no-op, which is harmless because each of these jobs has nothing left to do once it
 * has run to completion.
 */
const transitionJobOptions: JobsOptions = {
  attempts: 8,
  backoff: { type: "exponential", delay: 1000 },
  removeOnComplete: { age: 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
};

/**
 * The request id (x-request-id) of the HTTP request that caused a job, when one did:
 * the job's log lines, and the mail and webhooks its transition causes, carry it.
 * Named apart from the access request ids that payloads also hold.
 */
const origin = { correlationId: z.string().refine(isRequestId, "must be a request id").optional() };

/** Every queue, its payload and its options: the one table of jobs. */
export const jobTable = {
  expireRequest: defineJob({
    queue: "request-expiry",
    payload: z.object({ requestId: z.uuid(), organizationId: z.uuid(), ...origin }),
    subjectId: (payload) => payload.requestId,
    jobId: (requestId) => `expire-${requestId}`,
    // Mostly waiting: the jobs running together expire in one transition (expire-request.processor.ts).
    concurrency: 100,
    lane: "deadline",
    options: transitionJobOptions,
  }),
  endAuthorization: defineJob({
    queue: "authorization-end",
    payload: z.object({ authorizationId: z.uuid(), organizationId: z.uuid(), ...origin }),
    subjectId: (payload) => payload.authorizationId,
    jobId: (authorizationId) => `end-${authorizationId}`,
    concurrency: 5,
    lane: "deadline",
    options: transitionJobOptions,
  }),
  activateAuthorization: defineJob({
    queue: "authorization-start",
    payload: z.object({ authorizationId: z.uuid(), organizationId: z.uuid(), ...origin }),
    subjectId: (payload) => payload.authorizationId,
    jobId: (authorizationId) => `start-${authorizationId}`,
    concurrency: 5,
    lane: "deadline",
    options: transitionJobOptions,
  }),
  noticeExpiring: defineJob({
    queue: "authorization-expiring",
    payload: z.object({ authorizationId: z.uuid(), organizationId: z.uuid(), ...origin }),
    subjectId: (payload) => payload.authorizationId,
    jobId: (authorizationId) => `expiring-${authorizationId}`,
    concurrency: 5,
    lane: "other",
    options: transitionJobOptions,
  }),
  remindApprovers: defineJob({
    queue: "request-reminder",
    // One job per request: it reminds at each point and sleeps until the next one.
    payload: z.object({ requestId: z.uuid(), organizationId: z.uuid(), ...origin }),
    subjectId: (payload) => payload.requestId,
    jobId: (requestId) => `remind-${requestId}`,
    concurrency: 5,
    lane: "other",
    options: transitionJobOptions,
  }),
  escalateRequest: defineJob({
    queue: "request-escalation",
    payload: z.object({ requestId: z.uuid(), organizationId: z.uuid(), ...origin }),
    subjectId: (payload) => payload.requestId,
    jobId: (requestId) => `escalate-${requestId}`,
    concurrency: 5,
    lane: "other",
    options: transitionJobOptions,
  }),
  sendMail: defineJob({
    queue: "mail",
    payload: z.object({ messageId: z.uuid(), ...origin }),
    subjectId: (payload) => payload.messageId,
    jobId: (messageId) => `mail-${messageId}`,
    // A job mostly waits (PostgreSQL, the SMTP server): a request mails each of its
    // approvers at once, and at 5 the worker sat idle half the time while mail queued.
    concurrency: 25,
    lane: "follow-up",
    // An SMTP server refusing for a while: retry with backoff for about an hour.
    options: { ...transitionJobOptions, attempts: 12, backoff: { type: "exponential", delay: 2000 } },
  }),
  deliverWebhook: defineJob({
    queue: "webhooks",
    // Each replay of a delivery is a job of its own, with its own retries.
    payload: z.object({ deliveryId: z.uuid(), replay: z.number().int().min(0), ...origin }),
    subjectId: (payload) => `${payload.deliveryId}-${payload.replay}`,
    jobId: (subject) => `webhook-${subject}`,
    concurrency: 10,
    lane: "follow-up",
    // Attempts and backoff come from WEBHOOK_ATTEMPTS and WEBHOOK_RETRY_SECONDS (jobOptions of JobQueues).
    options: { ...transitionJobOptions, attempts: 8, backoff: { type: "exponential", delay: 30_000 } },
  }),
};

export type JobKind = keyof typeof jobTable;
export type JobPayload<K extends JobKind> = z.infer<(typeof jobTable)[K]["payload"]>;
export const jobKinds = Object.keys(jobTable) as JobKind[];
