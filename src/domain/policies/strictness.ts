import type { ApprovalType } from "../../db/client.ts";

/**
 * Precedence: which approval a grant stands for, and whether that is enough for a
 * task whose own policy asks for something else.
 *
 * A grant on a role or role group reaches every task inside it, but each task is
 * governed by its most specific policy (its own, else its role's, else its role
 * group's). The grant covers such a task only when that policy is the one the
 * grant was approved under, or asks for nothing the grant's approval lacked:
 *
 * - approval type: MANUAL is stricter than AUTO;
 * - approver group: a MANUAL policy's group must be the group that approved (another
 *   group's members are other people, whoever they are today);
 * - quorum: the grant needed at least as many approvals;
 * - stages: the grant went through at least as many approval stages;
 * - maximum duration: the grant's window is no longer than the policy allows.
 */
export interface ApprovalTerms {
  approvalType: ApprovalType;
  approverGroupId: string;
  requiredApprovals: number;
  /** Approval stages, one for a single-stage policy (policies/stages.ts). */
  stageCount: number;
}

export interface GoverningPolicy extends ApprovalTerms {
  id: string;
  /** As shown, e.g. "Exchange\\New-MoveRequest". */
  target: string;
  maxDurationHours: number | null;
}

/** What a grant (or a request about to become one) was approved under. */
export interface GrantTerms extends ApprovalTerms {
  /** Null when the policy was removed since; the terms stay. */
  policyId: string | null;
  durationHours: number;
}

export type StrictnessDimension =
  | "approvalType"
  | "approverGroup"
  | "requiredApprovals"
  | "stages"
  | "maxDurationHours";

/** The dimensions in which `policy` asks for more than `grant` had; empty when it asks for no more. */
export function stricterIn(policy: GoverningPolicy, grant: GrantTerms): StrictnessDimension[] {
  const stricter: StrictnessDimension[] = [];
  if (policy.approvalType === "MANUAL") {
    if (grant.approvalType !== "MANUAL") stricter.push("approvalType");
    else {
      if (grant.approverGroupId !== policy.approverGroupId) stricter.push("approverGroup");
      if (grant.requiredApprovals < policy.requiredApprovals) stricter.push("requiredApprovals");
      if (grant.stageCount < policy.stageCount) stricter.push("stages");
    }
  }
  if (policy.maxDurationHours !== null && grant.durationHours > policy.maxDurationHours) {
    stricter.push("maxDurationHours");
  }
  return stricter;
}

/** Whether a grant satisfies a task's governing policies (all of them, when several are equally specific). */
export function grantSatisfies(governing: readonly GoverningPolicy[], grant: GrantTerms): boolean {
  return governing.every((policy) => policy.id === grant.policyId || stricterIn(policy, grant).length === 0);
}

/** The terms a request gets from the policy that governs it, for `durationHours`. */
export function termsOf(policy: GoverningPolicy, durationHours: number): GrantTerms {
  return {
    policyId: policy.id,
    approvalType: policy.approvalType,
    approverGroupId: policy.approverGroupId,
    requiredApprovals: policy.requiredApprovals,
    stageCount: policy.stageCount,
    durationHours,
  };
}

/**
 * Of equally specific policies, the one whose approval satisfies all the others,
 * or null when none does (say, two MANUAL policies with different groups).
 */
export function strictestOf<P extends GoverningPolicy>(policies: readonly P[], durationHours: number): P | null {
  return policies.find((candidate) => grantSatisfies(policies, termsOf(candidate, durationHours))) ?? null;
}

const dimensionLabels: Record<StrictnessDimension, (policy: GoverningPolicy) => string> = {
  approvalType: () => "manual approval",
  approverGroup: () => "another approver group",
  requiredApprovals: (policy) => `${policy.requiredApprovals} approvals`,
  stages: (policy) => `${policy.stageCount} approval stages`,
  maxDurationHours: (policy) => `at most ${policy.maxDurationHours} hours`,
};

/** "Exchange\\New-MoveRequest (manual approval, at most 8 hours)" */
export function describeStricter(policy: GoverningPolicy, dimensions: StrictnessDimension[]): string {
  return `${policy.target} (${dimensions.map((dimension) => dimensionLabels[dimension](policy)).join(", ")})`;
}

/** The policies at the smallest depth: the most specific ones for a task. */
export function mostSpecific<T extends { depth: number }>(candidates: readonly T[]): T[] {
  const depth = Math.min(...candidates.map((candidate) => candidate.depth));
  return candidates.filter((candidate) => candidate.depth === depth);
}
