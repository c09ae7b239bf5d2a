import { randomUUID } from "node:crypto";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTokenVerifier } from "../../src/auth/token-verifier.ts";
import { graphql } from "../graphql/index.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import {
  AddMembers,
  ApproveRequest,
  AuthorizeTask,
  CreatePolicy,
  CreateRequest,
  DenyRequest,
  ListRequests,
  UpdateControl,
} from "../helpers/documents.ts";
import { rawId } from "../helpers/fixtures.ts";
import { startTestIdp, type TestIdp } from "../helpers/idp.ts";
import { target as governedTask } from "../helpers/jobs.ts";
import { waitFor } from "../helpers/processes.ts";
import { withWorker } from "../helpers/worker-file.ts";

// Issue 17, Customer Lockbox: a vendor's support identity (a service principal of the
// organization's identity provider, client-credentials tokens) registered by an admin
// files CUSTOMER_LOCKBOX requests that the Lockbox approver group decides under the
// organization's Lockbox limits. The API runs in process with the application's job
// producer; a worker process expires what nobody decides. Every token comes from the
// in-process OpenID provider.

const LockboxSettings = graphql(`
  mutation LockboxSettings($input: UpdateElevatedAccessControlInput!) {
    updateElevatedAccessControl(input: $input) {
      __typename
      ... on ElevatedAccessControl {
        lockboxApproverGroup {
          email
        }
        lockboxRequestLifetimeHours
        lockboxMaxDurationHours
      }
      ...ErrorFields
      ... on ValidationError {
        field
      }
    }
  }
`);

const RegisterVendor = graphql(`
  mutation RegisterVendor($input: RegisterLockboxVendorInput!) {
    registerLockboxVendor(input: $input) {
      __typename
      ... on User {
        email
        kind
        vendorName
        roles
      }
      ...ErrorFields
    }
  }
`);

const LockboxRequest = graphql(`
  query LockboxRequest($id: ID!) {
    accessRequest(id: $id) {
      kind
      status
      durationHours
      createdAt
      expiresAt
      approverGroup {
        email
      }
      authorization {
        startsAt
        endsAt
      }
    }
  }
`);

const LockboxList = graphql(`
  query LockboxList($filter: AccessRequestFilter) {
    accessRequests(filter: $filter, first: 50) {
      edges {
        node {
          id
          kind
        }
      }
    }
  }
`);

const ExtendAccess = graphql(`
  mutation LockboxExtend($input: RequestAccessExtensionInput!) {
    requestAccessExtension(input: $input) {
      __typename
      ...ErrorFields
      ... on ValidationError {
        field
      }
    }
  }
`);

const hour = 3_600_000;
const lockboxTask = "Exchange\\Search-Mailbox";
const lockboxGroup = "pamapprovers@fabrikam.com";

const env = withWorker("lockbox", { reconcileIntervalSeconds: 2 });
const vendor = { clientId: "contoso-support", clientSecret: randomUUID(), subject: randomUUID() };
const vendorEmail = `${vendor.subject}@apps.invalid`;
/** How far the API's clock is moved from the real one: filing in the past, checking in the future. */
let shiftMs = 0;
let idp: TestIdp;
let t: TestApp;

beforeAll(async () => {
  const { tenantId } = await env.db.organization.findFirstOrThrow({ where: { name: { contains: "Fabrikam" } } });
  idp = await startTestIdp({
    audience: "api://elevate-lockbox",
    servicePrincipals: [{ ...vendor, tenantId }],
  });
  for (const user of await env.db.user.findMany({ where: { organization: { tenantId }, subject: { not: null } } })) {
    idp.addAccount({ subject: user.subject!, tenantId, email: user.email });
  }
  t = await startTestApp({
    verifyToken: createTokenVerifier({ issuer: idp.issuer, audience: idp.audience, jwksUrl: idp.jwksUrl }),
    effects: env.jobs.effects,
    clock: () => new Date(Date.now() + shiftMs),
  });
});
afterAll(async () => {
  await t?.close();
  await idp?.close();
});

