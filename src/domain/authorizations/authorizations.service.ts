import { z } from "zod";
import type { AuthorizationStatus, Prisma, Tx } from "../../db/client.ts";
import { isAdmin, requireActor } from "../access.ts";
import { isEligibleApprover } from "../approver-groups/eligibility.ts";
import type { DeadlineOutcome, ServiceContext } from "../context.ts";
import { ConflictError, ForbiddenError, NotFoundError } from "../errors.ts";
import { queueMail } from "../notifications/notifications.service.ts";
import { assertTransition } from "../requests/request-states.ts";
import { cancelPendingRequests } from "../requests/requests.service.ts";
import { type TransitionScope, transition } from "../transition.ts";
import { entityId, optionalText, parseInput } from "../validation.ts";
import { authorizationTransitions } from "./authorization-states.ts";

/** A grant not yet ended or revoked: ACTIVE, or SCHEDULED for a later start. */
const liveStatuses: AuthorizationStatus[] = ["SCHEDULED", "ACTIVE"];

async function moveAuthorization(
  tx: Tx,
  id: string,
  to: AuthorizationStatus,
  data: Prisma.AccessAuthorizationUncheckedUpdateManyInput,
  where: Prisma.AccessAuthorizationWhereInput,
  from: AuthorizationStatus[] = liveStatuses,
): Promise<boolean> {
  for (const status of from) assertTransition(authorizationTransitions, status, to);
  if (to !== "ACTIVE") {
    // Ending a grant cancels its pending extension requests (cancelPendingExtensions). They
    // are locked before the grant, the order an extension's approval takes (its request,
    // then the grant it moves): the other order deadlocked with such an approval.
    await tx.$queryRaw`
      SELECT id FROM "AccessRequest" WHERE "extendsAuthorizationId" = ${id}::uuid AND status = 'PENDING'
      ORDER BY id FOR UPDATE`;
  }
  const { count } = await tx.accessAuthorization.updateMany({
    where: { ...where, id, status: { in: from } },
    data: { ...data, status: to },
  });
  return count === 1;
}

const revokeInput = z.object({
  requestId: entityId("AccessRequest"),
  comment: optionalText(2000),
});

/** Ends an ACTIVE authorization at once. Admins, or eligible approvers of its request's group. */
export async function revokeAccessAuthorization(ctx: ServiceContext, rawInput: unknown) {
  const actor = requireActor(ctx);
  const input = parseInput(revokeInput, rawInput);
  return transition(ctx, async (scope) => {
    const { tx } = scope;
    const authorization = await tx.accessAuthorization.findFirst({
      where: { requestId: input.requestId, organizationId: ctx.organizationId },
      include: { request: { select: { approverGroupId: true } } },
    });
    if (!authorization) throw new NotFoundError("requestId", "authorization for this request");
    if (!isAdmin(actor) && !(await isEligibleApprover(tx, authorization.request.approverGroupId, actor.id))) {
      throw new ForbiddenError("only administrators and the request's approvers may revoke access");
    }
    if (!(await revokeGrant(ctx, scope, authorization, actor.id, input.comment))) {
      const status = liveStatuses.includes(authorization.status) ? "ENDED" : authorization.status;
      throw new ConflictError(`authorization is already ${status}`);
    }
    return tx.accessAuthorization.findUniqueOrThrow({ where: { id: authorization.id } });
  });
}

/**
 * Revokes one ACTIVE grant inside a transition, with its audit event, mail and event;
 * false when it had ended or been revoked already.
 */
