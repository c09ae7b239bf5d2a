import type { Tx } from "../../db/client.ts";
import type { Authentication } from "../context.ts";
import { StepUpRequiredError } from "../errors.ts";

// Step-up at decision: a policy (or the organization, for every policy) may require
// that approvers decide with multi-factor authentication. The rule lives here, once:
// the decision transaction asserts it, and the email pages ask it before showing a
// form that could never decide.

/** What the organization accepts as multi-factor: `amr` containing `mfa`, or one of its named `acr` values. */
export function showsMfa(authentication: Authentication | undefined, acceptedAcrValues: readonly string[]): boolean {
  if (!authentication) return false;
  if (authentication.methods.includes("mfa")) return true;
  return authentication.context !== null && acceptedAcrValues.includes(authentication.context);
}

export interface StepUpRule {
  /** Approvers of this request must decide with MFA. */
  required: boolean;
  acceptedAcrValues: string[];
}

/**
 * The step-up rule for a request now: its policy's flag as filed, or the organization's
 * setting as it is (turning the setting on protects requests already waiting too).
 */
export async function stepUpRule(
  tx: Pick<Tx, "elevatedAccessControl">,
  request: { organizationId: string; requireMfa: boolean },
): Promise<StepUpRule> {
  const control = await tx.elevatedAccessControl.findUnique({
    where: { organizationId: request.organizationId },
    select: { requireMfaForDecisions: true, mfaAcrValues: true },
  });
  return {
    required: request.requireMfa || (control?.requireMfaForDecisions ?? false),
    acceptedAcrValues: control?.mfaAcrValues ?? [],
  };
}

/** Refuses a decision whose caller's token does not show the MFA the rule asks for. */
export function assertStepUp(rule: StepUpRule, authentication: Authentication | undefined): void {
  if (!rule.required || showsMfa(authentication, rule.acceptedAcrValues)) return;
  const accepted = rule.acceptedAcrValues.length ? ` (or an acr of ${rule.acceptedAcrValues.join(", ")})` : "";
  throw new StepUpRequiredError(
    "authentication",
    authentication
      ? `this request's approvers must decide with multi-factor authentication: your token's amr has no mfa${accepted}; sign in again with MFA and decide once more`
      : "this request's approvers must decide signed in with multi-factor authentication: open the request in the console and sign in there",
  );
}
