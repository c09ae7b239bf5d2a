import { z } from "zod";
import { requireAdmin } from "../access.ts";
import { findApproverGroup, usersByEmail } from "../approver-groups/approver-groups.service.ts";
import { maxGrantHours } from "../catalog/catalog.service.ts";
import type { ServiceContext } from "../context.ts";
import { ConflictError } from "../errors.ts";
import { timeZoneName } from "../policies/auto-approval.ts";
import { maxLockboxDurationHours, maxLockboxRequestLifetimeHours } from "../requests/lockbox.ts";
import { transition } from "../transition.ts";
import { emailAddress, nonEmptyText, parseInput, wholeHours } from "../validation.ts";

/** A request nobody decides within a week is not waiting for a decision any more. */
export const maxRequestLifetimeHours = 168;
const maxPoliciesLimit = 200;

const enableInput = z.object({
  adminGroup: nonEmptyText(254),
  systemAccounts: z.array(emailAddress).max(50, "must list at most 50 accounts").nullish(),
});

export async function enableElevatedAccessControl(ctx: ServiceContext, rawInput: unknown) {
  requireAdmin(ctx);
  const input = parseInput(enableInput, rawInput);
  return transition(ctx, async ({ tx, audit, effect }) => {
    const group = await findApproverGroup(tx, ctx.organizationId, input.adminGroup, "adminGroup");
    const accounts = await usersByEmail(tx, ctx.organizationId, input.systemAccounts ?? [], "systemAccounts");
    await tx.controlSystemAccount.deleteMany({ where: { organizationId: ctx.organizationId } });
    const control = await tx.elevatedAccessControl.update({
      where: { organizationId: ctx.organizationId },
      data: {
        enabled: true,
        defaultApproverGroupId: group.id,
        systemAccounts: { create: accounts.map((user) => ({ userId: user.id })) },
      },
    });
    audit({
      action: "Enable-ElevatedAccessControl",
      details: { adminGroup: group.email, systemAccounts: accounts.map((user) => user.email).sort() },
    });
    effect({ kind: "coverageChanged", organizationId: ctx.organizationId });
    return control;
  });
}

const updateInput = z.object({
  defaultApproverGroup: nonEmptyText(254).nullish(),
  systemAccounts: z.array(emailAddress).max(50, "must list at most 50 accounts").nullish(),
  defaultDurationHours: wholeHours(maxGrantHours).nullish(),
  requestLifetimeHours: wholeHours(maxRequestLifetimeHours).nullish(),
  maxPolicies: z
    .number("must be a number")
    .int("must be a whole number")
    .min(1, "must be at least 1")
    .max(maxPoliciesLimit, `must be at most ${maxPoliciesLimit}`)
    .nullish(),
  unknownTasks: z.enum(["DENY", "ALLOW"]).nullish(),
  maxPendingRequestsPerUser: z
    .number("must be a number")
    .int("must be a whole number")
    .min(1, "must be at least 1")
    .max(1000, "must be at most 1000")
    .nullish(),
  /** Empty: no reminders. */
  reminderHours: z
    .array(wholeHours(maxRequestLifetimeHours))
    .max(5, "must list at most 5 points")
    .transform((hours) => [...new Set(hours)].sort((a, b) => a - b))
    .nullish(),
  requireMfaForDecisions: z.boolean("must be true or false").nullish(),
  mfaAcrValues: z.array(nonEmptyText(128)).max(10, "must list at most 10 values").nullish(),
  timeZone: timeZoneName.nullish(),
  /** Naming it turns Customer Lockbox on (requests/lockbox.ts). */
  lockboxApproverGroup: nonEmptyText(254).nullish(),
  lockboxRequestLifetimeHours: wholeHours(maxLockboxRequestLifetimeHours).nullish(),
  lockboxMaxDurationHours: wholeHours(maxLockboxDurationHours).nullish(),
});

/**
 * Changes the control's settings (Set-ElevatedAccessControl); fields left out keep
 * their value. Requests already filed keep the lifetime and duration they got.
 */
