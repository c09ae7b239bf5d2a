import { collect, expectType } from "../client.ts";
import { choices, cmdlet, int, resultSize, switchParam, text } from "../cmdlet.ts";
import { ApiError } from "../errors.ts";
import { graphql } from "../graphql/gql.ts";
import type { RequestFieldsFragment } from "../graphql/graphql.ts";
import { many, one, pascal, type Row, type View } from "../output.ts";
import { targetOf, targetParameters } from "./targets.ts";

graphql(`
  fragment RequestFields on AccessRequest {
    identity
    requester { email }
    kind
    type
    scope
    target
    reason
    durationHours
    ticket
    startsAt
    status
    createdAt
    expiresAt
    decidedAt
    approvalType
    requiredApprovals
    approverGroup { email }
    decisions { approver { email } approved comment channel decidedAt durationHours }
    authorization { status startsAt endsAt }
  }
`);

export const requestView: View = {
  properties: [
    "Identity",
    "RequestorUPN",
    "RequestKind",
    "Service",
    "RequestType",
    "RequestedAccess",
    "Reason",
    "DurationHours",
    "Ticket",
    "StartTime",
    "RequestStatus",
    "ApprovalType",
    "ApproverGroup",
    "RequiredApprovals",
    "Decisions",
    "WhenCreated",
    "ExpirationTime",
    "DecisionTime",
    "AuthorizationStatus",
    "AuthorizationStartTime",
    "AuthorizationEndTime",
  ],
  table: ["Identity", "RequestorUPN", "RequestedAccess", "RequestStatus", "WhenCreated"],
};

export function requestRow(request: RequestFieldsFragment): Row {
  return {
    Identity: request.identity,
    RequestorUPN: request.requester.email,
    RequestKind: pascal(request.kind),
    Service: pascal(request.scope),
    RequestType: pascal(request.type),
    RequestedAccess: request.target,
    Reason: request.reason,
    DurationHours: request.durationHours,
    Ticket: request.ticket ?? null,
    // The start asked for; null: at approval.
    StartTime: request.startsAt ?? null,
    RequestStatus: pascal(request.status),
    ApprovalType: pascal(request.approvalType),
    ApproverGroup: request.approverGroup.email,
    RequiredApprovals: request.requiredApprovals,
    Decisions: request.decisions.map((decision) => ({
      Approver: decision.approver.email,
      Decision: decision.approved ? "Approved" : "Denied",
      Comment: decision.comment ?? null,
      Channel: pascal(decision.channel),
      DecisionTime: decision.decidedAt,
      DurationHours: decision.durationHours ?? null,
    })),
    WhenCreated: request.createdAt,
    ExpirationTime: request.expiresAt,
    DecisionTime: request.decidedAt ?? null,
    AuthorizationStatus: request.authorization ? pascal(request.authorization.status) : null,
    AuthorizationStartTime: request.authorization?.startsAt ?? null,
    AuthorizationEndTime: request.authorization?.endsAt ?? null,
  };
}

const CreateRequest = graphql(`
  mutation CliCreateRequest($input: CreateAccessRequestInput!) {
    createAccessRequest(input: $input) {
      __typename
      ... on AccessRequest { ...RequestFields }
      ... on Error { code message }
      ... on ValidationError { field }
      ... on NotFoundError { field }
    }
  }
`);

export const newRequest = cmdlet({
  name: "New-ElevatedAccessRequest",
  synopsis: "Asks for time-boxed access to a task, role or role group that a policy governs",
  examples: [
    "New-ElevatedAccessRequest -Task 'Exchange\\New-MoveRequest' -Reason 'Attempting to fix the user mailbox error' -DurationHours 4",
  ],
  parameters: {
    ...targetParameters("The task to run, e.g. 'Exchange\\New-MoveRequest'"),
    Reason: text("Why you need it (shown to approvers)", { mandatory: true }),
    DurationHours: int("How long the access lasts once approved (default: the organization's, 4)"),
    Ticket: text("The change or incident ticket it refers to (required when its policy says so)"),
    StartTime: text("Start the access later, e.g. 2026-12-01T08:00:00Z (at most 14 days ahead)"),
  },
  oneOf: ["Task", "Role", "RoleGroup"],
  view: requestView,
  async run(values, { api }) {
    const data = await api.request(CreateRequest, {
      input: {
        ...targetOf(values),
        reason: values.Reason,
        durationHours: values.DurationHours ?? null,
        ticket: values.Ticket ?? null,
        startsAt: values.StartTime ?? null,
      },
    });
    return one(requestRow(expectType(data.createAccessRequest, "AccessRequest")));
  },
});

const RequestById = graphql(`
  query CliRequest($id: ID!) {
    accessRequest(id: $id) { ...RequestFields }
  }
`);

