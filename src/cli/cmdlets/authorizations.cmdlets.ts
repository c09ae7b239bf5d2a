import { collect, expectType } from "../client.ts";
import { choices, cmdlet, int, resultSize, table, text } from "../cmdlet.ts";
import { ApiError, exitCodes } from "../errors.ts";
import { graphql } from "../graphql/gql.ts";
import type { AuthorizationFieldsFragment } from "../graphql/graphql.ts";
import { many, one, pascal, type Row, type View } from "../output.ts";
import { requestRow, requestView } from "./requests.cmdlets.ts";

graphql(`
  fragment AuthorizationFields on AccessAuthorization {
    request { identity }
    user { email }
    target
    status
    startsAt
    endsAt
    revokedAt
    revokedBy { email }
    revocationComment
    endedAt
    endComment
  }
`);

const authorizationView: View = {
  properties: [
    "RequestId",
    "UserUPN",
    "AuthorizedAccess",
    "Status",
    "StartTime",
    "EndTime",
    "RevokedBy",
    "RevocationTime",
    "RevocationComment",
    "EndedTime",
    "EndComment",
  ],
  table: ["RequestId", "UserUPN", "AuthorizedAccess", "Status", "EndTime"],
};

function authorizationRow(authorization: AuthorizationFieldsFragment): Row {
  return {
    RequestId: authorization.request.identity,
    UserUPN: authorization.user.email,
    AuthorizedAccess: authorization.target,
    Status: pascal(authorization.status),
    StartTime: authorization.startsAt,
    EndTime: authorization.endsAt,
    RevokedBy: authorization.revokedBy?.email ?? null,
    RevocationTime: authorization.revokedAt ?? null,
    RevocationComment: authorization.revocationComment ?? null,
    EndedTime: authorization.endedAt ?? null,
    EndComment: authorization.endComment ?? null,
  };
}

