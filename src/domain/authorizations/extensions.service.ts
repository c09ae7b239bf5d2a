import { z } from "zod";
import { type AccessRequest, Prisma } from "../../db/client.ts";
import { requireActor } from "../access.ts";
import { eligibleApproverIds } from "../approver-groups/eligibility.ts";
import { maxGrantHours } from "../catalog/catalog.service.ts";
import type { ServiceContext } from "../context.ts";
import {
  ConflictError,
  ControlDisabledError,
  ForbiddenError,
  NoPolicyError,
  NotFoundError,
  ValidationError,
} from "../errors.ts";
import { queueMail } from "../notifications/notifications.service.ts";
import { nextReminder } from "../requests/reminders.service.ts";
import { assertRequesterMayFile } from "../requests/requests.service.ts";
import { type TransitionScope, transition } from "../transition.ts";
import { entityId, nonEmptyText, parseInput, wholeHours } from "../validation.ts";

const hour = 3_600_000;

const extendInput = z.object({
  authorizationId: entityId("AccessAuthorization"),
  hours: wholeHours(maxGrantHours),
  reason: nonEmptyText(2000),
});

/**
 * The grantee asks to extend their ACTIVE grant by `hours`. The extension is a request
 * of its own (extendsAuthorizationId set, durationHours the extra hours) filed under the
 * grant's policy as it stands now, and decided as every request is: AUTO extends at
 * once, MANUAL goes to the policy's approvers through the same decision transaction
 * (links, quorum, shorter approvals). The policy's maximum applies to the grant's
 * whole length, extensions included.
 */
export async function requestAccessExtension(ctx: ServiceContext, rawInput: unknown) {
  const actor = requireActor(ctx);
  const input = parseInput(extendInput, rawInput);
  await ctx.quotas.consume("requestCreation", actor.id);
  return transition(ctx, async (scope) => {
    const { tx, now, audit, effect } = scope;
    const grant = await tx.accessAuthorization.findFirst({
      where: { id: input.authorizationId, organizationId: ctx.organizationId },
      include: { request: true },
    });
    if (!grant) throw new NotFoundError("authorizationId", "authorization");
    if (grant.userId !== actor.id) throw new ForbiddenError("only the grantee may ask to extend their access");
    if (grant.request.kind === "CUSTOMER_LOCKBOX") {
      throw new ValidationError(
        "authorizationId",
        "a Customer Lockbox access is not extended past the hours it was approved for; file a new Lockbox request",
      );
    }
    if (grant.status === "SCHEDULED") {
      throw new ConflictError("the access has not started yet: ask to extend it once it is ACTIVE");
    }
    if (grant.status !== "ACTIVE" || grant.endsAt <= now) {
      throw new ConflictError(`authorization is already ${grant.status === "ACTIVE" ? "ENDED" : grant.status}`);
    }
    const control = await tx.elevatedAccessControl.findUniqueOrThrow({ where: { organizationId: ctx.organizationId } });
    if (!control.enabled) throw new ControlDisabledError("privileged access control is off: nothing needs approval");
    const policy = grant.request.policyId
      ? await tx.approvalPolicy.findUnique({ where: { id: grant.request.policyId } })
      : null;
    if (!policy) {
      throw new NoPolicyError(
        "authorizationId: the policy this access was granted under was removed; file a new request",
      );
    }
    const totalHours = Math.ceil((grant.endsAt.getTime() - grant.startsAt.getTime()) / hour) + input.hours;
    const maxHours = policy.maxDurationHours ?? maxGrantHours;
    if (totalHours > maxHours) {
      throw new ValidationError(
        "hours",
        `the access would last ${totalHours} hours in all; its policy allows at most ${maxHours}`,
      );
    }
    await assertRequesterMayFile(tx, actor.id, grant.catalogEntryId, control.maxPendingRequestsPerUser, now);
    const auto = policy.approvalType === "AUTO";
    const request = await tx.accessRequest.create({
      data: {
        organizationId: ctx.organizationId,
        requesterId: actor.id,
        policyId: policy.id,
        approvalType: policy.approvalType,
        approverGroupId: policy.approverGroupId,
        requiredApprovals: policy.requiredApprovals,
        requireMfa: policy.requireMfa,
        laterStages: policy.laterStages ?? Prisma.DbNull,
        type: grant.request.type,
        scope: grant.request.scope,
        target: grant.target,
        catalogEntryId: grant.catalogEntryId,
        reason: input.reason,
        durationHours: input.hours,
        ticket: grant.request.ticket,
        extendsAuthorizationId: grant.id,
        status: auto ? "APPROVED" : "PENDING",
        createdAt: now,
        expiresAt: new Date(now.getTime() + control.requestLifetimeHours * hour),
        decidedAt: auto ? now : null,
      },
    });
    audit({
      action: "New-ElevatedAccessRequest",
      subjectId: request.id,
      details: {
        type: request.type,
        target: request.target,
        durationHours: input.hours,
        reason: request.reason,
        policyId: policy.id,
        extendsAuthorizationId: grant.id,
      },
    });
    effect({
      kind: "requestEvent",
      organizationId: ctx.organizationId,
      requestId: request.id,
      type: "CREATED",
      at: now,
    });
    if (auto) {
      const extended = await extendGrant(scope, request, input.hours);
      audit({
        action: "Approve-ElevatedAccessRequest",
        subjectId: request.id,
        details: { channel: "AUTO", authorizationId: extended.id, endsAt: extended.endsAt },
      });
    } else {
      effect({
        kind: "requestCreated",
        requestId: request.id,
        organizationId: request.organizationId,
        expiresAt: request.expiresAt,
        remindAt: nextReminder(control.reminderHours, request, now),
      });
      const approvers = await eligibleApproverIds(tx, request.approverGroupId, request.requesterId);
      await queueMail(
        scope,
        ctx.organizationId,
        approvers.map((recipientId) => ({ template: "approval-needed", recipientId, requestId: request.id })),
      );
    }
    return request;
  });
}