const Requests = graphql(`
  query CliRequests($filter: AccessRequestFilter, $first: Int, $after: String) {
    accessRequests(filter: $filter, first: $first, after: $after) {
      edges { node { ...RequestFields } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

const statuses = {
  Pending: "PENDING",
  Approved: "APPROVED",
  Denied: "DENIED",
  Expired: "EXPIRED",
  Canceled: "CANCELED",
} as const;

export const getRequest = cmdlet({
  name: "Get-ElevatedAccessRequest",
  synopsis: "Shows requests: yours, those of your approver groups, or all of them (admins, auditors)",
  examples: [
    "Get-ElevatedAccessRequest -Identity 28560ed0-419d-4cc3-8f5b-603911cbd450 | select RequestStatus",
    "Get-ElevatedAccessRequest -Identity 28560ed0-419d-4cc3-8f5b-603911cbd450 -Select RequestStatus",
    "Get-ElevatedAccessRequest -AwaitingMyDecision",
    "Get-ElevatedAccessRequest -CustomerLockbox -RequestStatus Pending",
    "Get-ElevatedAccessRequest -RequestStatus Pending,Approved -Requestor requester@fabrikam.com -Json",
  ],
  parameters: {
    Identity: text("The request's GUID (or ID); the other filters then do not apply", {
      aliases: ["RequestId"],
      conflicts: ["RequestStatus", "Requestor", "AwaitingMyDecision", "Target", "ResultSize", "CustomerLockbox"],
    }),
    RequestStatus: choices(statuses, "Only requests in these states", { aliases: ["Status"] }),
    Requestor: text("Only requests of this user", { aliases: ["RequestorUPN"] }),
    AwaitingMyDecision: switchParam("Only pending requests you may approve or deny"),
    Target: text("Only requests for this task, role or role group"),
    CustomerLockbox: switchParam("Only vendors' Customer Lockbox requests"),
    ResultSize: resultSize("At most this many (default 1000), or Unlimited"),
  },
  view: requestView,
  async run(values, { api }) {
    if (values.Identity) {
      const data = await api.request(RequestById, { id: values.Identity });
      if (!data.accessRequest) throw new ApiError("NOT_FOUND", `no request ${values.Identity}`, "Identity");
      return many([requestRow(data.accessRequest)]);
    }
    const filter = {
      ...(values.RequestStatus ? { status: values.RequestStatus } : {}),
      ...(values.Requestor ? { requesterEmail: values.Requestor } : {}),
      ...(values.AwaitingMyDecision ? { awaitingMyDecision: true } : {}),
      ...(values.Target ? { target: values.Target } : {}),
      ...(values.CustomerLockbox ? { kind: "CUSTOMER_LOCKBOX" as const } : {}),
    };
    const requests = await collect(values.ResultSize ?? 1000, async (first, after) => {
      const data = await api.request(Requests, { filter, first, after });
      return data.accessRequests;
    });
    return many(requests.map(requestRow));
  },
});

const ApproveRequest = graphql(`
  mutation CliApproveRequest($input: DecideAccessRequestInput!) {
    approveAccessRequest(input: $input) {
      __typename
      ... on AccessRequest { ...RequestFields }
      ... on Error { code message }
      ... on ValidationError { field }
      ... on NotFoundError { field }
    }
  }
`);

const DenyRequest = graphql(`
  mutation CliDenyRequest($input: DecideAccessRequestInput!) {
    denyAccessRequest(input: $input) {
      __typename
      ... on AccessRequest { ...RequestFields }
      ... on Error { code message }
      ... on ValidationError { field }
      ... on NotFoundError { field }
    }
  }
`);

const decisionParameters = {
  RequestId: text("The request's GUID (or ID)", { mandatory: true, aliases: ["Identity"] }),
  Comment: text("Shown to the requester"),
};

export const approveRequest = cmdlet({
  name: "Approve-ElevatedAccessRequest",
  synopsis: "Approves a pending request (eligible approvers of its group; never your own)",
  examples: [
    "Approve-ElevatedAccessRequest -RequestId a4bc1bdf-00a1-42b4-be65-b6c63d6be279 -Comment 'ok'",
    "Approve-ElevatedAccessRequest -RequestId a4bc1bdf-00a1-42b4-be65-b6c63d6be279 -DurationHours 2",
  ],
  parameters: {
    ...decisionParameters,
    DurationHours: int("Grant fewer hours than asked (1 up to the request's DurationHours); the requester is told"),
  },
  view: requestView,
  async run(values, { api }) {
    const data = await api.request(ApproveRequest, {
      input: {
        requestId: values.RequestId,
        comment: values.Comment ?? null,
        durationHours: values.DurationHours ?? null,
      },
    });
    return one(requestRow(expectType(data.approveAccessRequest, "AccessRequest")));
  },
});

export const denyRequest = cmdlet({
  name: "Deny-ElevatedAccessRequest",
  synopsis: "Denies a pending request; one denial denies it",
  examples: ["Deny-ElevatedAccessRequest -RequestId a4bc1bdf-00a1-42b4-be65-b6c63d6be279 -Comment 'no'"],
  parameters: decisionParameters,
  view: requestView,
  async run(values, { api }) {
    const data = await api.request(DenyRequest, {
      input: { requestId: values.RequestId, comment: values.Comment ?? null },
    });
    return one(requestRow(expectType(data.denyAccessRequest, "AccessRequest")));
  },
});

const CancelRequest = graphql(`
  mutation CliCancelRequest($input: CancelAccessRequestInput!) {
    cancelAccessRequest(input: $input) {
      __typename
      ... on AccessRequest { ...RequestFields }
      ... on Error { code message }
      ... on ValidationError { field }
      ... on NotFoundError { field }
    }
  }
`);

export const cancelRequest = cmdlet({
  name: "Cancel-ElevatedAccessRequest",
  synopsis: "Withdraws your own pending request",
  examples: ["Cancel-ElevatedAccessRequest -RequestId a4bc1bdf-00a1-42b4-be65-b6c63d6be279"],
  parameters: { RequestId: decisionParameters.RequestId },
  view: requestView,
  async run(values, { api }) {
    const data = await api.request(CancelRequest, { input: { requestId: values.RequestId } });
    return one(requestRow(expectType(data.cancelAccessRequest, "AccessRequest")));
  },
});
