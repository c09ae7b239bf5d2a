import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeGlobalId } from "../../src/domain/global-id.ts";
import { graphql } from "../graphql/index.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { ApproveRequest, NodeLookup } from "../helpers/documents.ts";
import { checkTask, createPolicy, createRequest, enableControl, rawId } from "../helpers/fixtures.ts";

// Issue 9, cases 3 and 5: the read rules hold on every path that reaches a request,
// grant, decision, execution, policy or member list, not only on the root queries.

const Check = graphql(`
  mutation CheckThroughRelations($input: AuthorizeTaskInput!) {
    authorizeTask(input: $input) {
      ... on TaskAuthorization {
        allowed
        reason
        authorizationId
        authorization {
          id
          request {
            reason
            decisions {
              comment
              approver {
                email
              }
            }
            approverGroup {
              members {
                email
              }
            }
          }
        }
      }
    }
  }
`);

const ExecutionsThroughRelations = graphql(`
  query ExecutionsThroughRelations {
    taskExecutions(first: 50) {
      edges {
        node {
          task
          authorizationId
          authorization {
            request {
              reason
            }
          }
        }
      }
    }
  }
`);

const GrantExecutions = graphql(`
  query GrantExecutions($id: ID!) {
    node(id: $id) {
      ... on AccessAuthorization {
        executions(first: 50) {
          totalCount
          edges {
            node {
              task
              caller {
                email
              }
            }
          }
        }
      }
    }
  }
`);

const Configuration = graphql(`
  query ReadConfiguration {
    elevatedAccessControl {
      enabled
      systemAccounts {
        email
      }
    }
  }
`);

const Policies = graphql(`
  query ReadPolicies {
    approvalPolicies(first: 10) {
      totalCount
      edges {
        node {
          target
          approvalType
        }
      }
    }
  }
`);

const Governed = graphql(`
  query ReadGoverned {
    governedTargets {
      type
      target
      maxDurationHours
    }
  }
`);

const GroupMembers = graphql(`
  query ReadGroupMembers {
    approverGroups(first: 10) {
      edges {
        node {
          email
          members {
            email
            roles
          }
        }
      }
    }
  }
`);

const Groups = graphql(`
  query ReadGroups {
    approverGroups(first: 10) {
      edges {
        node {
          name
          email
        }
      }
    }
  }
`);

const MyRoles = graphql(`
  query MyRoles($id: ID!) {
    me {
      roles
    }
    node(id: $id) {
      ... on User {
        email
        roles
      }
    }
  }
`);

const secretReason = "Move the CEO mailbox: ticket 4711 (confidential)";
const secretComment = "Approved for tonight's window";
let t: TestApp;
let requestId: string;
let authorizationId: string;

beforeAll(async () => {
  t = await startTestApp();
  await enableControl(t, ["sys1@fabrikam.com"]);
  await createPolicy(t, { target: "Exchange\\New-MoveRequest", approvalType: "MANUAL", maxDurationHours: 8 });
  requestId = await createRequest(t, "Exchange\\New-MoveRequest");
  await t.db.accessRequest.update({ where: { id: rawId(requestId) }, data: { reason: secretReason } });
  const approved = await t.as("approver1@fabrikam.com", ApproveRequest, {
    input: { requestId, comment: secretComment },
  });
  if (approved.approveAccessRequest.__typename !== "AccessRequest") throw new Error("not approved");
  authorizationId = approved.approveAccessRequest.authorization!.id;
});
afterAll(() => t.close());