const Authorizations = graphql(`
  query CliAuthorizations($status: [AuthorizationStatus!], $first: Int, $after: String) {
    accessAuthorizations(status: $status, first: $first, after: $after) {
      edges { node { ...AuthorizationFields } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

export const getAuthorization = cmdlet({
  name: "Get-ElevatedAccessAuthorization",
  synopsis: "Shows granted access: yours, or everyone's you may see",
  examples: ["Get-ElevatedAccessAuthorization -Status Active"],
  parameters: {
    Status: choices(
      { Scheduled: "SCHEDULED", Active: "ACTIVE", Ended: "ENDED", Revoked: "REVOKED" },
      "Only authorizations in these states",
    ),
    ResultSize: resultSize("At most this many (default 1000), or Unlimited"),
  },
  view: authorizationView,
  async run(values, { api }) {
    const authorizations = await collect(values.ResultSize ?? 1000, async (first, after) => {
      const data = await api.request(Authorizations, { status: values.Status ?? null, first, after });
      return data.accessAuthorizations;
    });
    return many(authorizations.map(authorizationRow));
  },
});

const RevokeAuthorization = graphql(`
  mutation CliRevokeAuthorization($input: RevokeAccessAuthorizationInput!) {
    revokeAccessAuthorization(input: $input) {
      __typename
      ... on AccessAuthorization { ...AuthorizationFields }
      ... on Error { code message }
      ... on ValidationError { field }
      ... on NotFoundError { field }
    }
  }
`);

export const revokeAuthorization = cmdlet({
  name: "Revoke-ElevatedAccessAuthorization",
  synopsis: "Ends the access an approved request granted, at once (its approvers, admins)",
  examples: ["Revoke-ElevatedAccessAuthorization -RequestId a4bc1bdf-00a1-42b4-be65-b6c63d6be279 -Comment 'done'"],
  parameters: {
    RequestId: text("The approved request's GUID (or ID)", { mandatory: true, aliases: ["Identity"] }),
    Comment: text("Shown to the user"),
  },
  view: authorizationView,
  async run(values, { api }) {
    const data = await api.request(RevokeAuthorization, {
      input: { requestId: values.RequestId, comment: values.Comment ?? null },
    });
    return one(authorizationRow(expectType(data.revokeAccessAuthorization, "AccessAuthorization")));
  },
});

const GrantOfRequest = graphql(`
  query CliGrantOfRequest($id: ID!) {
    accessRequest(id: $id) { authorization { id } }
  }
`);

const EndAuthorization = graphql(`
  mutation CliEndAuthorization($input: EndAccessAuthorizationInput!) {
    endAccessAuthorization(input: $input) {
      __typename
      ... on AccessAuthorization { ...AuthorizationFields }
      ... on Error { code message }
      ... on ValidationError { field }
      ... on NotFoundError { field }
    }
  }
`);

export const stopAuthorization = cmdlet({
  name: "Stop-ElevatedAccessAuthorization",
  synopsis: "Ends your own access before its end time, once the work is done (approvers and admins revoke)",
  examples: ["Stop-ElevatedAccessAuthorization -RequestId a4bc1bdf-00a1-42b4-be65-b6c63d6be279 -Reason 'done'"],
  parameters: {
    RequestId: text("The approved request's GUID (or ID)", { mandatory: true, aliases: ["Identity"] }),
    Reason: text("Why it is no longer needed (kept in the audit log)"),
  },
  view: authorizationView,
  async run(values, { api }) {
    const grant = await api.request(GrantOfRequest, { id: values.RequestId });
    const authorizationId = grant.accessRequest?.authorization?.id;
    if (!authorizationId) {
      throw new ApiError("NOT_FOUND", `no access granted by request ${values.RequestId} that you may see`, "RequestId");
    }
    const data = await api.request(EndAuthorization, {
      input: { authorizationId, reason: values.Reason ?? null },
    });
    return one(authorizationRow(expectType(data.endAccessAuthorization, "AccessAuthorization")));
  },
});

const ExtendAuthorization = graphql(`
  mutation CliExtendAuthorization($input: RequestAccessExtensionInput!) {
    requestAccessExtension(input: $input) {
      __typename
      ... on AccessRequest { ...RequestFields }
      ... on Error { code message }
      ... on ValidationError { field }
      ... on NotFoundError { field }
    }
  }
`);

export const requestExtension = cmdlet({
  name: "Request-ElevatedAccessExtension",
  synopsis: "Asks to extend your own active access by some hours; decided under its policy like a request",
  examples: [
    "Request-ElevatedAccessExtension -RequestId a4bc1bdf-00a1-42b4-be65-b6c63d6be279 -Hours 2 -Reason 'The move takes longer'",
  ],
  parameters: {
    RequestId: text("The approved request's GUID (or ID)", { mandatory: true, aliases: ["Identity"] }),
    Hours: int("Hours to add; the policy's maximum applies to the whole access", { mandatory: true }),
    Reason: text("Why you need longer (shown to approvers)", { mandatory: true }),
  },
  view: requestView,
  async run(values, { api }) {
    const grant = await api.request(GrantOfRequest, { id: values.RequestId });
    const authorizationId = grant.accessRequest?.authorization?.id;
    if (!authorizationId) {
      throw new ApiError("NOT_FOUND", `no access granted by request ${values.RequestId} that you may see`, "RequestId");
    }
    const data = await api.request(ExtendAuthorization, {
      input: { authorizationId, hours: values.Hours, reason: values.Reason },
    });
    return one(requestRow(expectType(data.requestAccessExtension, "AccessRequest")));
  },
});

const AuthorizeTask = graphql(`
  mutation CliAuthorizeTask($input: AuthorizeTaskInput!) {
    authorizeTask(input: $input) {
      __typename
      ... on TaskAuthorization {
        allowed
        reason
        authorizationId
        execution { user { email } task resolvedTask at }
      }
      ... on Error { code message }
      ... on ValidationError { field }
      ... on NotFoundError { field }
    }
  }
`);

export const testAccess = cmdlet({
  name: "Test-ElevatedAccess",
  synopsis: "Asks whether a user may run a task now, as enforcement does before every run; the call is logged",
  examples: [
    "Test-ElevatedAccess -Task 'Exchange\\New-MoveRequest'",
    "Test-ElevatedAccess -Task 'Exchange\\New-MoveRequest' -User requester@fabrikam.com -Parameters \"@{Identity='ceo@fabrikam.com'}\"",
  ],
  parameters: {
    Task: text("The task about to run, e.g. 'Exchange\\New-MoveRequest'", { mandatory: true }),
    User: text("On behalf of this user (enforcement services only); default: you", {
      aliases: ["UserPrincipalName"],
    }),
    Parameters: table("The task's parameters, logged with the call: @{Identity='ceo@fabrikam.com'} or JSON"),
  },
  view: {
    properties: ["Allowed", "Reason", "Task", "ResolvedTask", "UserUPN", "AuthorizationId", "RunDate"],
    table: ["Allowed", "Reason", "Task", "UserUPN"],
  },
  async run(values, { api }) {
    const data = await api.request(AuthorizeTask, {
      input: { task: values.Task, userEmail: values.User ?? null, parameters: values.Parameters ?? null },
    });
    const answer = expectType(data.authorizeTask, "TaskAuthorization");
    const row = {
      Allowed: answer.allowed,
      Reason: pascal(answer.reason),
      Task: answer.execution.task,
      ResolvedTask: answer.execution.resolvedTask ?? null,
      UserUPN: answer.execution.user.email,
      AuthorizationId: answer.authorizationId ?? null,
      RunDate: answer.execution.at,
    };
    // Like `test`, so `elevate Test-ElevatedAccess ... && run-it` works in scripts.
    return one(row, answer.allowed ? exitCodes.ok : exitCodes.testFailed);
  },
});
