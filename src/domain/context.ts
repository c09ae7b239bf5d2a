import type { Db, PrincipalKind, User, UserRole } from "../db/client.ts";
import type { AuditKeys } from "./audit/audit-keys.ts";

/** The authenticated caller, resolved from a verified token. */
export interface Actor {
  id: string;
  organizationId: string;
  organizationName: string;
  email: string;
  displayName: string;
  kind: PrincipalKind;
  roles: UserRole[];
  /** An eligible member of at least one approver group (a MEMBER principal in one). */
  approver: boolean;
  /**
   * The vendor this identity is registered for (Customer Lockbox, requests/lockbox.ts): it
   * files only Lockbox requests, sees only its own, never decides and holds no role.
   */
  vendor?: string | null;
  /**
   * How this caller signed in, from the bearer token of this operation; absent where no
   * token was shown (email links, jobs, the directory), which never counts as multi-factor.
   */
  authentication?: Authentication;
  /**
   * The caller's row as read when this actor was resolved, as fresh as the actor: a cached
   * actor is dropped at every change of its organization's users (actor-cache.ts). `me`
   * answers from it without a query.
   */
  user?: User;
}

/** A token's authentication claims: `amr` (methods, e.g. pwd, mfa) and `acr` (context class). */
export interface Authentication {
  methods: string[];
  context: string | null;
}

/** Work that follows a committed transition: waking jobs, publishing events. */
export type Effect =
  | {
      kind: "requestCreated";
      requestId: string;
      organizationId: string;
      expiresAt: Date;
      /** The first reminder to undecided approvers, when the organization sets any before expiry. */
      remindAt?: Date | null;
      /** When the policy's escalation group becomes eligible and is mailed, when it has one before expiry. */
      escalateAt?: Date | null;
    }
  | { kind: "requestSettled"; requestId: string }
  | { kind: "authorizationStarted"; authorizationId: string; organizationId: string; endsAt: Date }
  | { kind: "authorizationSettled"; authorizationId: string }
  /** A grant approved for a later start: the worker makes it ACTIVE at startsAt. */
  | { kind: "authorizationScheduled"; authorizationId: string; organizationId: string; startsAt: Date }
  /** An ACTIVE grant's endsAt moved later (an approved extension): its end job moves with it. */
  | { kind: "authorizationExtended"; authorizationId: string; organizationId: string; endsAt: Date }
  | { kind: "mailQueued"; messageIds: string[] }
  | { kind: "requestEvent"; requestId: string; organizationId: string; type: AccessRequestEventType; at: Date }
  | { kind: "coverageChanged"; organizationId: string }
  /** A user, an approver group's membership or the organization changed: cached actors are stale. */
  | { kind: "actorsChanged"; organizationId: string }
  /** Webhook deliveries recorded (or replayed) in the transaction: each `replay` runs as a job of its own. */
  | { kind: "webhooksQueued"; deliveries: { deliveryId: string; replay: number }[] };

export type AccessRequestEventType =
  | "CREATED"
  | "DECISION_RECORDED"
  /** A stage of a multi-stage request met its quorum; the next stage's approvers are asked. */
  | "STAGE_COMPLETED"
  /** Undecided past its policy's escalation hours: the escalation group may decide too, and was mailed. */
  | "ESCALATED"
  | "APPROVED"
  | "DENIED"
  | "EXPIRED"
  | "CANCELED"
  | "REVOKED"
  | "ENDED";

/** What a deadline transition (a request's expiry, a grant's end) did when its moment was asked for. */
export type DeadlineOutcome =
  | { kind: "done" }
  /** Not due yet by this host's clock: try again at `at`. */
  | { kind: "notDue"; at: Date }
  /** Decided, canceled, revoked, ended or gone meanwhile: nothing left to do. */
  | { kind: "settled" };

/** What caused a batch of effects: the request id of the HTTP request (or job) behind it, if any. */
export interface EffectOrigin {
  correlationId: string | null;
}

/** What to do after commit for each kind of effect; kinds without a handler are ignored. */
export type EffectHandlers = {
  [K in Effect["kind"]]?: (effect: Extract<Effect, { kind: K }>, origin: EffectOrigin) => Promise<void>;
};

/**
 * Carries effects out after commit. Failing here never undoes a transition: the
 * reconciler re-creates lost jobs from the database, which holds the truth.
 */
export interface EffectSink {
  dispatch(effects: Effect[], origin?: EffectOrigin): Promise<void>;
}

/** What a user may do how often, across every API instance (kept in Redis at the edge). */
export type QuotaName = "requestCreation" | "authorizeTask" | "scimRequests";

export interface Quotas {
  /** Spends one unit of `name` for `key`; throws RateLimitedError when none is left. */
  consume(name: QuotaName, key: string): Promise<void>;
}

/** For contexts no person drives (jobs, the reconciler) and tests of other rules. */
export const unlimitedQuotas: Quotas = { consume: async () => {} };

export interface ServiceContext {
  db: Db;
  organizationId: string;
  /** Null for the system itself (jobs, reconciler). */
  actor: Actor | null;
  effects: EffectSink;
  /** The operation's time source: every rule about time reads it, so tests can set the time. */
  clock: () => Date;
  quotas: Quotas;
  auditKeys: AuditKeys;
  /**
   * The request id (x-request-id) of the HTTP request this operation serves, or of the
   * one that caused the job running it: carried into the jobs, mail and webhooks it causes.
   */
  correlationId: string | null;
  webhookSettings: WebhookSettings;
}

/** The operator's rules for webhooks (WEBHOOKS_ALLOW_PRIVATE, WEBHOOK_FAILURES_TO_DISABLE). */
export interface WebhookSettings {
  /** Deliveries to this host and private networks, and plain http://, are allowed (tests, closed networks). */
  allowPrivateAddresses: boolean;
  /** Deliveries in a row that fail for good before an endpoint is disabled. */
  failuresToDisable: number;
}

export const defaultWebhookSettings: WebhookSettings = { allowPrivateAddresses: false, failuresToDisable: 5 };

/** What every door shares when it builds a context: the database, the effect sink and the clock. */
export interface ServiceDeps {
  db: Db;
  effects: EffectSink;
  clock?: () => Date;
  quotas?: Quotas;
  auditKeys: AuditKeys;
  webhookSettings?: WebhookSettings;
}

const systemClock = () => new Date();

/** The clock a door's contexts read. */
export function clockOf(deps: Pick<ServiceDeps, "clock">): () => Date {
  return deps.clock ?? systemClock;
}

/** The one way to build a ServiceContext: GraphQL, the email pages, jobs and tests all call it. */
export function serviceContext(
  deps: ServiceDeps,
  organizationId: string,
  actor: Actor | null,
  correlationId: string | null = null,
): ServiceContext {
  return {
    correlationId,
    db: deps.db,
    effects: deps.effects,
    clock: clockOf(deps),
    quotas: deps.quotas ?? unlimitedQuotas,
    auditKeys: deps.auditKeys,
    webhookSettings: deps.webhookSettings ?? defaultWebhookSettings,
    organizationId,
    actor,
  };
}
