import { z } from "zod";
import {
  type AccessRequest,
  type AccessRequestStatus,
  type CatalogEntry,
  type DecisionChannel,
  Prisma,
  type Tx,
} from "../../db/client.ts";
import { requireActor } from "../access.ts";
import { eligibleApproverIds, mayDecide } from "../approver-groups/eligibility.ts";
import { extendGrant } from "../authorizations/extensions.service.ts";
import { findCatalogEntry, maxGrantHours, targetKindFields } from "../catalog/catalog.service.ts";
import type { DeadlineOutcome, ServiceContext } from "../context.ts";
import {
  AlreadyDecidedError,
  ConflictError,
  ControlDisabledError,
  ForbiddenError,
  LimitExceededError,
  NoPolicyError,
  NotAnApproverError,
  NotFoundError,
  RequestExpiredError,
  SelfApprovalError,
  ValidationError,
} from "../errors.ts";
import { type OutgoingMail, queueMail } from "../notifications/notifications.service.ts";
import { unmetConditionsFor } from "../policies/auto-approval.ts";
import {
  describeStricter,
  type GoverningPolicy,
  mostSpecific,
  stricterIn,
  strictestOf,
  termsOf,
} from "../policies/strictness.ts";
import { checkTicket, ticketReference } from "../policies/tickets.ts";
import { type TransitionScope, transition } from "../transition.ts";
import { entityId, nonEmptyText, optionalText, parseInput, wholeHours } from "../validation.ts";
import { escalationOf } from "./escalation.service.ts";
import { lockboxTerms } from "./lockbox.ts";
import { nextReminder } from "./reminders.service.ts";
import { assertTransition, requestTransitions } from "./request-states.ts";
import { advanceStage, nextStageOf } from "./stages.ts";
import { assertStepUp, stepUpRule } from "./step-up.ts";

const hour = 3_600_000;

const createInput = z.object({
  ...targetKindFields,
  target: nonEmptyText(256),
  reason: nonEmptyText(2000),
  durationHours: wholeHours(maxGrantHours).nullish(),
  ticket: ticketReference.nullish(),
  startsAt: z.date("must be a date-time").nullish(),
});

/** How far ahead a request may ask its access to start. */
export const maxScheduleAheadDays = 14;

/** A requested start: null for "at approval"; otherwise in the future and at most 14 days ahead. */
function scheduledStart(startsAt: Date | null | undefined, now: Date): Date | null {
  if (startsAt == null) return null;
  if (startsAt.getTime() <= now.getTime()) throw new ValidationError("startsAt", "must be in the future");
  if (startsAt.getTime() > now.getTime() + maxScheduleAheadDays * 24 * hour) {
    throw new ValidationError("startsAt", `must be at most ${maxScheduleAheadDays} days ahead`);
  }
  return startsAt;
}

/**
 * Moves a request out of `from` with one conditional UPDATE; false when another
 * writer moved it first (or `where` no longer holds), so a race never transitions twice.
 */
async function moveRequest(
  tx: Tx,
  id: string,
  from: AccessRequestStatus,
  to: AccessRequestStatus,
  data: Prisma.AccessRequestUpdateManyMutationInput,
  where: Prisma.AccessRequestWhereInput = {},
): Promise<boolean> {
  assertTransition(requestTransitions, from, to);
  const { count } = await tx.accessRequest.updateMany({
    where: { ...where, id, status: from },
    data: { ...data, status: to },
  });
  return count === 1;
}

type PolicyAtDepth = GoverningPolicy & {
  depth: number;
  requireMfa: boolean;
  autoApproveWhen: unknown;
  laterStages: Prisma.JsonValue;
};

const policyColumns = Prisma.sql`p.id::text, p.target, p."approvalType", p."approverGroupId"::text,
  p."requiredApprovals", p."maxDurationHours", p."requireMfa", p."autoApproveWhen", p."laterStages",
  COALESCE(jsonb_array_length(p."laterStages"), 0) + 1 AS "stageCount"`;

/** The policies over a catalog entry: on itself (depth 0), on what contains it (1, 2, ...). */
async function policiesOver(tx: Tx, organizationId: string, catalogEntryId: string): Promise<PolicyAtDepth[]> {
  return tx.$queryRaw<PolicyAtDepth[]>`
    WITH RECURSIVE ancestors(id, depth) AS (
      SELECT ${catalogEntryId}::uuid, 0
      UNION
      SELECT m."parentId", a.depth + 1 FROM "CatalogMembership" m JOIN ancestors a ON m."childId" = a.id
    )
    SELECT ${policyColumns}, a.depth FROM "ApprovalPolicy" p JOIN ancestors a ON p."catalogEntryId" = a.id
    WHERE p."organizationId" = ${organizationId}::uuid`;
}