export async function revokeGrant(
  ctx: ServiceContext,
  scope: TransitionScope,
  authorization: { id: string; requestId: string; userId: string },
  revokedById: string | null,
  comment: string | null,
): Promise<boolean> {
  const { tx, now, audit, effect } = scope;
  const revoked = await moveAuthorization(
    tx,
    authorization.id,
    "REVOKED",
    { revokedAt: now, revokedById, revocationComment: comment },
    { endsAt: { gt: now } },
  );
  if (!revoked) return false;
  await cancelPendingExtensions(ctx, scope, authorization.id);
  audit({
    action: "Revoke-ElevatedAccessAuthorization",
    subjectId: authorization.id,
    details: { requestId: authorization.requestId, comment },
  });
  effect({ kind: "authorizationSettled", authorizationId: authorization.id });
  await queueMail(scope, ctx.organizationId, [
    {
      template: "access-revoked",
      recipientId: authorization.userId,
      requestId: authorization.requestId,
      authorizationId: authorization.id,
    },
  ]);
  effect({
    kind: "requestEvent",
    organizationId: ctx.organizationId,
    requestId: authorization.requestId,
    type: "REVOKED",
    at: now,
  });
  return true;
}

const endEarlyInput = z.object({
  authorizationId: entityId("AccessAuthorization"),
  reason: optionalText(2000),
});

/**
 * Stop-ElevatedAccessAuthorization: the grantee ends their own ACTIVE grant before its
 * endsAt (what Entra PIM calls deactivation). Only the grantee: approvers and admins
 * revoke. One conditional UPDATE decides a race with the end job: the grant ends once,
 * with one audit event, one event and one mail, whichever wins.
 */
export async function endAccessAuthorizationEarly(ctx: ServiceContext, rawInput: unknown) {
  const actor = requireActor(ctx);
  const input = parseInput(endEarlyInput, rawInput);
  return transition(ctx, async (scope) => {
    const { tx, now, audit, effect, correlationId } = scope;
    const authorization = await tx.accessAuthorization.findFirst({
      where: { id: input.authorizationId, organizationId: ctx.organizationId },
      select: { id: true, requestId: true, userId: true, status: true },
    });
    if (!authorization) throw new NotFoundError("authorizationId", "authorization");
    if (authorization.userId !== actor.id) {
      throw new ForbiddenError("only the grantee may end their own access; approvers and admins revoke it");
    }
    const ended = await moveAuthorization(
      tx,
      authorization.id,
      "ENDED",
      { endedAt: now, endComment: input.reason },
      { endsAt: { gt: now } },
    );
    if (!ended) {
      const status = liveStatuses.includes(authorization.status) ? "ENDED" : authorization.status;
      throw new ConflictError(`authorization is already ${status}`);
    }
    await cancelPendingExtensions(ctx, scope, authorization.id);
    audit({
      action: "Stop-ElevatedAccessAuthorization",
      subjectId: authorization.id,
      details: { requestId: authorization.requestId, reason: input.reason },
    });
    effect({ kind: "authorizationSettled", authorizationId: authorization.id });
    await queueMail({ tx, effect, correlationId }, ctx.organizationId, [
      {
        template: "access-ended",
        recipientId: authorization.userId,
        requestId: authorization.requestId,
        authorizationId: authorization.id,
      },
    ]);
    effect({
      kind: "requestEvent",
      organizationId: ctx.organizationId,
      requestId: authorization.requestId,
      type: "ENDED",
      at: now,
    });
    return tx.accessAuthorization.findUniqueOrThrow({ where: { id: authorization.id } });
  });
}

/**
 * Makes a SCHEDULED grant ACTIVE once its startsAt has passed; says so, or when it is
 * due, or that it moved on (revoked, ended early, gone). authorizeTask already allows
 * a scheduled grant inside [startsAt, endsAt), so access never waits on this job.
 */
export async function activateAccessAuthorization(
  ctx: ServiceContext,
  authorizationId: string,
): Promise<DeadlineOutcome> {
  return transition(ctx, async ({ tx, now, audit }) => {
    const started = await moveAuthorization(
      tx,
      authorizationId,
      "ACTIVE",
      {},
      { organizationId: ctx.organizationId, startsAt: { lte: now } },
      ["SCHEDULED"],
    );
    if (!started) {
      const current = await tx.accessAuthorization.findFirst({
        where: { id: authorizationId, organizationId: ctx.organizationId },
        select: { status: true, startsAt: true },
      });
      return current?.status === "SCHEDULED" ? { kind: "notDue", at: current.startsAt } : { kind: "settled" };
    }
    const { requestId, startsAt } = await tx.accessAuthorization.findUniqueOrThrow({
      where: { id: authorizationId },
      select: { requestId: true, startsAt: true },
    });
    audit({
      action: "Start-ElevatedAccessAuthorization",
      subjectId: authorizationId,
      details: { requestId, startsAt },
    });
    return { kind: "done" };
  });
}

