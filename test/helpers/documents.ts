import { graphql } from "../graphql/index.ts";

// Operations shared by the integration tests, typed by codegen from schema.graphql.

/** What every test reads of a typed error; documents spread it with `...ErrorFields`. */
export const ErrorFields = graphql(`
  fragment ErrorFields on Error {
    code
    message
  }
`);

export const CreateApproverGroup = graphql(`
  mutation CreateApproverGroup($input: CreateApproverGroupInput!) {
    createApproverGroup(input: $input) {
      __typename
      ... on ApproverGroup {
        id
        name
        email
        members {
          email
        }
      }
      ...ErrorFields
    }
  }
`);

export const EnableControl = graphql(`
  mutation EnableControl($input: EnableElevatedAccessControlInput!) {
    enableElevatedAccessControl(input: $input) {
      __typename
      ... on ElevatedAccessControl {
        enabled
        defaultApproverGroup {
          email
        }
        systemAccounts {
          email
        }
      }
      ...ErrorFields
    }
  }
`);

export const DisableControl = graphql(`
  mutation DisableControl {
    disableElevatedAccessControl {
      __typename
      ... on ElevatedAccessControl {
        enabled
      }
      ...ErrorFields
    }
  }
`);

export const CreatePolicy = graphql(`
  mutation CreatePolicy($input: CreateApprovalPolicyInput!) {
    createApprovalPolicy(input: $input) {
      __typename
      ... on ApprovalPolicy {
        id
        type
        target
        approvalType
        requiredApprovals
        approverGroup {
          email
        }
      }
      ...ErrorFields
      ... on ValidationError {
        field
      }
      ... on NotFoundError {
        field
      }
    }
  }
`);

export const RemovePolicy = graphql(`
  mutation RemovePolicy($input: RemoveApprovalPolicyInput!) {
    removeApprovalPolicy(input: $input) {
      __typename
      ... on ApprovalPolicy {
        id
        target
        approverGroup {
          email
        }
      }
      ...ErrorFields
    }
  }
`);

export const CreateRequest = graphql(`
  mutation CreateRequest($input: CreateAccessRequestInput!) {
    createAccessRequest(input: $input) {
      ... on RateLimitedError {
        retryAfterSeconds
      }
      __typename
      ... on AccessRequest {
        id
        status
        durationHours
        reason
        target
        createdAt
        expiresAt
        authorization {
          id
          status
          startsAt
          endsAt
        }
      }
      ...ErrorFields
      ... on ValidationError {
        field
      }
      ... on NotFoundError {
        field
      }
    }
  }
`);

export const ApproveRequest = graphql(`
  mutation ApproveRequest($input: DecideAccessRequestInput!) {
    approveAccessRequest(input: $input) {
      __typename
      ... on AccessRequest {
        id
        status
        target
        decidedAt
        decisions {
          approver {
            email
          }
          approved
          comment
          channel
        }
        authorization {
          id
          status
          startsAt
          endsAt
        }
      }
      ...ErrorFields
    }
  }
`);

export const DenyRequest = graphql(`
  mutation DenyRequest($input: DecideAccessRequestInput!) {
    denyAccessRequest(input: $input) {
      __typename
      ... on AccessRequest {
        id
        status
        decisions {
          approver {
            email
          }
          approved
          comment
        }
        authorization {
          id
        }
      }
      ...ErrorFields
    }
  }
`);

export const CancelRequest = graphql(`
  mutation CancelRequest($input: CancelAccessRequestInput!) {
    cancelAccessRequest(input: $input) {
      __typename
      ... on AccessRequest {
        id
        status
      }
      ...ErrorFields
    }
  }
`);

export const RevokeAuthorization = graphql(`
  mutation RevokeAuthorization($input: RevokeAccessAuthorizationInput!) {
    revokeAccessAuthorization(input: $input) {
      __typename
      ... on AccessAuthorization {
        id
        status
        revokedAt
        revokedBy {
          email
        }
        revocationComment
      }
      ...ErrorFields
    }
  }
`);