/** Every task inside a role or role group, with the policies over each (from anywhere in the catalog). */
async function policiesOverTasksInside(tx: Tx, organizationId: string, containerId: string) {
  const rows = await tx.$queryRaw<(PolicyAtDepth & { taskId: string })[]>`
    WITH RECURSIVE inside(id) AS (
      SELECT ${containerId}::uuid
      UNION
      SELECT m."childId" FROM "CatalogMembership" m JOIN inside i ON m."parentId" = i.id
    ), over(task, id, depth) AS (
      SELECT e.id, e.id, 0 FROM "CatalogEntry" e JOIN inside i ON e.id = i.id WHERE e.type = 'TASK'
      UNION
      SELECT o.task, m."parentId", o.depth + 1 FROM "CatalogMembership" m JOIN over o ON m."childId" = o.id
    )
    SELECT o.task::text AS "taskId", ${policyColumns}, o.depth
    FROM over o JOIN "ApprovalPolicy" p ON p."catalogEntryId" = o.id
    WHERE p."organizationId" = ${organizationId}::uuid`;
  const byTask = new Map<string, PolicyAtDepth[]>();
  for (const { taskId, ...policy } of rows) byTask.set(taskId, [...(byTask.get(taskId) ?? []), policy]);
  return [...byTask.values()];
}

/**
 * The policy a request is filed under: the most specific one over its target (when
 * several are equally specific, the one whose approval satisfies the others). A
 * role or role group is refused while a task inside it is governed by a policy its
 * approval would not satisfy: the grant could not cover that task anyway (see
 * policies/strictness.ts), and a request that looks broader than it is misleads.
 */
async function policyForRequest(tx: Tx, organizationId: string, entry: CatalogEntry, durationHours: number) {
  const over = await policiesOver(tx, organizationId, entry.id);
  if (over.length === 0) throw new NoPolicyError(`target: no approval policy covers ${entry.name}`);
  const candidates = mostSpecific(over);
  const policy = strictestOf(candidates, durationHours);
  if (!policy) {
    throw new ValidationError(
      "target",
      `is covered by equally specific policies that ask for different approvals (${candidates.map((candidate) => candidate.target).join(", ")}); request a task, role or role group that only one of them covers`,
    );
  }
  if (policy.maxDurationHours !== null && durationHours > policy.maxDurationHours) {
    throw new ValidationError("durationHours", `must be at most ${policy.maxDurationHours} hours under its policy`);
  }
  if (entry.type !== "TASK") {
    const terms = termsOf(policy, durationHours);
    const stricter = new Map<string, string>();
    for (const policies of await policiesOverTasksInside(tx, organizationId, entry.id)) {
      for (const governing of mostSpecific(policies)) {
        const dimensions = governing.id === policy.id ? [] : stricterIn(governing, terms);
        if (dimensions.length) stricter.set(governing.id, describeStricter(governing, dimensions));
      }
    }
    if (stricter.size > 0) {
      throw new ValidationError(
        "target",
        `${entry.name} contains tasks governed by stricter policies: ${[...stricter.values()].sort().join("; ")}. Request those on their own, or ask for fewer hours where only the duration differs`,
      );
    }
  }
  return policy;
}

/**
 * Creates the grant of an approved request and records what follows from it; for
 * `hours` (fewer than asked when an approver shortened it), by default as asked.
 */