describe("an enforcement service", () => {
  it("gets the answer and the grant's ID from authorizeTask, never another user's reason, comments or approvers", async () => {
    const result = await t.request(await t.tokenFor("enforcer@fabrikam.com"), Check, {
      input: { task: "Exchange\\New-MoveRequest", userEmail: "requester@fabrikam.com" },
    });
    expect(result.errors).toBeUndefined();
    expect(result.data?.authorizeTask).toEqual({
      allowed: true,
      reason: "ACTIVE_AUTHORIZATION",
      authorizationId,
      authorization: null,
    });
    expect(JSON.stringify(result)).not.toContain("CEO");
  });

  it("reads its executions with the grant's ID but not the grant through them", async () => {
    const { taskExecutions } = await t.as("enforcer@fabrikam.com", ExecutionsThroughRelations);
    expect(taskExecutions.edges.length).toBeGreaterThan(0);
    for (const { node } of taskExecutions.edges) {
      expect(node).toMatchObject({ authorizationId, authorization: null });
    }
  });

  it("gets null for the grant and the request by global ID", async () => {
    for (const id of [authorizationId, requestId]) {
      expect((await t.as("enforcer@fabrikam.com", NodeLookup, { id })).node).toBeNull();
    }
  });
});

describe("a grant's executions", () => {
  it("show the approvers of the grant's group who called for it, and show members outside it nothing", async () => {
    await checkTask(t, "enforcer@fabrikam.com", "Exchange\\New-MoveRequest", "requester@fabrikam.com");
    const seen = (await t.as("approver2@fabrikam.com", GrantExecutions, { id: authorizationId })).node;
    expect(seen).toMatchObject({ executions: { totalCount: expect.any(Number) } });
    const executions = (seen as { executions: { edges: { node: { caller: { email: string } } }[] } }).executions;
    expect(executions.edges.map((edge) => edge.node.caller.email)).toContain("enforcer@fabrikam.com");
    // The guest is in no approver group and made no call: nothing to see.
    expect((await t.as("guest@partner.example", GrantExecutions, { id: authorizationId })).node).toBeNull();
  });
});

describe("how approval works is read by admins, auditors and approvers only", () => {
  it("refuses the system accounts, policies and group members to a guest and a plain member", async () => {
    for (const email of ["guest@partner.example", "requester@fabrikam.com"]) {
      const token = await t.tokenFor(email);
      for (const result of [
        await t.request(token, Configuration),
        await t.request(token, Policies),
        await t.request(token, GroupMembers),
      ]) {
        expect(result.errors?.[0]?.extensions?.code, `${email}`).toBe("FORBIDDEN");
        expect(JSON.stringify(result.data ?? null)).not.toMatch(/sys1|MANUAL|approver1/);
      }
      // What they need to file a request: what is governed and for how long one may ask.
      expect((await t.as(email, Governed)).governedTargets).toEqual([
        { type: "TASK", target: "Exchange\\New-MoveRequest", maxDurationHours: 8 },
      ]);
      expect((await t.as(email, Groups)).approverGroups.edges.length).toBeGreaterThan(0);
      const policy = await t.db.approvalPolicy.findFirstOrThrow();
      expect((await t.as(email, NodeLookup, { id: encodeGlobalId("ApprovalPolicy", policy.id) })).node).toBeNull();
    }
  });

  it("lets admins, auditors and approvers read them", async () => {
    for (const email of ["admin@fabrikam.com", "auditor@fabrikam.com", "approver1@fabrikam.com"]) {
      expect((await t.as(email, Configuration)).elevatedAccessControl.systemAccounts).toEqual([
        { email: "sys1@fabrikam.com" },
      ]);
      expect((await t.as(email, Policies)).approvalPolicies.totalCount).toBe(1);
      expect((await t.as(email, GroupMembers)).approverGroups.edges[0]?.node.members.length).toBe(2);
    }
  });

  it("shows a user's roles to themselves, admins and auditors only", async () => {
    const admin = await t.db.user.findFirstOrThrow({ where: { email: "admin@fabrikam.com" } });
    const adminId = encodeGlobalId("User", admin.id);
    expect(await t.as("guest@partner.example", MyRoles, { id: adminId })).toEqual({
      me: { roles: [] },
      node: { email: "admin@fabrikam.com", roles: null },
    });
    expect((await t.as("auditor@fabrikam.com", MyRoles, { id: adminId })).node).toEqual({
      email: "admin@fabrikam.com",
      roles: ["ADMIN"],
    });
  });
});
