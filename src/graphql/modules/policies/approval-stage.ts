import { readLaterStages, type StoredStage } from "../../../domain/policies/stages.ts";
import { builder } from "../../builder.ts";

// Multi-stage approval as the API shows and takes it (rules: domain/policies/stages.ts).

type StageView = StoredStage & { position: number };

export const ApprovalStageRef = builder.objectRef<StageView>("ApprovalStage").implement({
  description: "One stage of approval: its group's eligible members give requiredApprovals approvals",
  fields: (t) => ({
    position: t.exposeInt("position", { description: "1 for the first stage" }),
    approverGroup: t.prismaField({
      type: "ApproverGroup",
      nullable: true,
      resolve: (query, stage, _args, ctx) =>
        ctx.db.approverGroup.findFirst({
          ...query,
          where: { id: stage.approverGroupId, organizationId: ctx.actor.organizationId },
        }),
    }),
    requiredApprovals: t.exposeInt("requiredApprovals"),
  }),
});

/** Every stage of a policy (or of a request as filed, from its first stage's terms). */
export function stagesOf(first: StoredStage, laterStages: unknown): StageView[] {
  return [first, ...readLaterStages(laterStages)].map((stage, index) => ({ ...stage, position: index + 1 }));
}

export const ApprovalStageInput = builder.inputType("ApprovalStageInput", {
  fields: (t) => ({
    approverGroup: t.string({ required: true, description: "Approver group email or ID" }),
    requiredApprovals: t.int({ defaultValue: 1 }),
  }),
});
