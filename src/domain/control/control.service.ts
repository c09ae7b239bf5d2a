import { z } from "zod";
import { requireAdmin } from "../access.ts";
import { findApproverGroup, usersByEmail } from "../approver-groups/approver-groups.service.ts";
import type { ServiceContext } from "../context.ts";
import { transition } from "../transition.ts";
import { emailAddress, nonEmptyText, parseInput } from "../validation.ts";

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
