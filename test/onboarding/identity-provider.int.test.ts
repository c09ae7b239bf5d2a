import { randomUUID } from "node:crypto";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadOrCreateDevIssuerKey } from "../../src/auth/dev-issuer.ts";
import { createDb, type Db } from "../../src/db/client.ts";
import { graphql } from "../graphql/index.ts";
import {
  ApproveRequest,
  AuthorizeTask,
  CreateApproverGroup,
  CreatePolicy,
  CreateRequest,
  EnableControl,
  RevokeAuthorization,
  UpdateControl,
} from "../helpers/documents.ts";
import { rawId } from "../helpers/fixtures.ts";
import { startTestIdp, type TestIdp } from "../helpers/idp.ts";
import { jobClient, uniquePrefix } from "../helpers/jobs.ts";
import { type ApiProcess, runOrgCommand, spawnApi } from "../helpers/processes.ts";
import { redisUrl, workerDatabaseUrl } from "../setup/test-env.ts";
import { expectType } from "../subscriptions/clients.ts";

// Issue 12: organizations, users and roles from the identity provider. The API runs as
// its own process pointed at the in-process OpenID provider (JWKS_URL), with a role
// mapping of its own (ROLE_CLAIM_MAPPING); the operator's command runs as a child
// process; everyone signs in with the provider's Entra-like tokens.

const Me = graphql(`
  query OnboardingMe {
    me {
      email
      displayName
      kind
      roles
    }
  }
`);

const Audit = graphql(`
  query OnboardingAudit {
    auditEvents(first: 200) {
      edges {
        node {
          action
          details
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
    }
  }
`);

const queuePrefix = uniquePrefix("onboarding");
const keyFile = path.join(tmpdir(), `elevate-test-issuer-${queuePrefix}.json`);

let idp: TestIdp;
let api: ApiProcess;
let db: Db;
let fabrikamTenant: string;
let adminSubject: string;

interface Answer<T> {
  status: number;
  data?: T;
  errors?: { message: string; extensions?: { code?: string } }[];
}

const tokens = new Map<string, string>();

/** The subject's access token, signing in at the provider the first time (and again after `tokens.delete`). */
async function tokenOf(subject: string): Promise<string> {
  if (!tokens.has(subject)) tokens.set(subject, (await idp.signIn(subject)).access_token);
  return tokens.get(subject)!;
}

async function call<TResult, TVariables>(
  subject: string,
  document: TypedDocumentNode<TResult, TVariables>,
  variables?: TVariables,
): Promise<Answer<TResult>> {
  const response = await fetch(`${api.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${await tokenOf(subject)}` },
    body: JSON.stringify({ query: print(document), variables }),
  });
  return { status: response.status, ...((await response.json()) as Omit<Answer<TResult>, "status">) };
}

async function as<TResult, TVariables>(
  subject: string,
  document: TypedDocumentNode<TResult, TVariables>,
  variables?: TVariables,
): Promise<TResult> {
  const answer = await call(subject, document, variables);
  if (!answer.data || answer.errors?.length) throw new Error(`${answer.status}: ${JSON.stringify(answer.errors)}`);
  return answer.data;
}

/** An account at the identity provider, in a tenant, that has never been seen by Elevate. */
function newcomer(tenantId: string, email: string, extra: { roles?: string[]; guest?: boolean } = {}) {
  const subject = randomUUID();
  idp.addAccount({ subject, tenantId, email, name: email.split("@")[0], ...extra });
  return subject;
}

async function auditOf(subject: string) {
  const { auditEvents, verifyAuditLog } = await as(subject, Audit);
  return { events: auditEvents.edges.map(({ node }) => node), verified: verifyAuditLog };
}

beforeAll(async () => {
  idp = await startTestIdp({ audience: "api://elevate-test" });
  db = createDb(workerDatabaseUrl());
  const admin = await db.user.findFirstOrThrow({
    where: { email: "admin@fabrikam.com" },
    include: { organization: true },
  });
  fabrikamTenant = admin.organization.tenantId;
  adminSubject = admin.subject!;
  idp.addAccount({ subject: adminSubject, tenantId: fabrikamTenant, email: admin.email, roles: ["Elevate.Admin"] });
  await loadOrCreateDevIssuerKey(keyFile);
  api = await spawnApi({
    redisUrl,
    queuePrefix,
    devIssuerKeyFile: keyFile,
    env: {
      JWKS_URL: idp.jwksUrl,
      JWT_ISSUER: idp.issuer,
      JWT_AUDIENCE: idp.audience,
      // The organization's own app role for admins, beside the default ones.
      ROLE_CLAIM_MAPPING: "Elevate.Admin=ADMIN,Elevate.Auditor=AUDITOR,Elevate.Enforcer=ENFORCER,PAM.Operators=ADMIN",
    },
  });
});

