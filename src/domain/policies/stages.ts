import { z } from "zod";
import type { Tx } from "../../db/client.ts";
import { findApproverGroup } from "../approver-groups/approver-groups.service.ts";
import { ValidationError } from "../errors.ts";
import { nonEmptyText } from "../validation.ts";

// Multi-stage approval: ordered stages, each with its approver group and quorum. The
// first stage is the policy's own group and quorum (so a single-stage policy is exactly
// today's policy); the stages after it are data kept beside them, on the policy and, as
// filed, on each request.

export const maxStages = 5;

const requiredApprovals = z
  .number("must be a number")
  .int("must be a whole number")
  .min(1, "must be at least 1")
  .max(10, "must be at most 10");

/** What an admin sends: every stage in order, groups by address or ID. */
export const stagesInput = z
  .array(
    z.object({
      approverGroup: nonEmptyText(254),
      requiredApprovals: requiredApprovals.nullish().transform((value) => value ?? 1),
    }),
  )
  .min(1, "must list at least one stage")
  .max(maxStages, `must list at most ${maxStages} stages`);

export type StagesInput = z.infer<typeof stagesInput>;

const storedStage = z.object({ approverGroupId: z.uuid(), requiredApprovals: z.number().int().min(1) });
export type StoredStage = z.infer<typeof storedStage>;

const storedStages = z.array(storedStage).max(maxStages - 1);

/**
 * The stages after the first, from a policy or request column. A value that does not
 * read is an error, never "no more stages": skipping a stage would approve with less.
 */
export function readLaterStages(value: unknown): StoredStage[] {
  if (value === null || value === undefined) return [];
  return storedStages.parse(value);
}

/** How many stages a policy or request has. */
export function stageCountOf(laterStages: unknown): number {
  return 1 + readLaterStages(laterStages).length;
}

/** The stages an admin sent, resolved: the first becomes the policy's own group and quorum. */
export async function resolveStages(tx: Tx, organizationId: string, input: StagesInput) {
  const stages: (StoredStage & { email: string })[] = [];
  for (const [index, stage] of input.entries()) {
    const group = await findApproverGroup(tx, organizationId, stage.approverGroup, `stages.${index}.approverGroup`);
    stages.push({ approverGroupId: group.id, requiredApprovals: stage.requiredApprovals, email: group.email });
  }
  const [first, ...later] = stages;
  return {
    first: first!,
    later: later.length
      ? later.map(({ approverGroupId, requiredApprovals }) => ({ approverGroupId, requiredApprovals }))
      : null,
    /** As the audit log shows them. */
    shown: stages.map(({ email, requiredApprovals }) => ({ approverGroup: email, requiredApprovals })),
  };
}

/** Stages replace a policy's approverGroup and requiredApprovals, and need a manual policy. */
export function assertStagesFit(
  input: { stages?: unknown; approverGroup?: unknown; requiredApprovals?: unknown },
  approvalType: "MANUAL" | "AUTO",
): void {
  if (input.stages == null) return;
  // requiredApprovals has a default of 1 in the API: only another value conflicts.
  if (input.approverGroup != null || (input.requiredApprovals != null && input.requiredApprovals !== 1)) {
    throw new ValidationError("stages", "replace approverGroup and requiredApprovals: give either stages or those");
  }
  if (approvalType !== "MANUAL") throw new ValidationError("stages", "apply to MANUAL policies only");
}

/** Every stage of a policy or request as the audit log and the API show them: groups by address. */
export async function describeStages(
  tx: Pick<Tx, "approverGroup">,
  first: StoredStage,
  laterStages: unknown,
): Promise<{ approverGroup: string; requiredApprovals: number }[]> {
  const stages = [first, ...readLaterStages(laterStages)];
  const groups = await tx.approverGroup.findMany({
    where: { id: { in: stages.map((stage) => stage.approverGroupId) } },
    select: { id: true, email: true },
  });
  const email = new Map(groups.map((group) => [group.id, group.email]));
  return stages.map((stage) => ({
    approverGroup: email.get(stage.approverGroupId) ?? stage.approverGroupId,
    requiredApprovals: stage.requiredApprovals,
  }));
}
