import { type AutoApprovalConditions, weekdays } from "../../../domain/policies/auto-approval.ts";
import { builder } from "../../builder.ts";

// Conditional auto-approval as the API shows and takes it (rules: domain/policies/auto-approval.ts).

export const WeekdayEnum = builder.enumType("Weekday", { values: weekdays });

const WeeklyWindow = builder.objectRef<NonNullable<AutoApprovalConditions["window"]>>("WeeklyWindow").implement({
  description: "Days of the week and a time span (HH:MM, end excluded) in the organization's time zone",
  fields: (t) => ({
    days: t.field({ type: [WeekdayEnum], resolve: (window) => window.days }),
    start: t.exposeString("start"),
    end: t.exposeString("end"),
  }),
});

export const AutoApprovalConditionsRef = builder.objectRef<AutoApprovalConditions>("AutoApprovalConditions").implement({
  description: "When a MANUAL policy approves at once: every condition named here holds (others: its approvers)",
  fields: (t) => ({
    requesterInGroup: t.prismaField({
      type: "ApproverGroup",
      nullable: true,
      description: "The requester is a member of this group",
      resolve: (query, conditions, _args, ctx) =>
        conditions.requesterInGroupId
          ? ctx.db.approverGroup.findFirst({
              ...query,
              where: { id: conditions.requesterInGroupId, organizationId: ctx.actor.organizationId },
            })
          : null,
    }),
    maxDurationHours: t.exposeInt("maxDurationHours", {
      nullable: true,
      description: "The request asks for at most this many hours",
    }),
    window: t.field({
      type: WeeklyWindow,
      nullable: true,
      description: "The request is filed inside this weekly window",
      resolve: (conditions) => conditions.window,
    }),
    ticketGiven: t.exposeBoolean("ticketGiven", {
      description: "The request gives a ticket reference (valid by the policy's ticket pattern, when it has one)",
    }),
  }),
});

const WeeklyWindowInput = builder.inputType("WeeklyWindowInput", {
  fields: (t) => ({
    days: t.field({ type: [WeekdayEnum], required: true }),
    start: t.string({ required: true, description: "HH:MM, 00:00 to 23:59" }),
    end: t.string({ required: true, description: "HH:MM, after start; excluded" }),
  }),
});

export const AutoApprovalConditionsInput = builder.inputType("AutoApprovalConditionsInput", {
  description: "At least one condition; a request meeting all of them is approved at once",
  fields: (t) => ({
    requesterInGroup: t.string({ description: "Approver group email or ID the requester must be a member of" }),
    maxDurationHours: t.int(),
    window: t.field({ type: WeeklyWindowInput, description: "In the organization's time zone (control.timeZone)" }),
    ticketGiven: t.boolean({ description: "true: the request must give a ticket reference" }),
  }),
});
