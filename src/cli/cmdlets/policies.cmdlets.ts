import { collect, expectType } from "../client.ts";
import { choice, cmdlet, int, resultSize, switchParam, text } from "../cmdlet.ts";
import { ApiError } from "../errors.ts";
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
    WhenCreated: policy.createdAt,
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