async function grantAccess(scope: TransitionScope, request: AccessRequest, hours = request.durationHours) {
  // An extension request moves the end of the grant it is for instead of creating one.
  if (request.extendsAuthorizationId) return extendGrant(scope, request, hours);
  // Approved before its requested start: SCHEDULED until then. Approved after it: from now.
  const scheduled = request.startsAt !== null && request.startsAt > scope.now;
  const startsAt = scheduled && request.startsAt ? request.startsAt : scope.now;
  const authorization = await scope.tx.accessAuthorization.create({
    data: {
      organizationId: request.organizationId,
      requestId: request.id,
      userId: request.requesterId,
      catalogEntryId: request.catalogEntryId,
      type: request.type,
      target: request.target,
      status: scheduled ? "SCHEDULED" : "ACTIVE",
      startsAt,
      endsAt: new Date(startsAt.getTime() + hours * hour),
    },
  });
  if (scheduled) {
    scope.effect({
      kind: "authorizationScheduled",
      authorizationId: authorization.id,
      organizationId: authorization.organizationId,
      startsAt,
    });
  }
  scope.effect({ kind: "requestSettled", requestId: request.id });
  scope.effect({
    kind: "authorizationStarted",
    authorizationId: authorization.id,
    organizationId: authorization.organizationId,
    endsAt: authorization.endsAt,
  });
  scope.effect({
    kind: "requestEvent",
    organizationId: request.organizationId,
    requestId: request.id,
    type: "APPROVED",
    at: scope.now,
  });
  await queueMail(scope, request.organizationId, [
    {
      template: "request-approved",
      recipientId: request.requesterId,
      requestId: request.id,
      authorizationId: authorization.id,
    },
  ]);
  return authorization;
}

/**
 * Keeps one requester from flooding approvers' inboxes: one open request per target
 * (a second names the first) and at most the organization's number of requests
 * waiting at once. Runs under a lock on the requester, so parallel requests count
 * each other.
 */
export async function assertRequesterMayFile(
  tx: Tx,
  requesterId: string,
  catalogEntryId: string,
  maxPending: number,
  now: Date,
): Promise<void> {
  // The lock orders this against a deactivation of the requester: one that committed
  // first is seen here, one that comes later cancels what this files.
  const [requester] = await tx.$queryRaw<{ active: boolean }[]>`
    SELECT active FROM "User" WHERE id = ${requesterId}::uuid FOR UPDATE`;
  if (!requester?.active) throw new ForbiddenError("requester: the user is deactivated");
  const pending = await tx.accessRequest.findMany({
    where: { requesterId, status: "PENDING", expiresAt: { gt: now } },
    select: { id: true, catalogEntryId: true, target: true },
  });
  const open = pending.find((request) => request.catalogEntryId === catalogEntryId);
  if (open) {
    throw new ConflictError(
      `target: you already have an open request for ${open.target} (${open.id}); cancel it or wait for its decision`,
    );
  }
  if (pending.length >= maxPending) {
    throw new LimitExceededError(
      `you have ${pending.length} requests waiting for a decision, the most this organization allows`,
    );
  }
}

/**
 * New-ElevatedAccessRequest. A vendor files a Customer Lockbox request (lockbox.ts)
 * under the organization's Lockbox terms; everyone else files under the policy over
 * the target.
 */
export async function createAccessRequest(ctx: ServiceContext, rawInput: unknown) {
  const actor = requireActor(ctx);
  const input = parseInput(createInput, rawInput);
  await ctx.quotas.consume("requestCreation", actor.id);
  return transition(ctx, async (scope) => {
    const { tx, now } = scope;
    const control = await tx.elevatedAccessControl.findUniqueOrThrow({ where: { organizationId: ctx.organizationId } });
    const lockbox = actor.vendor ? lockboxTerms(control, input.durationHours) : null;
    if (!lockbox && !control.enabled) {
      throw new ControlDisabledError("privileged access control is off: nothing needs approval");
    }
    const entry = await findCatalogEntry(tx, ctx.organizationId, input.type, input.scope, input.target);
    const durationHours = lockbox?.durationHours ?? input.durationHours ?? control.defaultDurationHours;
    const startsAt = scheduledStart(input.startsAt, now);
    const policy = lockbox ? null : await policyForRequest(tx, ctx.organizationId, entry, durationHours);
    if (policy) {
      checkTicket(
        await tx.approvalPolicy.findUniqueOrThrow({
          where: { id: policy.id },
          select: { ticketRequired: true, ticketPattern: true },
        }),
        input.ticket,
      );
    }
    await assertRequesterMayFile(tx, actor.id, entry.id, control.maxPendingRequestsPerUser, now);
    const unmet = policy
      ? await unmetConditionsFor(tx, policy, {
          organizationId: ctx.organizationId,
          requesterId: actor.id,
          durationHours,
          ticket: input.ticket ?? null,
          now,
        })
      : null;
    return fileRequest(scope, control, {
      requesterId: actor.id,
      ...(policy
        ? {
            policy,
            // A conditional policy that approves at once gives an AUTO grant: no person approved it.
            auto: policy.approvalType === "AUTO" || unmet?.length === 0,
          }
        : {
            policy: {
              id: null,
              approvalType: "MANUAL" as const,
              approverGroupId: lockbox!.approverGroupId,
              requiredApprovals: 1,
              requireMfa: false,
              laterStages: null,
            },
            auto: false,
            lockboxLifetimeHours: lockbox!.lifetimeHours,
          }),
      row: {
        type: input.type,
        scope: input.scope,
        target: entry.name,
        catalogEntryId: entry.id,
        reason: input.reason,
        durationHours,
        ticket: input.ticket ?? null,
        startsAt,
      },
      details: {
        ...(lockbox ? { kind: "CUSTOMER_LOCKBOX", vendor: actor.vendor } : {}),
        ...(input.ticket ? { ticket: input.ticket } : {}),
        ...(startsAt ? { startsAt } : {}),
        ...(unmet ? { autoApproval: { met: unmet.length === 0, unmet } } : {}),
      },
      approveAtOnce: async (request) => {
        const authorization = await grantAccess(scope, request);
        return {
          authorizationId: authorization.id,
          endsAt: authorization.endsAt,
          ...(unmet ? { by: "conditions" } : {}),
        };
      },
    });
  });
}

