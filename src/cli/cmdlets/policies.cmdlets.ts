import { collect, expectType } from "../client.ts";
import { choice, cmdlet, int, list, resultSize, switchParam, table, text } from "../cmdlet.ts";
import { ApiError, UsageError } from "../errors.ts";
import { graphql } from "../graphql/gql.ts";
import type { PolicyFieldsFragment } from "../graphql/graphql.ts";
import { many, one, pascal, type Row, type View } from "../output.ts";
import { targetOf, targetParameters } from "./targets.ts";

graphql(`
  fragment PolicyFields on ApprovalPolicy {
    identity
    type
    scope
    target
    approvalType
    approverGroup { email }
    requiredApprovals
    maxDurationHours
    ticketRequired
    ticketPattern
    requireMfa
    stages { position approverGroup { email } requiredApprovals }
    escalationGroup { email }
    escalateAfterHours
    autoApproveWhen {
      requesterInGroup { email }
      maxDurationHours
      window { days start end }
      ticketGiven
    }
    createdAt
  }
`);

const policyView: View = {
  properties: [
    "Identity",
    "Type",
    "Service",
    "Target",
    "ApprovalType",
    "ApproverGroup",
    "RequiredApprovals",
    "MaxDurationHours",
    "TicketRequired",
    "TicketPattern",
    "RequireMfa",
    "Stages",
    "EscalationGroup",
    "EscalateAfterHours",
    "AutoApproveWhen",
    "WhenCreated",
  ],
  table: ["Identity", "Type", "Target", "ApprovalType", "ApproverGroup"],
};

function policyRow(policy: PolicyFieldsFragment): Row {
  return {
    Identity: policy.identity,
    Type: pascal(policy.type),
    Service: pascal(policy.scope),
    Target: policy.target,
    ApprovalType: pascal(policy.approvalType),
    ApproverGroup: policy.approverGroup.email,
    RequiredApprovals: policy.requiredApprovals,
    MaxDurationHours: policy.maxDurationHours ?? null,
    TicketRequired: policy.ticketRequired,
    TicketPattern: policy.ticketPattern ?? null,
    RequireMfa: policy.requireMfa,
    Stages: policy.stages.map(
      (stage) => `${stage.approverGroup?.email ?? "(removed group)"}:${stage.requiredApprovals}`,
    ),
    EscalationGroup: policy.escalationGroup?.email ?? null,
    EscalateAfterHours: policy.escalateAfterHours ?? null,
    AutoApproveWhen: conditionsText(policy.autoApproveWhen),
    WhenCreated: policy.createdAt,
  };
}

/** "RequesterInGroup=oncall@fabrikam.com; MaxDurationHours=2; Window=Mon,Tue 09:00-17:00; TicketGiven=True" */
function conditionsText(conditions: PolicyFieldsFragment["autoApproveWhen"]): string | null {
  if (!conditions) return null;
  const parts = [
    conditions.requesterInGroup && `RequesterInGroup=${conditions.requesterInGroup.email}`,
    conditions.maxDurationHours != null && `MaxDurationHours=${conditions.maxDurationHours}`,
    conditions.window &&
      `Window=${conditions.window.days.map(pascal).join(",")} ${conditions.window.start}-${conditions.window.end}`,
    conditions.ticketGiven && "TicketGiven=True",
  ];
  return parts.filter(Boolean).join("; ");
}

/** `-Stages @('leads@fabrikam.com', 'security@fabrikam.com:2')`: each stage's group and approvals, in order. */
function stagesOf(values: string[]) {
  return values.map((value) => {
    const match = /^(.+?)(?::(\d+))?$/.exec(value.trim());
    if (!match) throw new UsageError(`-Stages: '${value}' is not <group address>[:<approvals>]`);
    return { approverGroup: match[1]!, requiredApprovals: match[2] ? Number(match[2]) : 1 };
  });
}

const weekdayNames = { Mon: "MON", Tue: "TUE", Wed: "WED", Thu: "THU", Fri: "FRI", Sat: "SAT", Sun: "SUN" } as const;