/** A staff member's token from a sign-in at the provider. */
async function staffToken(email: string): Promise<string> {
  const user = await env.db.user.findFirstOrThrow({ where: { email } });
  return (await idp.signIn(user.subject!)).access_token;
}

/** Runs an operation with a provider token: the vendor's client credentials, or a staff sign-in. */
async function as<TResult, TVariables>(
  who: string,
  document: TypedDocumentNode<TResult, TVariables>,
  variables?: TVariables,
): Promise<TResult> {
  const token = who === "vendor" ? (await idp.serviceToken(vendor.clientId)).access_token : await staffToken(who);
  const result = await t.request(token, document, variables);
  if (result.errors?.length || !result.data)
    throw new Error(`GraphQL errors as ${who}: ${JSON.stringify(result.errors)}`);
  return result.data;
}

async function fileAsVendor(target: string, durationHours?: number) {
  return (
    await as("vendor", CreateRequest, { input: { target, reason: "Case 120-4711: mailbox corruption", durationHours } })
  ).createAccessRequest;
}

let staffRequestId: string;
let lockboxRequestId: string;

describe("Customer Lockbox", () => {
  it("lets only admins set the Lockbox approver group and limits, within bounds", async () => {
    const byApprover = (
      await as("approver1@fabrikam.com", LockboxSettings, { input: { lockboxApproverGroup: lockboxGroup } })
    ).updateElevatedAccessControl;
    expect(byApprover).toMatchObject({ __typename: "ForbiddenError" });
    for (const [field, value] of [
      ["lockboxMaxDurationHours", 25],
      ["lockboxMaxDurationHours", 0],
      ["lockboxRequestLifetimeHours", 73],
    ] as const) {
      const refused = (await as("admin@fabrikam.com", LockboxSettings, { input: { [field]: value } }))
        .updateElevatedAccessControl;
      expect(refused).toMatchObject({ __typename: "ValidationError", field });
    }
    const set = (await as("admin@fabrikam.com", LockboxSettings, { input: { lockboxApproverGroup: lockboxGroup } }))
      .updateElevatedAccessControl;
    expect(set).toEqual({
      __typename: "ElevatedAccessControl",
      lockboxApproverGroup: { email: lockboxGroup },
      lockboxRequestLifetimeHours: 12,
      lockboxMaxDurationHours: 4,
    });
    const audit = await env.db.auditEvent.findFirstOrThrow({
      where: { action: "Set-ElevatedAccessControl" },
      orderBy: { sequence: "desc" },
    });
    expect(audit.details).toMatchObject({ lockboxApproverGroup: lockboxGroup });
  });

  it("registers a vendor's service identity (admins only); its tokens then name a vendor with no role", async () => {
    const input = { vendorName: "Contoso Support", subject: vendor.subject };
    expect((await as("approver1@fabrikam.com", RegisterVendor, { input })).registerLockboxVendor).toMatchObject({
      __typename: "ForbiddenError",
    });
    expect((await as("admin@fabrikam.com", RegisterVendor, { input })).registerLockboxVendor).toEqual({
      __typename: "User",
      email: vendorEmail,
      kind: "SERVICE",
      vendorName: "Contoso Support",
      roles: [],
    });
    expect((await as("admin@fabrikam.com", RegisterVendor, { input })).registerLockboxVendor).toMatchObject({
      __typename: "ConflictError",
    });
  });

  it("files a vendor's request as CUSTOMER_LOCKBOX for the Lockbox group, 12 hours to decide, at most 4 hours", async () => {
    const staff = await t.request(await staffToken("requester@fabrikam.com"), CreateRequest, {
      input: { target: governedTask, reason: "Mailbox move for the Paris office" },
    });
    if (staff.data?.createAccessRequest.__typename !== "AccessRequest") throw new Error(JSON.stringify(staff));
    staffRequestId = staff.data.createAccessRequest.id;

    expect(await fileAsVendor(lockboxTask, 5)).toMatchObject({
      __typename: "ValidationError",
      field: "durationHours",
      message: "durationHours: must be at most 4 hours for a Customer Lockbox request",
    });
    const filed = await fileAsVendor(lockboxTask);
    if (filed.__typename !== "AccessRequest") throw new Error(JSON.stringify(filed));
    lockboxRequestId = filed.id;
    const request = (await as("admin@fabrikam.com", LockboxRequest, { id: lockboxRequestId })).accessRequest!;
    expect(request).toMatchObject({
      kind: "CUSTOMER_LOCKBOX",
      status: "PENDING",
      durationHours: 4,
      approverGroup: { email: lockboxGroup },
    });
    expect(new Date(request.expiresAt).getTime() - new Date(request.createdAt).getTime()).toBe(12 * hour);
    // The Lockbox group's approvers are mailed as for any request.
    const mailed = await env.db.emailMessage.findMany({
      where: { requestId: rawId(lockboxRequestId), template: "approval-needed" },
      include: { recipient: true },
    });
    expect(mailed.map((mail) => mail.recipient.email).sort()).toEqual([
      "approver1@fabrikam.com",
      "approver2@fabrikam.com",
    ]);
  });

  it("lists Lockbox requests under the Customer Lockbox filter, and only there", async () => {
    const lockbox = (await as("admin@fabrikam.com", LockboxList, { filter: { kind: "CUSTOMER_LOCKBOX" } }))
      .accessRequests;
    expect(lockbox.edges.map((edge) => edge.node.id)).toEqual([lockboxRequestId]);
    const standard = (await as("admin@fabrikam.com", LockboxList, { filter: { kind: "STANDARD" } })).accessRequests;
    expect(standard.edges.map((edge) => edge.node.id)).toContain(staffRequestId);
    expect(standard.edges.map((edge) => edge.node.id)).not.toContain(lockboxRequestId);
  });

  it("never shows a vendor others' requests, nor lets it decide or administer, even as an approver group member", async () => {
    const added = (
      await as("admin@fabrikam.com", AddMembers, { input: { groupId: lockboxGroup, emails: [vendorEmail] } })
    ).addApproverGroupMembers;
    expect(added.__typename).toBe("ApproverGroup");

    const seen = (await as("vendor", ListRequests, {})).accessRequests;
    expect(seen.edges.map((edge) => edge.node.id)).toEqual([lockboxRequestId]);
    expect((await as("vendor", LockboxRequest, { id: staffRequestId })).accessRequest).toBeNull();

    expect(
      (await as("vendor", ApproveRequest, { input: { requestId: staffRequestId } })).approveAccessRequest,
    ).toMatchObject({
      __typename: "NotAnApproverError",
    });
    expect((await as("vendor", DenyRequest, { input: { requestId: staffRequestId } })).denyAccessRequest).toMatchObject(
      {
        __typename: "NotAnApproverError",
      },
    );
    expect(
      (await as("vendor", CreatePolicy, { input: { target: lockboxTask, approvalType: "AUTO" } })).createApprovalPolicy,
    ).toMatchObject({ __typename: "ForbiddenError" });
    expect(
      (await as("vendor", UpdateControl, { input: { lockboxMaxDurationHours: 24 } })).updateElevatedAccessControl,
    ).toMatchObject({
      __typename: "ForbiddenError",
    });
    expect(await env.db.accessRequest.findUniqueOrThrow({ where: { id: rawId(staffRequestId) } })).toMatchObject({
      status: "PENDING",
    });
    expect(await env.db.accessDecision.count({ where: { approver: { email: vendorEmail } } })).toBe(0);
  });

  it("checks every vendor access with authorizeTask: refused before approval, allowed inside the grant, refused after", async () => {
    // Nobody else needs approval for this task; the vendor still does.
    expect(
      (await as("requester@fabrikam.com", AuthorizeTask, { input: { task: lockboxTask } })).authorizeTask,
    ).toMatchObject({
      allowed: true,
      reason: "NOT_GOVERNED",
    });
    expect((await as("vendor", AuthorizeTask, { input: { task: lockboxTask } })).authorizeTask).toMatchObject({
      allowed: false,
      reason: "NO_AUTHORIZATION",
    });

    const approved = (await as("approver1@fabrikam.com", ApproveRequest, { input: { requestId: lockboxRequestId } }))
      .approveAccessRequest;
    if (approved.__typename !== "AccessRequest") throw new Error(JSON.stringify(approved));
    expect(approved.status).toBe("APPROVED");
    const grant = approved.authorization!;
    expect(new Date(grant.endsAt).getTime() - new Date(grant.startsAt).getTime()).toBe(4 * hour);
    expect(
      await env.db.emailMessage.count({ where: { requestId: rawId(lockboxRequestId), template: "request-approved" } }),
    ).toBe(1);

    const inside = (await as("vendor", AuthorizeTask, { input: { task: lockboxTask } })).authorizeTask;
    expect(inside).toMatchObject({ allowed: true, reason: "ACTIVE_AUTHORIZATION", authorizationId: grant.id });
    // A vendor's other tasks stay closed: its grant covers what it asked for.
    expect((await as("vendor", AuthorizeTask, { input: { task: governedTask } })).authorizeTask).toMatchObject({
      allowed: false,
      reason: "NO_AUTHORIZATION",
    });
    expect(
      (await as("vendor", ExtendAccess, { input: { authorizationId: grant.id, hours: 1, reason: "More time" } }))
        .requestAccessExtension,
    ).toMatchObject({ __typename: "ValidationError", field: "authorizationId" });

    shiftMs = 4 * hour + 1000;
    try {
      expect((await as("vendor", AuthorizeTask, { input: { task: lockboxTask } })).authorizeTask).toMatchObject({
        allowed: false,
        reason: "NO_AUTHORIZATION",
      });
    } finally {
      shiftMs = 0;
    }
    const log = await env.db.taskExecution.findMany({
      where: { user: { email: vendorEmail } },
      orderBy: { at: "asc" },
      select: { task: true, allowed: true, reason: true, authorizationId: true },
    });
    expect(log).toEqual([
      { task: lockboxTask, allowed: false, reason: "NO_AUTHORIZATION", authorizationId: null },
      { task: lockboxTask, allowed: true, reason: "ACTIVE_AUTHORIZATION", authorizationId: rawId(grant.id) },
      { task: governedTask, allowed: false, reason: "NO_AUTHORIZATION", authorizationId: null },
      { task: lockboxTask, allowed: false, reason: "NO_AUTHORIZATION", authorizationId: null },
    ]);
  });

  it("expires an undecided Lockbox request after the organization's configured time, through the expiry job", async () => {
    const lifetime = (await as("admin@fabrikam.com", LockboxSettings, { input: { lockboxRequestLifetimeHours: 2 } }))
      .updateElevatedAccessControl;
    expect(lifetime).toMatchObject({ lockboxRequestLifetimeHours: 2 });
    // Filed (by the API's clock) 2 hours less 3 seconds ago: due 3 seconds from now.
    shiftMs = -(2 * hour - 3000);
    let filed: Awaited<ReturnType<typeof fileAsVendor>>;
    try {
      filed = await fileAsVendor("Exchange\\New-MailboxSearch", 1);
    } finally {
      shiftMs = 0;
    }
    if (filed.__typename !== "AccessRequest") throw new Error(JSON.stringify(filed));
    const id = rawId(filed.id);
    expect(new Date(filed.expiresAt).getTime() - new Date(filed.createdAt).getTime()).toBe(2 * hour);
    expect(await env.jobs.jobState("expireRequest", id)).toBe("delayed");

    await waitFor(
      "the Lockbox request to expire",
      async () => (await env.db.accessRequest.findUniqueOrThrow({ where: { id } })).status === "EXPIRED",
    );
    expect(await env.db.auditEvent.count({ where: { subjectId: id, action: "Expire-ElevatedAccessRequest" } })).toBe(1);
    expect(await env.db.emailMessage.count({ where: { requestId: id, template: "request-expired" } })).toBe(1);
    expect(await env.db.accessAuthorization.count({ where: { requestId: id } })).toBe(0);
  });
});