export async function updateElevatedAccessControl(ctx: ServiceContext, rawInput: unknown) {
  requireAdmin(ctx);
  const input = parseInput(updateInput, rawInput);
  return transition(ctx, async ({ tx, audit, effect }) => {
    // Serializes with policy creation, which checks the limit under the same lock.
    const [before] = await tx.$queryRaw<
      {
        defaultApproverGroupId: string | null;
        maxPolicies: number;
        requestLifetimeHours: number;
        defaultDurationHours: number;
        unknownTasks: string;
        maxPendingRequestsPerUser: number;
        requireMfaForDecisions: boolean;
        mfaAcrValues: string[];
        timeZone: string;
        lockboxRequestLifetimeHours: number;
        lockboxMaxDurationHours: number;
      }[]
    >`SELECT "defaultApproverGroupId"::text, "maxPolicies", "requestLifetimeHours", "defaultDurationHours",
        "unknownTasks"::text, "maxPendingRequestsPerUser", "requireMfaForDecisions", "mfaAcrValues", "timeZone",
        "lockboxRequestLifetimeHours", "lockboxMaxDurationHours"
      FROM "ElevatedAccessControl" WHERE "organizationId" = ${ctx.organizationId}::uuid FOR UPDATE`;
    if (!before) throw new Error("organization has no control settings");
    const group = input.defaultApproverGroup
      ? await findApproverGroup(tx, ctx.organizationId, input.defaultApproverGroup, "defaultApproverGroup")
      : null;
    const lockboxGroup = input.lockboxApproverGroup
      ? await findApproverGroup(tx, ctx.organizationId, input.lockboxApproverGroup, "lockboxApproverGroup")
      : null;
    if (input.maxPolicies != null) {
      const count = await tx.approvalPolicy.count({ where: { organizationId: ctx.organizationId } });
      if (input.maxPolicies < count) {
        throw new ConflictError(`maxPolicies: the organization already has ${count} policies; remove some first`);
      }
    }
    const accounts =
      input.systemAccounts != null
        ? await usersByEmail(tx, ctx.organizationId, input.systemAccounts, "systemAccounts")
        : null;
    const acrValues = input.mfaAcrValues ? [...new Set(input.mfaAcrValues)] : null;
    if (accounts) await tx.controlSystemAccount.deleteMany({ where: { organizationId: ctx.organizationId } });
    const control = await tx.elevatedAccessControl.update({
      where: { organizationId: ctx.organizationId },
      data: {
        ...(group ? { defaultApproverGroupId: group.id } : {}),
        ...(input.defaultDurationHours != null ? { defaultDurationHours: input.defaultDurationHours } : {}),
        ...(input.requestLifetimeHours != null ? { requestLifetimeHours: input.requestLifetimeHours } : {}),
        ...(input.maxPolicies != null ? { maxPolicies: input.maxPolicies } : {}),
        ...(input.unknownTasks ? { unknownTasks: input.unknownTasks } : {}),
        ...(input.maxPendingRequestsPerUser != null
          ? { maxPendingRequestsPerUser: input.maxPendingRequestsPerUser }
          : {}),
        ...(input.requireMfaForDecisions != null ? { requireMfaForDecisions: input.requireMfaForDecisions } : {}),
        ...(acrValues ? { mfaAcrValues: acrValues } : {}),
        ...(input.timeZone ? { timeZone: input.timeZone } : {}),
        ...(lockboxGroup ? { lockboxApproverGroupId: lockboxGroup.id } : {}),
        ...(input.lockboxRequestLifetimeHours != null
          ? { lockboxRequestLifetimeHours: input.lockboxRequestLifetimeHours }
          : {}),
        ...(input.lockboxMaxDurationHours != null ? { lockboxMaxDurationHours: input.lockboxMaxDurationHours } : {}),
        ...(accounts ? { systemAccounts: { create: accounts.map((user) => ({ userId: user.id })) } } : {}),
        ...(input.reminderHours ? { reminderHours: input.reminderHours } : {}),
      },
    });
    audit({
      action: "Set-ElevatedAccessControl",
      details: {
        ...(group ? { defaultApproverGroup: group.email } : {}),
        ...(lockboxGroup ? { lockboxApproverGroup: lockboxGroup.email } : {}),
        ...(accounts ? { systemAccounts: accounts.map((user) => user.email).sort() } : {}),
        ...(input.reminderHours ? { reminderHours: input.reminderHours } : {}),
        ...(acrValues && acrValues.join() !== before.mfaAcrValues.join()
          ? { mfaAcrValues: { from: before.mfaAcrValues, to: acrValues } }
          : {}),
        ...Object.fromEntries(
          (
            [
              "defaultDurationHours",
              "requestLifetimeHours",
              "maxPolicies",
              "unknownTasks",
              "maxPendingRequestsPerUser",
              "requireMfaForDecisions",
              "timeZone",
              "lockboxRequestLifetimeHours",
              "lockboxMaxDurationHours",
            ] as const
          )
            .filter((field) => input[field] != null && input[field] !== before[field])
            .map((field) => [field, { from: before[field], to: input[field] }]),
        ),
      },
    });
    effect({ kind: "coverageChanged", organizationId: ctx.organizationId });
    return control;
  });
}

/** Turns the control off; policies, groups and system accounts are kept for the next enable. */
export async function disableElevatedAccessControl(ctx: ServiceContext) {
  requireAdmin(ctx);
  return transition(ctx, async ({ tx, audit, effect }) => {
    const control = await tx.elevatedAccessControl.update({
      where: { organizationId: ctx.organizationId },
      data: { enabled: false },
    });
    audit({ action: "Disable-ElevatedAccessControl", details: {} });
    effect({ kind: "coverageChanged", organizationId: ctx.organizationId });
    return control;
  });
}