/** How long before a grant ends its grantee is told, with a way to extend it. */
export const expiringNoticeMinutes = 15;

/**
 * Tells the grantee their ACTIVE grant ends in `expiringNoticeMinutes`; says when it is
 * due, or that there is nothing to tell (ended, revoked, gone). One notice per grant and
 * end time: the outbox's dedupe key carries endsAt, so a retried or duplicated job
 * never mails twice, and an extended grant gets a notice for its new end.
 */
export async function noticeExpiringAccess(ctx: ServiceContext, authorizationId: string): Promise<DeadlineOutcome> {
  return transition(ctx, async (scope) => {
    const { tx, now } = scope;
    const grant = await tx.accessAuthorization.findFirst({
      where: { id: authorizationId, organizationId: ctx.organizationId },
      select: { status: true, endsAt: true, requestId: true, userId: true },
    });
    if (!grant || !liveStatuses.includes(grant.status) || grant.endsAt <= now) return { kind: "settled" };
    const due = new Date(grant.endsAt.getTime() - expiringNoticeMinutes * 60_000);
    if (due > now) return { kind: "notDue", at: due };
    await queueMail(scope, ctx.organizationId, [
      {
        template: "access-expiring",
        recipientId: grant.userId,
        requestId: grant.requestId,
        authorizationId,
        occasion: grant.endsAt.toISOString(),
      },
    ]);
    return { kind: "done" };
  });
}

/** A grant that ended or was revoked has nothing left to extend: its pending extension requests are canceled. */
async function cancelPendingExtensions(ctx: ServiceContext, scope: TransitionScope, authorizationId: string) {
  await cancelPendingRequests(
    ctx,
    scope,
    { extendsAuthorizationId: authorizationId },
    { by: "the access ended", authorizationId },
  );
}

/** Ends an ACTIVE authorization whose endsAt has passed; says so, or when it is due, or that it moved on. */
export async function endAccessAuthorization(ctx: ServiceContext, authorizationId: string): Promise<DeadlineOutcome> {
  return transition(ctx, async (scope) => {
    const { tx, now, audit, effect } = scope;
    const authorization = await tx.accessAuthorization.findFirst({
      where: { id: authorizationId, organizationId: ctx.organizationId },
      select: { requestId: true, userId: true, status: true, endsAt: true },
    });
    if (!authorization) return { kind: "settled" };
    const ended = await moveAuthorization(tx, authorizationId, "ENDED", { endedAt: now }, { endsAt: { lte: now } });
    if (!ended) {
      // Read again: an extension that committed after the read above moved endsAt later.
      const current = await tx.accessAuthorization.findUniqueOrThrow({
        where: { id: authorizationId },
        select: { status: true, endsAt: true },
      });
      return liveStatuses.includes(current.status) && current.endsAt > now
        ? { kind: "notDue", at: current.endsAt }
        : { kind: "settled" };
    }
    await cancelPendingExtensions(ctx, scope, authorizationId);
    await queueMail({ tx, effect, correlationId: ctx.correlationId }, ctx.organizationId, [
      {
        template: "access-ended",
        recipientId: authorization.userId,
        requestId: authorization.requestId,
        authorizationId,
      },
    ]);
    audit({
      action: "End-ElevatedAccessAuthorization",
      subjectId: authorizationId,
      details: { requestId: authorization.requestId },
    });
    effect({
      kind: "requestEvent",
      organizationId: ctx.organizationId,
      requestId: authorization.requestId,
      type: "ENDED",
      at: now,
    });
    return { kind: "done" };
  });
}