export const AuthorizeTask = graphql(`
  mutation AuthorizeTask($input: AuthorizeTaskInput!) {
    authorizeTask(input: $input) {
      __typename
      ... on TaskAuthorization {
        allowed
        reason
        authorizationId
        authorization {
          id
        }
        execution {
          id
          task
          resolvedTask
          allowed
          reason
          user {
            email
          }
        }
      }
      ...ErrorFields
      ... on NotFoundError {
        field
      }
    }
  }
`);

export const GetRequest = graphql(`
  query GetRequest($id: ID!) {
    accessRequest(id: $id) {
      id
      status
      reason
      durationHours
      decidedAt
      expiresAt
      policy {
        id
      }
      requester {
        email
      }
      decisions {
        approver {
          email
        }
        approved
        comment
        channel
      }
      authorization {
        id
        status
        startsAt
        endsAt
        executions(first: 10) {
          totalCount
          edges {
            node {
              task
              allowed
              reason
            }
          }
        }
      }
    }
  }
`);

export const ListPolicies = graphql(`
  query ListPolicies {
    approvalPolicies(first: 100) {
      totalCount
      edges {
        node {
          id
          target
        }
      }
    }
  }
`);

export const ControlState = graphql(`
  query ControlState {
    elevatedAccessControl {
      enabled
      maxPolicies
      requestLifetimeHours
      defaultDurationHours
      defaultApproverGroup {
        email
      }
      systemAccounts {
        email
      }
    }
  }
`);

export const AddMembers = graphql(`
  mutation AddMembers($input: ChangeApproverGroupMembersInput!) {
    addApproverGroupMembers(input: $input) {
      __typename
      ... on ApproverGroup {
        members {
          email
        }
      }
      ...ErrorFields
    }
  }
`);

export const RemoveMembers = graphql(`
  mutation RemoveMembers($input: ChangeApproverGroupMembersInput!) {
    removeApproverGroupMembers(input: $input) {
      __typename
      ... on ApproverGroup {
        members {
          email
        }
      }
      ...ErrorFields
    }
  }
`);

export const AddCatalogEntry = graphql(`
  mutation AddCatalogEntry($input: AddCatalogEntryInput!) {
    addCatalogEntry(input: $input) {
      __typename
      ... on CatalogEntry {
        id
        name
        members {
          name
        }
      }
      ...ErrorFields
    }
  }
`);

export const Catalog = graphql(`
  query Catalog($type: PolicyType) {
    catalog(type: $type, first: 100) {
      totalCount
      edges {
        node {
          name
          type
        }
      }
    }
  }
`);

export const AuditLog = graphql(`
  query AuditLog {
    auditEvents(first: 100) {
      totalCount
      edges {
        node {
          sequence
          action
          hash
          actor {
            email
          }
        }
      }
    }
    verifyAuditLog {
      ok
      checked
      firstBrokenSequence
      truncated
      firstBrokenCheckpoint
      checkpoints
      executionsChecked
      problems
    }
  }
`);

export const NodeLookup = graphql(`
  query NodeLookup($id: ID!) {
    node(id: $id) {
      __typename
      id
    }
  }
`);

export const ListRequests = graphql(`
  query ListRequests($filter: AccessRequestFilter) {
    accessRequests(filter: $filter, first: 50) {
      totalCount
      edges {
        node {
          id
          status
          requester {
            email
          }
        }
      }
    }
  }
`);

export const ListAuthorizations = graphql(`
  query ListAuthorizations {
    accessAuthorizations(first: 50) {
      totalCount
      edges {
        node {
          id
        }
      }
    }
    taskExecutions(first: 50) {
      totalCount
    }
  }
`);

export const GetPolicy = graphql(`
  query GetPolicy($id: ID!) {
    approvalPolicy(id: $id) {
      id
    }
  }
`);

export const UpdateControl = graphql(`
  mutation UpdateControl($input: UpdateElevatedAccessControlInput!) {
    updateElevatedAccessControl(input: $input) {
      __typename
      ... on ElevatedAccessControl {
        enabled
        defaultDurationHours
        requestLifetimeHours
        maxPolicies
        unknownTasks
      }
      ...ErrorFields
      ... on ValidationError {
        field
      }
    }
  }
`);

export const DeactivateUser = graphql(`
  mutation DeactivateUser($input: UserInput!) {
    deactivateUser(input: $input) {
      __typename
      ... on User {
        id
        active
      }
      ...ErrorFields
    }
  }
`);