afterAll(async () => {
  await api?.stop();
  await (await jobClient(redisUrl, queuePrefix)).close();
  await idp?.close();
  await db?.$disconnect();
});

describe("users from the identity provider", () => {
  it("lets a user who never existed sign in with a token and file a request", async () => {
    expectType(
      (await as(adminSubject, EnableControl, { input: { adminGroup: "pamapprovers@fabrikam.com" } }))
        .enableElevatedAccessControl,
      "ElevatedAccessControl",
    );
    expectType(
      (await as(adminSubject, CreatePolicy, { input: { target: "Exchange\\New-MoveRequest", approvalType: "MANUAL" } }))
        .createApprovalPolicy,
      "ApprovalPolicy",
    );
    const dana = newcomer(fabrikamTenant, "Dana@Fabrikam.com");
    expect(await db.user.count({ where: { subject: dana } })).toBe(0);
    const filed = expectType(
      (
        await as(dana, CreateRequest, {
          input: { target: "Exchange\\New-MoveRequest", reason: "First day on the mail team" },
        })
      ).createAccessRequest,
      "AccessRequest",
    );
    expect(filed.status).toBe("PENDING");
    expect(await db.user.findFirstOrThrow({ where: { subject: dana } })).toMatchObject({
      email: "dana@fabrikam.com",
      kind: "MEMBER",
      roles: [],
      active: true,
    });
    const { events, verified } = await auditOf(adminSubject);
    expect(verified).toMatchObject({ ok: true, firstBrokenSequence: null });
    expect(events).toContainEqual(
      expect.objectContaining({
        action: "New-User",
        details: expect.objectContaining({ source: "sign-in", email: "dana@fabrikam.com" }),
      }),
    );
    expect(events).toContainEqual(
      expect.objectContaining({ action: "New-ElevatedAccessRequest", actor: { email: "dana@fabrikam.com" } }),
    );
  });

  it("refuses a token of a tenant no organization is registered for, and creates no one", async () => {
    const stranger = newcomer(randomUUID(), "someone@elsewhere.example", { roles: ["Elevate.Admin"] });
    const refused = await call(stranger, Me);
    expect(refused.status).toBe(401);
    expect(refused.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(await db.user.count({ where: { subject: stranger } })).toBe(0);
  });

  it("makes roles follow the next token once the operator says the organization takes them from tokens", async () => {
    const erin = newcomer(fabrikamTenant, "erin@fabrikam.com", { roles: ["PAM.Operators"] });
    // Roles are set in Elevate until the operator says otherwise: the app role is not taken yet.
    expect((await as(erin, Me)).me.roles).toEqual([]);
    const set = await runOrgCommand(["set", "--org", "Fabrikam", "--roles-from-token", "true"], {
      redisUrl,
      queuePrefix,
    });
    expect(set, set.stderr).toMatchObject({ code: 0, stdout: "Fabrikam: roles follow the tokens.\n" });

    expect((await as(erin, Me)).me.roles).toEqual(["ADMIN"]);
    const changed = (await as(erin, UpdateControl, { input: { defaultDurationHours: 3 } })).updateElevatedAccessControl;
    expect(changed).toMatchObject({ __typename: "ElevatedAccessControl", defaultDurationHours: 3 });

    idp.addAccount({ subject: erin, tenantId: fabrikamTenant, email: "erin@fabrikam.com", name: "erin", roles: [] });
    tokens.delete(erin);
    expect((await as(erin, Me)).me.roles).toEqual([]);
    const refused = (await as(erin, UpdateControl, { input: { defaultDurationHours: 5 } })).updateElevatedAccessControl;
    expect(refused).toMatchObject({ __typename: "ForbiddenError", code: "FORBIDDEN" });

    const { events, verified } = await auditOf(adminSubject);
    expect(verified.ok).toBe(true);
    const erinId = (await db.user.findFirstOrThrow({ where: { subject: erin } })).id;
    const roleChanges = events.filter(
      (event) => event.action === "Set-User" && (event.details as { changes?: { roles?: unknown } }).changes?.roles,
    );
    expect(roleChanges.map((event) => event.details)).toEqual(
      expect.arrayContaining([
        { source: "sign-in", changes: { roles: { from: [], to: ["ADMIN"] } } },
        { source: "sign-in", changes: { roles: { from: ["ADMIN"], to: [] } } },
      ]),
    );
    expect(await db.auditEvent.count({ where: { subjectId: erinId, action: "Set-User" } })).toBe(2);
    expect(events).toContainEqual(
      expect.objectContaining({
        action: "Set-Organization",
        details: { rolesFromToken: { from: false, to: true } },
      }),
    );
  });
});

describe("a second organization, registered by the operator from nothing", () => {
  it("signs its first admin in through the identity provider, who runs the Office 365 procedure end to end", async () => {
    const tenant = randomUUID();
    const registered = await runOrgCommand([
      "register",
      "--tenant",
      tenant,
      "--name",
      "Northwind",
      "--admin",
      "admin@northwind.example",
    ]);
    expect(registered, registered.stderr).toMatchObject({
      code: 0,
      stdout: `Registered Northwind for tenant ${tenant}.\n`,
    });
    const listed = await runOrgCommand(["list"]);
    expect(listed.stdout).toMatch(new RegExp(`^Northwind {2}\\| {2}tenant ${tenant} {2}\\| {2}1 users`, "m"));

    const admin = newcomer(tenant, "admin@northwind.example");
    const approver = newcomer(tenant, "paula@northwind.example");
    const requester = newcomer(tenant, "quinn@northwind.example");
    // The invited admin becomes the user at their first sign-in; the others are created then.
    expect((await as(admin, Me)).me).toMatchObject({ email: "admin@northwind.example", roles: ["ADMIN"] });
    expect((await as(approver, Me)).me).toMatchObject({ email: "paula@northwind.example", roles: [] });

    // 1. The approver group, 2. the control, 3. a policy: as in Office 365.
    expectType(
      (
        await as(admin, CreateApproverGroup, {
          input: {
            name: "Northwind Approvers",
            email: "pamapprovers@northwind.example",
            memberEmails: ["paula@northwind.example"],
          },
        })
      ).createApproverGroup,
      "ApproverGroup",
    );
    expectType(
      (await as(admin, EnableControl, { input: { adminGroup: "pamapprovers@northwind.example" } }))
        .enableElevatedAccessControl,
      "ElevatedAccessControl",
    );
    expectType(
      (
        await as(admin, CreatePolicy, {
          input: {
            target: "Exchange\\New-MoveRequest",
            approvalType: "MANUAL",
            approverGroup: "pamapprovers@northwind.example",
          },
        })
      ).createApprovalPolicy,
      "ApprovalPolicy",
    );

    // 4. A user seen for the first time asks, an approver approves, the task is allowed, the admin revokes.
    const request = expectType(
      (
        await as(requester, CreateRequest, {
          input: { target: "Exchange\\New-MoveRequest", reason: "Move the CEO mailbox", durationHours: 2 },
        })
      ).createAccessRequest,
      "AccessRequest",
    );
    const check = async () =>
      expectType(
        (await as(requester, AuthorizeTask, { input: { task: "Exchange\\New-MoveRequest" } })).authorizeTask,
        "TaskAuthorization",
      );
    expect(await check()).toMatchObject({ allowed: false, reason: "NO_AUTHORIZATION" });
    const approved = expectType(
      (await as(approver, ApproveRequest, { input: { requestId: request.id, comment: "OK" } })).approveAccessRequest,
      "AccessRequest",
    );
    expect(approved).toMatchObject({ status: "APPROVED", authorization: { status: "ACTIVE" } });
    expect(await check()).toMatchObject({ allowed: true, reason: "ACTIVE_AUTHORIZATION" });
    const revoked = expectType(
      (await as(admin, RevokeAuthorization, { input: { requestId: request.id, comment: "Done" } }))
        .revokeAccessAuthorization,
      "AccessAuthorization",
    );
    expect(revoked).toMatchObject({ status: "REVOKED", revokedBy: { email: "admin@northwind.example" } });
    expect(await check()).toMatchObject({ allowed: false, reason: "NO_AUTHORIZATION" });

    // Every step is in Northwind's own chain, which verifies; Fabrikam's events are not in it.
    const { events, verified } = await auditOf(admin);
    expect(verified).toMatchObject({ ok: true, firstBrokenSequence: null });
    expect(events.map((event) => event.action)).toEqual([
      "New-Organization",
      "New-User",
      "Set-User",
      "New-User",
      "New-DistributionGroup",
      "Enable-ElevatedAccessControl",
      "New-ElevatedAccessApprovalPolicy",
      "New-User",
      "New-ElevatedAccessRequest",
      "Approve-ElevatedAccessRequest",
      "Revoke-ElevatedAccessAuthorization",
    ]);
    expect(events[1]?.details).toMatchObject({
      source: "operator",
      email: "admin@northwind.example",
      roles: ["ADMIN"],
    });
    expect(events[2]?.details).toMatchObject({ source: "sign-in", changes: { subject: { from: null } } });
    expect(await db.accessAuthorization.findUniqueOrThrow({ where: { requestId: rawId(request.id) } })).toMatchObject({
      status: "REVOKED",
    });
  });
});
