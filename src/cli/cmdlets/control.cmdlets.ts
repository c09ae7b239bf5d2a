import { expectType } from "../client.ts";
import { choice, cmdlet, int, list, text } from "../cmdlet.ts";
import { ApiError } from "../errors.ts";
import { graphql } from "../graphql/gql.ts";
import type { ControlFieldsFragment } from "../graphql/graphql.ts";
import { one, pascal, type Row, type View } from "../output.ts";

graphql(`
  fragment ControlFields on ElevatedAccessControl {
    enabled
    defaultApproverGroup { email }
    systemAccounts @include(if: $withAccounts) { email }
    maxPolicies
    requestLifetimeHours
    defaultDurationHours
    unknownTasks
    reminderHours
    requireMfaForDecisions
    mfaAcrValues
    timeZone
    lockboxApproverGroup { email }
    lockboxRequestLifetimeHours
    lockboxMaxDurationHours
    updatedAt
  }
`);

const controlView: View = {
  properties: [
    "Enabled",
    "AdminGroup",
    "SystemAccounts",
    "DefaultDurationHours",
    "RequestLifetimeHours",
    "MaxPolicies",
    "UnknownTasks",
    "ReminderHours",
    "RequireMfaForDecisions",
    "MfaAcrValues",
    "TimeZone",
    "LockboxApproverGroup",
    "LockboxRequestLifetimeHours",
    "LockboxMaxDurationHours",
    "WhenChanged",
  ],
  table: ["Enabled", "AdminGroup", "SystemAccounts"],
};

function controlRow(control: ControlFieldsFragment): Row {
  return {
    Enabled: control.enabled,
    AdminGroup: control.defaultApproverGroup?.email ?? null,
    SystemAccounts: control.systemAccounts?.map((account) => account.email) ?? null,
    DefaultDurationHours: control.defaultDurationHours,
    RequestLifetimeHours: control.requestLifetimeHours,
    MaxPolicies: control.maxPolicies,
    UnknownTasks: pascal(control.unknownTasks),
    ReminderHours: control.reminderHours,
    RequireMfaForDecisions: control.requireMfaForDecisions,
    MfaAcrValues: control.mfaAcrValues,
    TimeZone: control.timeZone,
    LockboxApproverGroup: control.lockboxApproverGroup?.email ?? null,
    LockboxRequestLifetimeHours: control.lockboxRequestLifetimeHours,
    LockboxMaxDurationHours: control.lockboxMaxDurationHours,
    WhenChanged: control.updatedAt,
  };
}

const EnableControl = graphql(`
  mutation CliEnableControl($input: EnableElevatedAccessControlInput!, $withAccounts: Boolean! = true) {
    enableElevatedAccessControl(input: $input) {
      __typename
      ... on ElevatedAccessControl { ...ControlFields }
      ... on Error { code message }
      ... on ValidationError { field }
      ... on NotFoundError { field }
    }
  }
`);

export const enableControl = cmdlet({
  name: "Enable-ElevatedAccessControl",
  synopsis: "Turns privileged access on for the organization (admins)",
  examples: [
    "Enable-ElevatedAccessControl -AdminGroup 'pamapprovers@fabrikam.com' -SystemAccounts @('sys1@fabrikam.com','sys2@fabrikam.com')",
  ],
  parameters: {
    AdminGroup: text("The default approver group's address", { mandatory: true }),
    SystemAccounts: list("Accounts the control never gates (every bypass is logged)"),
  },
  view: controlView,
  async run(values, { api }) {
    const data = await api.request(EnableControl, {
      input: { adminGroup: values.AdminGroup, systemAccounts: values.SystemAccounts ?? null },
    });
    return one(controlRow(expectType(data.enableElevatedAccessControl, "ElevatedAccessControl")));
  },
});

const DisableControl = graphql(`
  mutation CliDisableControl($withAccounts: Boolean! = true) {
    disableElevatedAccessControl {
      __typename
      ... on ElevatedAccessControl { ...ControlFields }
      ... on Error { code message }
      ... on ValidationError { field }
      ... on NotFoundError { field }
    }
  }
`);

export const disableControl = cmdlet({
  name: "Disable-ElevatedAccessControl",
  synopsis: "Turns privileged access off; policies and approver groups are kept (admins)",
  examples: ["Disable-ElevatedAccessControl"],
  parameters: {},
  view: controlView,
  async run(_values, { api }) {
    const data = await api.request(DisableControl);
    return one(controlRow(expectType(data.disableElevatedAccessControl, "ElevatedAccessControl")));
  },
});

const Control = graphql(`
  query CliControl($withAccounts: Boolean!) {
    elevatedAccessControl { ...ControlFields }
  }
`);