/**
 * Moves the end of the grant an approved extension request is for by `hours`, with one
 * compare-and-set UPDATE on its endsAt: a grant that ended (its end job won the race),
 * was ended early or revoked, or moved meanwhile, is a conflict and the approval rolls
 * back. The end job moves with it (authorizationExtended); authorizeTask reads endsAt
 * from the database, so access never waits on that job.
 */
export async function extendGrant(scope: TransitionScope, request: AccessRequest, hours: number) {
  const { tx, now, audit, effect } = scope;
  const grantId = request.extendsAuthorizationId;
  if (!grantId) throw new Error(`request ${request.id} extends no authorization`);
  const grant = await tx.accessAuthorization.findUniqueOrThrow({ where: { id: grantId } });
  const endsAt = new Date(grant.endsAt.getTime() + hours * hour);
  const { count } = await tx.accessAuthorization.updateMany({
    where: { id: grant.id, status: "ACTIVE", AND: [{ endsAt: grant.endsAt }, { endsAt: { gt: now } }] },
    data: { endsAt },
  });
  if (count !== 1) throw new ConflictError("the access this extension is for has ended");
  audit({
    action: "Set-ElevatedAccessAuthorization",
    subjectId: grant.id,
    details: { extensionRequestId: request.id, hours, endsAt: { from: grant.endsAt, to: endsAt } },
  });
  effect({ kind: "requestSettled", requestId: request.id });
  effect({ kind: "authorizationExtended", authorizationId: grant.id, organizationId: grant.organizationId, endsAt });
  effect({
    kind: "requestEvent",
    organizationId: request.organizationId,
    requestId: request.id,
    type: "APPROVED",
    at: now,
  });
  await queueMail(scope, request.organizationId, [
    { template: "access-extended", recipientId: request.requesterId, requestId: request.id, authorizationId: grant.id },
  ]);
  return { ...grant, endsAt };
}
