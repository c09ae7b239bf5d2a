import type { ElevatedAccessControl } from "../../db/client.ts";
import { ControlDisabledError, ValidationError } from "../errors.ts";

// Customer Lockbox: a vendor's support identity asks for access to the organization's
// content. Its requests are filed without a policy, under the organization's Lockbox
// settings on the control: the Lockbox approver group decides (one approval), an
// undecided request expires after lockboxRequestLifetimeHours, a grant lasts at most
// lockboxMaxDurationHours. Everything after filing (decisions, mail, events, expiry and
// end jobs, authorizeTask) is the same code as for any request: the request carries its
// own expiresAt and the grant its own endsAt, so the jobs keep the configured times.

/** Bounds of the organization's Lockbox settings. */
export const maxLockboxRequestLifetimeHours = 72;
export const maxLockboxDurationHours = 24;

/** What a vendor's request is filed under. */
export interface LockboxTerms {
  approverGroupId: string;
  durationHours: number;
  lifetimeHours: number;
}

/**
 * The terms of a vendor's request now, or why none can be filed: Lockbox off (no approver
 * group named), or more hours asked than the organization allows.
 */
export function lockboxTerms(
  control: Pick<
    ElevatedAccessControl,
    "lockboxApproverGroupId" | "lockboxMaxDurationHours" | "lockboxRequestLifetimeHours" | "defaultDurationHours"
  >,
  durationHours: number | null | undefined,
): LockboxTerms {
  if (!control.lockboxApproverGroupId) {
    throw new ControlDisabledError("Customer Lockbox is off: the organization has named no Lockbox approver group");
  }
  const hours = durationHours ?? Math.min(control.defaultDurationHours, control.lockboxMaxDurationHours);
  if (hours > control.lockboxMaxDurationHours) {
    throw new ValidationError(
      "durationHours",
      `must be at most ${control.lockboxMaxDurationHours} hours for a Customer Lockbox request`,
    );
  }
  return {
    approverGroupId: control.lockboxApproverGroupId,
    durationHours: hours,
    lifetimeHours: control.lockboxRequestLifetimeHours,
  };
}
