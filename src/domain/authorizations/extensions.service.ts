import { z } from "zod";
import type { AccessRequest } from "../../db/client.ts";
import { requireActor } from "../access.ts";
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
import { assertRequesterMayFile, fileRequest } from "../requests/requests.service.ts";
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
    const { tx, now } = scope;
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
    return fileRequest(scope, control, {
      requesterId: actor.id,
      policy,
      auto: policy.approvalType === "AUTO",
      row: {
        type: grant.request.type,
        scope: grant.request.scope,
        target: grant.target,
        catalogEntryId: grant.catalogEntryId,
        reason: input.reason,
        durationHours: input.hours,
        ticket: grant.request.ticket,
        extendsAuthorizationId: grant.id,
      },
      details: { extendsAuthorizationId: grant.id },
      approveAtOnce: async (request) => {
        const extended = await extendGrant(scope, request, input.hours);
        return { authorizationId: extended.id, endsAt: extended.endsAt };
      },
    });
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
