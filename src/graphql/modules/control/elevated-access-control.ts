import {
  disableElevatedAccessControl,
  enableElevatedAccessControl,
  updateElevatedAccessControl,
} from "../../../domain/control/control.service.ts";
import { builder } from "../../builder.ts";
import { UnknownTaskActionEnum } from "../common/enums.ts";
import { mutationErrors } from "../common/mutation-result.ts";
import { UserNode } from "../users/user.node.ts";

const ElevatedAccessControl = builder.prismaObject("ElevatedAccessControl", {
  fields: (t) => ({
    enabled: t.exposeBoolean("enabled"),
    defaultApproverGroup: t.relation("defaultApproverGroup", { nullable: true }),
    systemAccounts: t.field({
      type: [UserNode],
      authScopes: { approvalReader: true },
      description: "Principals excluded from the control; every bypass is logged. Admins, auditors and approvers only",
      select: { systemAccounts: { select: { user: true } } },
      resolve: (control) => control.systemAccounts.map((account) => account.user),
    }),
    maxPolicies: t.exposeInt("maxPolicies"),
    requestLifetimeHours: t.exposeInt("requestLifetimeHours"),
    defaultDurationHours: t.exposeInt("defaultDurationHours"),
    reminderHours: t.exposeIntList("reminderHours", {
      description: "Hours after a request's creation at which undecided approvers are reminded (default 4 and 20)",
    }),
    maxPendingRequestsPerUser: t.exposeInt("maxPendingRequestsPerUser", {
      description: "Requests one requester may have waiting for a decision at once",
    }),
    unknownTasks: t.expose("unknownTasks", {
      type: UnknownTaskActionEnum,
      description: "What authorizeTask answers for a task the catalog does not know while the control is on",
    }),
    requireMfaForDecisions: t.exposeBoolean("requireMfaForDecisions", {
      description:
        "Every policy's approvers decide with multi-factor authentication, and email links send them to sign in first",
    }),
    mfaAcrValues: t.exposeStringList("mfaAcrValues", {
      description: "Token acr values that count as multi-factor authentication, besides an amr of mfa",
    }),
    timeZone: t.exposeString("timeZone", {
      description: "IANA time zone that auto-approval windows are read in (default UTC)",
    }),
    lockboxApproverGroup: t.relation("lockboxApproverGroup", {
      nullable: true,
      description: "Decides vendors' Customer Lockbox requests; null: Customer Lockbox is off",
    }),
    lockboxRequestLifetimeHours: t.exposeInt("lockboxRequestLifetimeHours", {
      description: "Hours after which an undecided Customer Lockbox request expires (default 12)",
    }),
    lockboxMaxDurationHours: t.exposeInt("lockboxMaxDurationHours", {
      description: "The most hours a Customer Lockbox grant lasts (default 4)",
    }),
    updatedAt: t.expose("updatedAt", { type: "DateTime" }),
  }),
});

builder.queryField("elevatedAccessControl", (t) =>
  t.prismaField({
    type: ElevatedAccessControl,
    resolve: (query, _root, _args, ctx) =>
      ctx.db.elevatedAccessControl.findUniqueOrThrow({ ...query, where: { organizationId: ctx.actor.organizationId } }),
  }),
);

const EnableElevatedAccessControlInput = builder.inputType("EnableElevatedAccessControlInput", {
  fields: (t) => ({
    adminGroup: t.string({ required: true, description: "Approver group email (or ID): the default approvers" }),
    systemAccounts: t.stringList({ description: "User principal names excluded from the control" }),
  }),
});

builder.mutationField("enableElevatedAccessControl", (t) =>
  t.field({
    type: ElevatedAccessControl,
    errors: mutationErrors("EnableElevatedAccessControlResult"),
    args: { input: t.arg({ type: EnableElevatedAccessControlInput, required: true }) },
    resolve: (_root, { input }, ctx) => enableElevatedAccessControl(ctx.services, input),
  }),
);

builder.mutationField("disableElevatedAccessControl", (t) =>
  t.field({
    type: ElevatedAccessControl,
    description: "Turns the control off; policies and groups are kept",
    errors: mutationErrors("DisableElevatedAccessControlResult"),
    resolve: (_root, _args, ctx) => disableElevatedAccessControl(ctx.services),
  }),
);

const UpdateElevatedAccessControlInput = builder.inputType("UpdateElevatedAccessControlInput", {
  description: "Fields left out keep their value",
  fields: (t) => ({
    defaultApproverGroup: t.string({ description: "Approver group email (or ID)" }),
    systemAccounts: t.stringList({ description: "Replaces the list of accounts excluded from the control" }),
    defaultDurationHours: t.int(),
    requestLifetimeHours: t.int({ description: "How long a request waits for a decision (1 to 168)" }),
    maxPolicies: t.int(),
    unknownTasks: t.field({ type: UnknownTaskActionEnum }),
    maxPendingRequestsPerUser: t.int({ description: "Requests one requester may have waiting at once (1 to 1000)" }),
    reminderHours: t.intList({
      description: "Hours after creation to remind undecided approvers (at most 5 points; empty: no reminders)",
    }),
    requireMfaForDecisions: t.boolean({ description: "Step-up at decision for every policy" }),
    mfaAcrValues: t.stringList({ description: "Replaces the acr values that count as multi-factor (at most 10)" }),
    timeZone: t.string({ description: "IANA time zone, e.g. Europe/Paris" }),
    lockboxApproverGroup: t.string({
      description: "Approver group email (or ID) deciding Customer Lockbox requests; naming one turns Lockbox on",
    }),
    lockboxRequestLifetimeHours: t.int({ description: "Hours an undecided Lockbox request waits (1 to 72)" }),
    lockboxMaxDurationHours: t.int({ description: "The most hours a Lockbox grant lasts (1 to 24)" }),
  }),
});

builder.mutationField("updateElevatedAccessControl", (t) =>
  t.field({
    type: ElevatedAccessControl,
    description: "Changes the control's settings (admins)",
    errors: mutationErrors("UpdateElevatedAccessControlResult"),
    args: { input: t.arg({ type: UpdateElevatedAccessControlInput, required: true }) },
    resolve: (_root, { input }, ctx) => updateElevatedAccessControl(ctx.services, input),
  }),
);