/** `-AutoApproveWhen @{RequesterInGroup='oncall@fabrikam.com'; MaxDurationHours=2; Days='Mon,Fri'; Start='09:00'; End='17:00'}` */
function conditionsOf(table: Record<string, unknown>) {
  const entry = (name: string) =>
    Object.entries(table).find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1] ?? null;
  const known = ["RequesterInGroup", "MaxDurationHours", "Days", "Start", "End", "TicketGiven"];
  for (const key of Object.keys(table)) {
    if (!known.some((name) => name.toLowerCase() === key.toLowerCase())) {
      throw new UsageError(`-AutoApproveWhen: unknown key ${key}; use ${known.join(", ")}`);
    }
  }
  const days = entry("Days");
  const window =
    days === null
      ? null
      : {
          days: String(days)
            .split(",")
            .map((day) => {
              const name = Object.entries(weekdayNames).find(
                ([short, value]) =>
                  short.toLowerCase() === day.trim().toLowerCase() || value === day.trim().toUpperCase(),
              );
              if (!name) throw new UsageError(`-AutoApproveWhen: Days: '${day}' is not Mon, Tue, ... or Sun`);
              return name[1];
            }),
          start: String(entry("Start") ?? "00:00"),
          end: String(entry("End") ?? "23:59"),
        };
  const hours = entry("MaxDurationHours");
  const ticket = entry("TicketGiven");
  return {
    // PowerShell writes $true; bash users often type true or 1.
    ticketGiven: ticket === null ? null : ["true", "$true", "1"].includes(String(ticket).toLowerCase()),
    requesterInGroup: entry("RequesterInGroup") === null ? null : String(entry("RequesterInGroup")),
    maxDurationHours: hours === null ? null : Number(hours),
    window,
  };
}

const CreatePolicy = graphql(`
  mutation CliCreatePolicy($input: CreateApprovalPolicyInput!) {
    createApprovalPolicy(input: $input) {
      __typename
      ... on ApprovalPolicy { ...PolicyFields }
      ... on Error { code message }
      ... on ValidationError { field }
      ... on NotFoundError { field }
    }
  }
`);

export const newPolicy = cmdlet({
  name: "New-ElevatedAccessApprovalPolicy",
  synopsis: "Puts a task, role or role group under approval (admins)",
  examples: [
    "New-ElevatedAccessApprovalPolicy -Task 'Exchange\\New-MoveRequest' -ApprovalType Manual -ApproverGroup 'mbmanagers@fabrikam.com'",
    "New-ElevatedAccessApprovalPolicy -Role 'Move Mailboxes' -ApprovalType Auto",
    "New-ElevatedAccessApprovalPolicy -Task 'Exchange\\Search-Mailbox' -ApprovalType Manual -RequiredApprovals 2 -MaxDurationHours 8",
    "New-ElevatedAccessApprovalPolicy -Task 'Exchange\\Set-Mailbox' -ApprovalType Manual -TicketRequired -TicketPattern 'INC[0-9]{7}'",
    "New-ElevatedAccessApprovalPolicy -Task 'Exchange\\New-MoveRequest' -ApprovalType Manual -Stages @('leads@fabrikam.com', 'security@fabrikam.com:2') -RequireMfa",
    "New-ElevatedAccessApprovalPolicy -Task 'Exchange\\Search-Mailbox' -ApprovalType Manual -EscalationGroup 'oncall@fabrikam.com' -EscalateAfterHours 4",
    "New-ElevatedAccessApprovalPolicy -Task 'Exchange\\Set-Mailbox' -ApprovalType Manual -AutoApproveWhen \"@{RequesterInGroup='oncall@fabrikam.com'; MaxDurationHours=2; Days='Mon,Tue,Wed,Thu,Fri'; Start='09:00'; End='17:00'}\"",
  ],
  parameters: {
    ...targetParameters("A task, e.g. 'Exchange\\New-MoveRequest'"),
    ApprovalType: choice({ Manual: "MANUAL", Auto: "AUTO" }, "Manual: approvers decide; Auto: approved at once", {
      mandatory: true,
    }),
    ApproverGroup: text("The approver group's address (default: the control's admin group)"),
    RequiredApprovals: int("Distinct approvals needed (default 1)"),
    MaxDurationHours: int("The longest access a request may ask for"),
    TicketRequired: switchParam("Requests must carry a ticket reference (-Ticket)"),
    TicketPattern: text("An RE2 regular expression a ticket must match in full, e.g. 'INC[0-9]{7}'"),
    RequireMfa: switchParam("Approvers decide with multi-factor authentication (email links send them to sign in)"),
    Stages: list("Ordered approval stages as <group address>[:<approvals>], instead of -ApproverGroup", {
      conflicts: ["ApproverGroup", "RequiredApprovals"],
    }),
    EscalationGroup: text(
      "A group whose members may also decide a request left undecided -EscalateAfterHours after filing (and are mailed then)",
    ),
    EscalateAfterHours: int(
      "Hours after filing at which an undecided request escalates (less than the request lifetime)",
    ),
    AutoApproveWhen: table(
      "Approve at once when all hold: @{RequesterInGroup='<group>'; MaxDurationHours=<n>; Days='Mon,Fri'; Start='09:00'; End='17:00'; TicketGiven=$true}",
    ),
  },
  oneOf: ["Task", "Role", "RoleGroup"],
  view: policyView,
  async run(values, { api }) {
    const data = await api.request(CreatePolicy, {
      input: {
        ...targetOf(values),
        approvalType: values.ApprovalType,
        approverGroup: values.ApproverGroup ?? null,
        requiredApprovals: values.RequiredApprovals ?? 1,
        maxDurationHours: values.MaxDurationHours ?? null,
        ticketRequired: values.TicketRequired ?? null,
        ticketPattern: values.TicketPattern ?? null,
        requireMfa: values.RequireMfa ?? false,
        stages: values.Stages ? stagesOf(values.Stages) : null,
        autoApproveWhen: values.AutoApproveWhen ? conditionsOf(values.AutoApproveWhen) : null,
        escalationGroup: values.EscalationGroup ?? null,
        escalateAfterHours: values.EscalateAfterHours ?? null,
      },
    });
    return one(policyRow(expectType(data.createApprovalPolicy, "ApprovalPolicy")));
  },
});

