import { z } from "zod";
import { Prisma } from "../../db/client.ts";
import { requireAdmin } from "../access.ts";
import { findApproverGroup } from "../approver-groups/approver-groups.service.ts";
import { findCatalogEntry, maxGrantHours, targetKindFields } from "../catalog/catalog.service.ts";
import type { ServiceContext } from "../context.ts";
import { ConflictError, LimitExceededError, NotFoundError, ValidationError } from "../errors.ts";
import { cancelPendingRequests } from "../requests/requests.service.ts";
import { transition } from "../transition.ts";
import { entityId, nonEmptyText, parseInput, wholeHours } from "../validation.ts";
import {
  assertConditionsFit,
  autoApprovalInput,
  describeConditions,
  readConditions,
  storedConditions,
} from "./auto-approval.ts";
import { escalateAfterHours, resolveEscalation } from "./escalation.ts";
import { assertStagesFit, describeStages, resolveStages, stagesInput } from "./stages.ts";
import { ticketPattern } from "./tickets.ts";

const createInput = z.object({
  ...targetKindFields,
  target: nonEmptyText(256),
  approvalType: z.enum(["MANUAL", "AUTO"]),
  approverGroup: nonEmptyText(254).nullish(),
  requiredApprovals: z
    .number()
    .int("must be a whole number")
    .min(1, "must be at least 1")
    .max(10, "must be at most 10")
    .nullish()
    .transform((value) => value ?? 1),
  maxDurationHours: wholeHours(maxGrantHours).nullish(),
  ticketRequired: z.boolean("must be true or false").nullish(),
  ticketPattern: ticketPattern.nullish(),
  requireMfa: z.boolean("must be true or false").nullish(),
  autoApproveWhen: autoApprovalInput.nullish(),
  /** Ordered approval stages; the first replaces approverGroup and requiredApprovals. */
  stages: stagesInput.nullish(),
  /** A group that may also decide requests left undecided escalateAfterHours after filing; both or neither. */
  escalationGroup: nonEmptyText(254).nullish(),
  escalateAfterHours: escalateAfterHours.nullish(),
});

export async function createApprovalPolicy(ctx: ServiceContext, rawInput: unknown) {
  requireAdmin(ctx);
  const input = parseInput(createInput, rawInput);
  if (input.approvalType === "AUTO" && input.requiredApprovals !== 1) {
    throw new ValidationError("requiredApprovals", "must be 1 for AUTO policies");
  }
  assertConditionsFit(input.approvalType, input.autoApproveWhen);
  assertStagesFit(rawInput as Record<string, unknown>, input.approvalType);
  return transition(ctx, async ({ tx, audit, effect }) => {
    // Locking the control row serializes policy changes per organization, so the
    // limit and the one-policy-per-target rule hold under concurrent creates.
    const [control] = await tx.$queryRaw<
      { maxPolicies: number; defaultApproverGroupId: string | null; requestLifetimeHours: number }[]
    >`
      SELECT "maxPolicies", "defaultApproverGroupId"::text, "requestLifetimeHours" FROM "ElevatedAccessControl"
      WHERE "organizationId" = ${ctx.organizationId}::uuid FOR UPDATE`;
    if (!control) throw new Error("organization has no control settings");
    const entry = await findCatalogEntry(tx, ctx.organizationId, input.type, input.scope, input.target);
    const stages = input.stages ? await resolveStages(tx, ctx.organizationId, input.stages) : null;
    const group = stages
      ? await tx.approverGroup.findUniqueOrThrow({ where: { id: stages.first.approverGroupId } })
      : input.approverGroup
        ? await findApproverGroup(tx, ctx.organizationId, input.approverGroup, "approverGroup")
        : control.defaultApproverGroupId
          ? await tx.approverGroup.findUniqueOrThrow({ where: { id: control.defaultApproverGroupId } })
          : null;
    if (!group) {
      throw new ValidationError("approverGroup", "is required while the control has no default approver group");
    }
    const count = await tx.approvalPolicy.count({ where: { organizationId: ctx.organizationId } });
    if (count >= control.maxPolicies) {
      throw new LimitExceededError(`the organization already has ${count} of at most ${control.maxPolicies} policies`);
    }
    const existing = await tx.approvalPolicy.findFirst({
      where: { organizationId: ctx.organizationId, type: input.type, target: entry.name },
    });
    if (existing) throw new ConflictError(`target: a ${input.type} policy for ${entry.name} already exists`);
    const conditions = input.autoApproveWhen
      ? await storedConditions(tx, ctx.organizationId, input.autoApproveWhen)
      : null;
    const escalation = await resolveEscalation(tx, ctx.organizationId, {
      group: input.escalationGroup ?? null,
      afterHours: input.escalateAfterHours ?? null,
      approvalType: input.approvalType,
      requestLifetimeHours: control.requestLifetimeHours,
    });
    const policy = await tx.approvalPolicy.create({
      data: {
        organizationId: ctx.organizationId,
        type: input.type,
        scope: input.scope,
        target: entry.name,
        catalogEntryId: entry.id,
        approvalType: input.approvalType,
        approverGroupId: group.id,
        requiredApprovals: stages?.first.requiredApprovals ?? input.requiredApprovals,
        laterStages: stages?.later ?? Prisma.DbNull,
        maxDurationHours: input.maxDurationHours ?? null,
        ticketRequired: input.ticketRequired ?? false,
        ticketPattern: input.ticketPattern ?? null,
        requireMfa: input.requireMfa ?? false,
        autoApproveWhen: conditions ?? Prisma.DbNull,
        escalationGroupId: escalation?.groupId ?? null,
        escalateAfterHours: escalation?.afterHours ?? null,
      },
    });
    audit({
      action: "New-ElevatedAccessApprovalPolicy",
      subjectId: policy.id,
      details: {
        type: policy.type,
        scope: policy.scope,
        target: policy.target,
        approvalType: policy.approvalType,
        approverGroup: group.email,
        requiredApprovals: policy.requiredApprovals,
        maxDurationHours: policy.maxDurationHours,
        ...(policy.ticketRequired ? { ticketRequired: true } : {}),
        ...(policy.ticketPattern ? { ticketPattern: policy.ticketPattern } : {}),
        requireMfa: policy.requireMfa,
        autoApproveWhen: await describeConditions(tx, conditions),
        ...(stages ? { stages: stages.shown } : {}),
        ...(escalation ? { escalationGroup: escalation.email, escalateAfterHours: escalation.afterHours } : {}),
      },
    });
    effect({ kind: "coverageChanged", organizationId: ctx.organizationId });
    return policy;
  });
}