/** The approval terms a request copies from its policy when filed: a later policy change does not move it. */
type FiledPolicy = Pick<PolicyAtDepth, "approvalType" | "approverGroupId" | "requiredApprovals" | "requireMfa"> & {
  /** Null for a Customer Lockbox request: filed under the organization's Lockbox terms, not a policy. */
  id: string | null;
  laterStages: Prisma.JsonValue | null;
};

/** What differs between filings: a new request and an extension of a grant. */
interface Filing {
  requesterId: string;
  policy: FiledPolicy;
  auto: boolean;
  /** Set for a Customer Lockbox request: its own lifetime instead of the organization's request lifetime. */
  lockboxLifetimeHours?: number;
  row: Pick<
    Prisma.AccessRequestUncheckedCreateInput,
    | "type"
    | "scope"
    | "target"
    | "catalogEntryId"
    | "reason"
    | "durationHours"
    | "ticket"
    | "startsAt"
    | "extendsAuthorizationId"
  >;
  /** Added to the New-ElevatedAccessRequest audit entry. */
  details: Record<string, unknown>;
  /** Grants an AUTO request at once; answers the details of its Approve-ElevatedAccessRequest audit entry. */
  approveAtOnce(request: AccessRequest): Promise<Record<string, unknown>>;
}

/**
 * Files a request under its policy: the row, its audit entry and CREATED event, then
 * either the AUTO approval or the manual path's deadline, reminder and approvers' mail.
 * New requests and extensions both come here, so each filing rule lives once.
 */
export async function fileRequest(
  scope: TransitionScope,
  control: { organizationId: string; requestLifetimeHours: number; reminderHours: number[] },
  filing: Filing,
) {
  const { tx, now, audit, effect } = scope;
  const { policy, auto } = filing;
  const expiresAt = new Date(now.getTime() + (filing.lockboxLifetimeHours ?? control.requestLifetimeHours) * hour);
  // A Customer Lockbox request has no policy, so no escalation.
  const escalation = auto || !policy.id ? null : await escalationOf(tx, policy.id, now, expiresAt);
  const request = await tx.accessRequest.create({
    data: {
      ...filing.row,
      organizationId: control.organizationId,
      requesterId: filing.requesterId,
      kind: filing.lockboxLifetimeHours ? "CUSTOMER_LOCKBOX" : "STANDARD",
      policyId: policy.id,
      approvalType: auto ? "AUTO" : policy.approvalType,
      approverGroupId: policy.approverGroupId,
      requiredApprovals: policy.requiredApprovals,
      requireMfa: policy.requireMfa,
      laterStages: policy.laterStages ?? Prisma.DbNull,
      status: auto ? "APPROVED" : "PENDING",
      createdAt: now,
      expiresAt,
      escalationGroupId: escalation?.groupId ?? null,
      escalateAt: escalation?.at ?? null,
      decidedAt: auto ? now : null,
    },
  });
  audit({
    action: "New-ElevatedAccessRequest",
    subjectId: request.id,
    details: {
      type: request.type,
      target: request.target,
      durationHours: request.durationHours,
      reason: request.reason,
      ...(policy.id ? { policyId: policy.id } : {}),
      ...filing.details,
    },
  });
  effect({
    kind: "requestEvent",
    organizationId: request.organizationId,
    requestId: request.id,
    type: "CREATED",
    at: now,
  });
  if (auto) {
    audit({
      action: "Approve-ElevatedAccessRequest",
      subjectId: request.id,
      details: { channel: "AUTO", ...(await filing.approveAtOnce(request)) },
    });
  } else {
    effect({
      kind: "requestCreated",
      requestId: request.id,
      organizationId: request.organizationId,
      expiresAt: request.expiresAt,
      remindAt: nextReminder(control.reminderHours, request, now),
      escalateAt: request.escalateAt,
    });
    const approvers = await eligibleApproverIds(tx, request.approverGroupId, request.requesterId);
    await queueMail(
      scope,
      request.organizationId,
      approvers.map((recipientId) => ({ template: "approval-needed", recipientId, requestId: request.id })),
    );
  }
  return request;
}