const PolicyById = graphql(`
  query CliPolicy($id: ID!) {
    approvalPolicy(id: $id) { ...PolicyFields }
  }
`);

const Policies = graphql(`
  query CliPolicies($first: Int, $after: String) {
    approvalPolicies(first: $first, after: $after) {
      edges { node { ...PolicyFields } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

export const getPolicy = cmdlet({
  name: "Get-ElevatedAccessApprovalPolicy",
  synopsis: "Shows approval policies (admins, auditors, approvers)",
  examples: ["Get-ElevatedAccessApprovalPolicy", "Get-ElevatedAccessApprovalPolicy -Identity <policy GUID>"],
  parameters: {
    Identity: text("The policy's GUID (or ID)", { conflicts: ["ResultSize"] }),
    ResultSize: resultSize("At most this many (default 1000), or Unlimited"),
  },
  view: policyView,
  async run(values, { api }) {
    if (values.Identity) {
      const data = await api.request(PolicyById, { id: values.Identity });
      if (!data.approvalPolicy) throw new ApiError("NOT_FOUND", `no policy ${values.Identity}`, "Identity");
      return many([policyRow(data.approvalPolicy)]);
    }
    const policies = await collect(values.ResultSize ?? 1000, async (first, after) => {
      const data = await api.request(Policies, { first, after });
      return data.approvalPolicies;
    });
    return many(policies.map(policyRow));
  },
});

const RemovePolicy = graphql(`
  mutation CliRemovePolicy($input: RemoveApprovalPolicyInput!) {
    removeApprovalPolicy(input: $input) {
      __typename
      ... on ApprovalPolicy { ...PolicyFields }
      ... on Error { code message }
      ... on ValidationError { field }
      ... on NotFoundError { field }
    }
  }
`);

export const removePolicy = cmdlet({
  name: "Remove-ElevatedAccessApprovalPolicy",
  synopsis: "Removes a policy: its pending requests are canceled, its active authorizations run to their end",
  examples: ["Remove-ElevatedAccessApprovalPolicy -Identity <policy GUID>"],
  parameters: { Identity: text("The policy's GUID (or ID)", { mandatory: true }) },
  view: policyView,
  async run(values, { api }) {
    const data = await api.request(RemovePolicy, { input: { id: values.Identity } });
    return one(policyRow(expectType(data.removeApprovalPolicy, "ApprovalPolicy")));
  },
});