const removeInput = z.object({ id: entityId("ApprovalPolicy") });

/**
 * Removes a policy. Its PENDING requests are canceled; ACTIVE authorizations it
 * led to run to their end unless revoked, since they were approved under it.
 */
export async function removeApprovalPolicy(
  ctx: ServiceContext,
  rawInput: unknown,
  // The caller's view of the policy, read before the row is gone (GraphQL's selection).
  view: Pick<Prisma.ApprovalPolicyFindUniqueArgs, "select" | "include"> = {},
) {
  requireAdmin(ctx);
  const input = parseInput(removeInput, rawInput);
  return transition(ctx, async (scope) => {
    const { tx, audit, effect } = scope;
    await tx.$queryRaw`SELECT 1 FROM "ElevatedAccessControl" WHERE "organizationId" = ${ctx.organizationId}::uuid FOR UPDATE`;
    const policy = await tx.approvalPolicy.findFirst({ where: { id: input.id, organizationId: ctx.organizationId } });
    if (!policy) throw new NotFoundError("id", "approval policy");
    const removed = await tx.approvalPolicy.findUniqueOrThrow({ ...view, where: { id: policy.id } });
    const canceled = await cancelPendingRequests(
      ctx,
      scope,
      { policyId: policy.id },
      {
        by: "policy removal",
        policyId: policy.id,
      },
    );
    await tx.approvalPolicy.delete({ where: { id: policy.id } });
    audit({
      action: "Remove-ElevatedAccessApprovalPolicy",
      subjectId: policy.id,
      details: { type: policy.type, target: policy.target, canceledRequests: canceled },
    });
    effect({ kind: "coverageChanged", organizationId: ctx.organizationId });
    return removed;
  });
}

const updateInput = z.object({
  id: entityId("ApprovalPolicy"),
  approvalType: z.enum(["MANUAL", "AUTO"]).nullish(),
  approverGroup: nonEmptyText(254).nullish(),
  requiredApprovals: z
    .number()
    .int("must be a whole number")
    .min(1, "must be at least 1")
    .max(10, "must be at most 10")
    .nullish(),
  /** null clears the maximum; absent keeps it. */
  maxDurationHours: wholeHours(maxGrantHours).nullable().optional(),
  ticketRequired: z.boolean("must be true or false").nullish(),
  /** null clears the pattern; absent keeps it. */
  ticketPattern: ticketPattern.nullable().optional(),
  requireMfa: z.boolean("must be true or false").nullish(),
  /** null clears the conditions; absent keeps them. */
  autoApproveWhen: autoApprovalInput.nullable().optional(),
  /** Replaces every stage (one stage: a single-stage policy again). */
  stages: stagesInput.nullish(),
  /** null clears the escalation (with escalateAfterHours); absent keeps it. */
  escalationGroup: nonEmptyText(254).nullable().optional(),
  escalateAfterHours: escalateAfterHours.nullable().optional(),
});

/**
 * Set-ElevatedAccessApprovalPolicy (admins): changes how a target is approved. Requests
 * already filed keep the terms they were filed under; grants keep theirs too, and the
 * precedence rule compares the new terms with them at every execution.
 */