const decideInput = z.object({
  requestId: entityId("AccessRequest"),
  comment: optionalText(2000),
  /** An approval for fewer hours than asked (1 up to the request's durationHours). */
  durationHours: wholeHours(maxGrantHours).nullish(),
});

/**
 * The hours an approval grants: as asked, or fewer when the approver says so; a
 * denial grants nothing, so it takes no hours.
 */
function hoursOfDecision(request: AccessRequest, approved: boolean, durationHours: number | null | undefined) {
  if (durationHours == null) return null;
  if (!approved)
    throw new ValidationError("durationHours", "only an approval can give fewer hours; leave it out to deny");
  if (durationHours > request.durationHours) {
    throw new ValidationError(
      "durationHours",
      `must be at most the ${request.durationHours} hours asked for; an approver may shorten access, not lengthen it`,
    );
  }
  return durationHours;
}

/** Locks the request row for the rest of the transaction, so decisions on it are serialized. */
async function lockRequest(tx: Tx, organizationId: string, id: string) {
  const locked = await tx.$queryRaw<{ id: string }[]>`
    SELECT id::text FROM "AccessRequest" WHERE id = ${id}::uuid AND "organizationId" = ${organizationId}::uuid FOR UPDATE`;
  if (locked.length === 0) throw new NotFoundError("requestId", "access request");
  return tx.accessRequest.findUniqueOrThrow({ where: { id }, include: { decisions: true } });
}

function assertPending(request: AccessRequest, now: Date): void {
  if (request.status === "EXPIRED") throw new RequestExpiredError("request expired before anyone decided it");
  if (request.status !== "PENDING") throw new AlreadyDecidedError(`request is already ${request.status}`);
  if (request.expiresAt <= now) throw new RequestExpiredError("request passed its expiry time");
}

/** Approve-ElevatedAccessRequest: one approval; the request is approved once its quorum is met. */
export function approveAccessRequest(ctx: ServiceContext, rawInput: unknown, channel: DecisionChannel = "API") {
  return recordDecision(ctx, rawInput, { approved: true, channel });
}

/** Deny-ElevatedAccessRequest: one denial denies the request. */
export function denyAccessRequest(ctx: ServiceContext, rawInput: unknown, channel: DecisionChannel = "API") {
  return recordDecision(ctx, rawInput, { approved: false, channel });
}

/**
 * The one decision transaction behind every door: GraphQL and the command line through
 * approve/deny above, the email links through `decideByLink`, which passes `spendLink`
 * so the link is spent in the same transaction and decides at most once.
 */