export const getControl = cmdlet({
  name: "Get-ElevatedAccessControl",
  synopsis: "Shows whether privileged access is on, and its settings",
  examples: ["Get-ElevatedAccessControl", "Get-ElevatedAccessControl -ExpandProperty Enabled"],
  parameters: {},
  view: controlView,
  async run(_values, { api }) {
    try {
      return one(controlRow((await api.request(Control, { withAccounts: true })).elevatedAccessControl));
    } catch (error) {
      // Only admins, auditors and approvers see the system accounts; others get the rest.
      if (!(error instanceof ApiError && error.code === "FORBIDDEN")) throw error;
      return one(controlRow((await api.request(Control, { withAccounts: false })).elevatedAccessControl));
    }
  },
});

const UpdateControl = graphql(`
  mutation CliUpdateControl($input: UpdateElevatedAccessControlInput!, $withAccounts: Boolean! = true) {
    updateElevatedAccessControl(input: $input) {
      __typename
      ... on ElevatedAccessControl { ...ControlFields }
      ... on Error { code message }
      ... on ValidationError { field }
      ... on NotFoundError { field }
    }
  }
`);

export const setControl = cmdlet({
  name: "Set-ElevatedAccessControl",
  synopsis: "Changes the control's settings; parameters left out keep their value (admins)",
  examples: [
    "Set-ElevatedAccessControl -SystemAccounts @('sys1@fabrikam.com') -DefaultDurationHours 2",
    "Set-ElevatedAccessControl -SystemAccounts @() -UnknownTasks Deny",
    "Set-ElevatedAccessControl -ReminderHours @(2,12)",
    "Set-ElevatedAccessControl -RequireMfaForDecisions True -MfaAcrValues @('c2') -TimeZone 'Europe/Paris'",
    "Set-ElevatedAccessControl -LockboxApproverGroup 'lockbox@fabrikam.com' -LockboxRequestLifetimeHours 12 -LockboxMaxDurationHours 4",
  ],
  parameters: {
    AdminGroup: text("The default approver group's address"),
    SystemAccounts: list("Replaces the accounts the control never gates; @() for none"),
    DefaultDurationHours: int("Access duration when a request names none"),
    RequestLifetimeHours: int("How long a request waits for a decision (1 to 168)"),
    MaxPolicies: int("The most policies the organization may have"),
    UnknownTasks: choice({ Deny: "DENY", Allow: "ALLOW" }, "Test-ElevatedAccess's answer for tasks the catalog lacks"),
    ReminderHours: list("Hours after creation to remind undecided approvers, e.g. @(4,20); @() for none"),
    RequireMfaForDecisions: choice(
      { True: "true", False: "false" },
      "Approvers of every policy decide with multi-factor authentication",
    ),
    MfaAcrValues: list("Token acr values that count as multi-factor authentication; @() for none"),
    TimeZone: text("IANA time zone that auto-approval windows are read in, e.g. 'Europe/Paris'"),
    LockboxApproverGroup: text("The group deciding vendors' Customer Lockbox requests; naming one turns Lockbox on"),
    LockboxRequestLifetimeHours: int("Hours an undecided Customer Lockbox request waits (1 to 72, default 12)"),
    LockboxMaxDurationHours: int("The most hours a Customer Lockbox access lasts (1 to 24, default 4)"),
  },
  view: controlView,
  async run(values, { api }) {
    const input = {
      ...(values.AdminGroup !== undefined ? { defaultApproverGroup: values.AdminGroup } : {}),
      ...(values.SystemAccounts !== undefined ? { systemAccounts: values.SystemAccounts } : {}),
      ...(values.DefaultDurationHours !== undefined ? { defaultDurationHours: values.DefaultDurationHours } : {}),
      ...(values.RequestLifetimeHours !== undefined ? { requestLifetimeHours: values.RequestLifetimeHours } : {}),
      ...(values.MaxPolicies !== undefined ? { maxPolicies: values.MaxPolicies } : {}),
      ...(values.UnknownTasks !== undefined ? { unknownTasks: values.UnknownTasks } : {}),
      ...(values.ReminderHours !== undefined ? { reminderHours: values.ReminderHours.map(Number) } : {}),
      ...(values.RequireMfaForDecisions !== undefined
        ? { requireMfaForDecisions: values.RequireMfaForDecisions === "true" }
        : {}),
      ...(values.MfaAcrValues !== undefined ? { mfaAcrValues: values.MfaAcrValues } : {}),
      ...(values.TimeZone !== undefined ? { timeZone: values.TimeZone } : {}),
      ...(values.LockboxApproverGroup !== undefined ? { lockboxApproverGroup: values.LockboxApproverGroup } : {}),
      ...(values.LockboxRequestLifetimeHours !== undefined
        ? { lockboxRequestLifetimeHours: values.LockboxRequestLifetimeHours }
        : {}),
      ...(values.LockboxMaxDurationHours !== undefined
        ? { lockboxMaxDurationHours: values.LockboxMaxDurationHours }
        : {}),
    };
    const data = await api.request(UpdateControl, { input });
    return one(controlRow(expectType(data.updateElevatedAccessControl, "ElevatedAccessControl")));
  },
});