export async function updateApprovalPolicy(ctx: ServiceContext, rawInput: unknown) {
  requireAdmin(ctx);
  const input = parseInput(updateInput, rawInput);
  return transition(ctx, async ({ tx, audit, effect }) => {
    const policy = await tx.approvalPolicy.findFirst({
      where: { id: input.id, organizationId: ctx.organizationId },
      include: { approverGroup: { select: { email: true } }, escalationGroup: { select: { email: true } } },
    });
    if (!policy) throw new NotFoundError("id", "approval policy");
    assertStagesFit(input, input.approvalType ?? policy.approvalType);
    const stages = input.stages ? await resolveStages(tx, ctx.organizationId, input.stages) : null;
    const group = stages
      ? await tx.approverGroup.findUniqueOrThrow({ where: { id: stages.first.approverGroupId } })
      : input.approverGroup
        ? await findApproverGroup(tx, ctx.organizationId, input.approverGroup, "approverGroup")
        : null;
    const next = {
      approvalType: input.approvalType ?? policy.approvalType,
      approverGroupId: group?.id ?? policy.approverGroupId,
      requiredApprovals: stages?.first.requiredApprovals ?? input.requiredApprovals ?? policy.requiredApprovals,
      maxDurationHours: input.maxDurationHours === undefined ? policy.maxDurationHours : input.maxDurationHours,
      ticketRequired: input.ticketRequired ?? policy.ticketRequired,
      ticketPattern: input.ticketPattern === undefined ? policy.ticketPattern : input.ticketPattern,
      requireMfa: input.requireMfa ?? policy.requireMfa,
    };
    if (next.approvalType === "AUTO" && next.requiredApprovals !== 1) {
      throw new ValidationError("requiredApprovals", "must be 1 for AUTO policies");
    }
    const before = readConditions(policy.autoApproveWhen);
    const conditions =
      input.autoApproveWhen === undefined
        ? before
        : input.autoApproveWhen && (await storedConditions(tx, ctx.organizationId, input.autoApproveWhen));
    assertConditionsFit(next.approvalType, conditions);
    const changed: Record<string, { from: unknown; to: unknown }> = Object.fromEntries(
      (Object.keys(next) as (keyof typeof next)[])
        .filter((field) => next[field] !== policy[field])
        .map((field) => [
          field === "approverGroupId" ? "approverGroup" : field,
          field === "approverGroupId"
            ? { from: policy.approverGroup.email, to: group?.email }
            : { from: policy[field], to: next[field] },
        ]),
    );
    if (JSON.stringify(conditions) !== JSON.stringify(before)) {
      changed.autoApproveWhen = {
        from: await describeConditions(tx, before),
        to: await describeConditions(tx, conditions),
      };
    }
    const laterStages = stages ? stages.later : policy.laterStages;
    if (next.approvalType === "AUTO" && laterStages !== null) {
      throw new ValidationError("approvalType", "a multi-stage policy stays MANUAL; send one stage in stages first");
    }
    if (stages && JSON.stringify(stages.later) !== JSON.stringify(policy.laterStages)) {
      changed.stages = { from: await describeStages(tx, policy, policy.laterStages), to: stages.shown };
    }
    const { requestLifetimeHours } = await tx.elevatedAccessControl.findUniqueOrThrow({
      where: { organizationId: ctx.organizationId },
      select: { requestLifetimeHours: true },
    });
    // Each field left out keeps its value; the pair that results is validated as a whole.
    const escalation = await resolveEscalation(tx, ctx.organizationId, {
      group: input.escalationGroup === undefined ? policy.escalationGroupId : input.escalationGroup,
      afterHours: input.escalateAfterHours === undefined ? policy.escalateAfterHours : input.escalateAfterHours,
      approvalType: next.approvalType,
      requestLifetimeHours,
    });
    if (escalation?.groupId !== (policy.escalationGroupId ?? undefined)) {
      changed.escalationGroup = { from: policy.escalationGroup?.email ?? null, to: escalation?.email ?? null };
    }
    if ((escalation?.afterHours ?? null) !== policy.escalateAfterHours) {
      changed.escalateAfterHours = { from: policy.escalateAfterHours, to: escalation?.afterHours ?? null };
    }
    if (Object.keys(changed).length === 0) return policy;
    const updated = await tx.approvalPolicy.update({
      where: { id: policy.id },
      data: {
        ...next,
        autoApproveWhen: conditions ?? Prisma.DbNull,
        laterStages: laterStages ?? Prisma.DbNull,
        escalationGroupId: escalation?.groupId ?? null,
        escalateAfterHours: escalation?.afterHours ?? null,
      },
    });
    audit({
      action: "Set-ElevatedAccessApprovalPolicy",
      subjectId: policy.id,
      details: { type: policy.type, target: policy.target, changes: changed },
    });
    effect({ kind: "coverageChanged", organizationId: ctx.organizationId });
    return updated;
  });
}