export async function recordDecision(
  ctx: ServiceContext,
  rawInput: unknown,
  {
    approved,
    channel,
    spendLink,
  }: { approved: boolean; channel: DecisionChannel; spendLink?: (tx: Tx, now: Date) => Promise<void> },
) {
  const actor = requireActor(ctx);
  const input = parseInput(decideInput, rawInput);
  return transition(ctx, async (scope) => {
    const { tx, now, audit, effect } = scope;
    const request = await lockRequest(tx, ctx.organizationId, input.requestId);
    if (request.requesterId === actor.id) throw new SelfApprovalError("requesters may not decide their own requests");
    if (!(await mayDecide(tx, request, actor.id))) {
      throw new NotAnApproverError(
        request.escalatedAt
          ? "you are not an eligible member of this request's approver group or its escalation group"
          : "you are not an eligible member of this request's approver group",
      );
    }
    assertPending(request, now);
    if (request.decisions.some((decision) => decision.approverId === actor.id)) {
      throw new ConflictError("you have already decided this request");
    }
    const durationHours = hoursOfDecision(request, approved, input.durationHours);
    assertStepUp(await stepUpRule(tx, request), actor.authentication);
    const how = { amr: actor.authentication?.methods ?? [], acr: actor.authentication?.context ?? null };
    await spendLink?.(tx, now);
    await tx.accessDecision.create({
      data: {
        organizationId: ctx.organizationId,
        requestId: request.id,
        approverId: actor.id,
        approved,
        comment: input.comment,
        channel,
        authMethods: how.amr,
        authContext: how.acr,
        stage: request.stage,
        decidedAt: now,
        durationHours,
      },
    });
    const event = (type: "DENIED" | "DECISION_RECORDED") =>
      effect({ kind: "requestEvent", organizationId: ctx.organizationId, requestId: request.id, type, at: now });
    const decided = { tx, now, request };
    if (!approved) {
      await settle(decided, "DENIED");
      effect({ kind: "requestSettled", requestId: request.id });
      event("DENIED");
      await queueMail(scope, ctx.organizationId, [
        { template: "request-denied", recipientId: request.requesterId, requestId: request.id },
      ]);
      audit({
        action: "Deny-ElevatedAccessRequest",
        subjectId: request.id,
        details: { channel, comment: input.comment, ...how },
      });
      return tx.accessRequest.findUniqueOrThrow({ where: { id: request.id } });
    }
    const approvals =
      request.decisions.filter((decision) => decision.approved && decision.stage === request.stage).length + 1;
    const nextStage = approvals >= request.requiredApprovals ? nextStageOf(request) : null;
    if (nextStage) {
      audit({
        action: "Approve-ElevatedAccessRequest",
        subjectId: request.id,
        details: {
          channel,
          comment: input.comment,
          stage: request.stage,
          approvals,
          ...(durationHours === null ? {} : { durationHours }),
          ...how,
        },
      });
      return advanceStage(scope, request, nextStage, approvals, actor.id);
    }
    if (approvals < request.requiredApprovals) {
      event("DECISION_RECORDED");
      audit({
        action: "Approve-ElevatedAccessRequest",
        subjectId: request.id,
        details: {
          channel,
          comment: input.comment,
          approvals,
          requiredApprovals: request.requiredApprovals,
          ...(durationHours === null ? {} : { durationHours }),
          ...how,
        },
      });
      return request;
    }
    await settle(decided, "APPROVED");
    // The grant takes the fewest hours any approver gave (quorum: each may have shortened it).
    const grantedHours = Math.min(
      request.durationHours,
      ...request.decisions.flatMap((decision) => (decision.approved && decision.durationHours) || []),
      durationHours ?? request.durationHours,
    );
    const authorization = await grantAccess(scope, request, grantedHours);
    audit({
      action: "Approve-ElevatedAccessRequest",
      subjectId: request.id,
      details: {
        channel,
        comment: input.comment,
        approvals,
        authorizationId: authorization.id,
        endsAt: authorization.endsAt,
        ...(durationHours === null ? {} : { durationHours }),
        ...(grantedHours === request.durationHours ? {} : { grantedHours }),
        ...how,
      },
    });
    return tx.accessRequest.findUniqueOrThrow({ where: { id: request.id } });
  });
}

/** Settles a locked PENDING request; the expiry guard keeps decidedAt <= expiresAt. */
async function settle(
  { tx, now, request }: { tx: Tx; now: Date; request: AccessRequest },
  to: "APPROVED" | "DENIED",
): Promise<void> {
  if (!(await moveRequest(tx, request.id, "PENDING", to, { decidedAt: now }, { expiresAt: { gt: now } }))) {
    throw new ConflictError("request changed while it was being decided");
  }
}

const cancelInput = z.object({ requestId: entityId("AccessRequest") });

export async function cancelAccessRequest(ctx: ServiceContext, rawInput: unknown) {
  const actor = requireActor(ctx);
  const input = parseInput(cancelInput, rawInput);
  return transition(ctx, async ({ tx, now, audit, effect }) => {
    const request = await lockRequest(tx, ctx.organizationId, input.requestId);
    if (request.requesterId !== actor.id) throw new ForbiddenError("only the requester may cancel a request");
    assertPending(request, now);
    await moveRequest(tx, request.id, "PENDING", "CANCELED", { decidedAt: now });
    audit({ action: "Cancel-ElevatedAccessRequest", subjectId: request.id, details: { by: "requester" } });
    effect({ kind: "requestSettled", requestId: request.id });
    effect({
      kind: "requestEvent",
      organizationId: ctx.organizationId,
      requestId: request.id,
      type: "CANCELED",
      at: now,
    });
    return tx.accessRequest.findUniqueOrThrow({ where: { id: request.id } });
  });
}

/**
 * Cancels the PENDING requests `where` selects, inside a transition (a policy removed,
 * a requester deactivated); returns their IDs.
 */
export async function cancelPendingRequests(
  ctx: ServiceContext,
  { tx, now, audit, effect }: TransitionScope,
  where: Prisma.AccessRequestWhereInput,
  why: Record<string, unknown>,
): Promise<string[]> {
  const pending = await tx.accessRequest.findMany({
    where: { ...where, organizationId: ctx.organizationId, status: "PENDING" },
    select: { id: true },
  });
  const canceled: string[] = [];
  for (const { id } of pending) {
    if (!(await moveRequest(tx, id, "PENDING", "CANCELED", { decidedAt: now }))) continue;
    canceled.push(id);
    audit({ action: "Cancel-ElevatedAccessRequest", subjectId: id, details: why });
    effect({ kind: "requestSettled", requestId: id });
    effect({ kind: "requestEvent", organizationId: ctx.organizationId, requestId: id, type: "CANCELED", at: now });
  }
  return canceled;
}

/** Expires one PENDING request whose expiresAt has passed; says so, or when it is due, or that it moved on. */
export async function expireAccessRequest(ctx: ServiceContext, requestId: string): Promise<DeadlineOutcome> {
  const [outcome] = await expireAccessRequests(ctx, [{ requestId, correlationId: ctx.correlationId }]);
  return outcome!;
}

/** One request a deadline job asks to expire, with the request id that caused the job. */
export interface DueRequest {
  requestId: string;
  correlationId: string | null;
}

/**
 * Expires the due requests of one organization in one transition: one conditional
 * UPDATE (only what is still PENDING and due by this host's clock), then per request
 * expired its audit event (appended together: one lock of the chain per batch), its
 * mail and its event. Answers per request, in order: done, not due yet, or settled.
 */
export async function expireAccessRequests(ctx: ServiceContext, due: DueRequest[]): Promise<DeadlineOutcome[]> {
  assertTransition(requestTransitions, "PENDING", "EXPIRED");
  return transition(ctx, async (scope) => {
    const { tx, now, audit, effect } = scope;
    const ids = [...new Set(due.map((entry) => entry.requestId))];
    const expired = await tx.accessRequest.updateManyAndReturn({
      where: { id: { in: ids }, organizationId: ctx.organizationId, status: "PENDING", expiresAt: { lte: now } },
      data: { status: "EXPIRED" },
      select: { id: true, requesterId: true },
    });
    const requesterOf = new Map(expired.map((row) => [row.id, row.requesterId]));
    const left = ids.filter((id) => !requesterOf.has(id));
    const pending = left.length
      ? await tx.accessRequest.findMany({
          where: { id: { in: left }, organizationId: ctx.organizationId, status: "PENDING" },
          select: { id: true, expiresAt: true },
        })
      : [];
    const pendingUntil = new Map(pending.map((row) => [row.id, row.expiresAt]));
    const mails: OutgoingMail[] = [];
    const announced = new Set<string>();
    for (const { requestId, correlationId } of due) {
      const requesterId = requesterOf.get(requestId);
      if (!requesterId || announced.has(requestId)) continue;
      announced.add(requestId);
      audit({ action: "Expire-ElevatedAccessRequest", subjectId: requestId, details: {} });
      mails.push({ template: "request-expired", recipientId: requesterId, requestId, correlationId });
      effect({ kind: "requestEvent", organizationId: ctx.organizationId, requestId, type: "EXPIRED", at: now });
    }
    await queueMail(scope, ctx.organizationId, mails);
    return due.map(({ requestId }): DeadlineOutcome => {
      if (requesterOf.has(requestId)) return { kind: "done" };
      const at = pendingUntil.get(requestId);
      return at ? { kind: "notDue", at } : { kind: "settled" };
    });
  });
}
