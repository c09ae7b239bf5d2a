import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTokenVerifier } from "../../src/auth/token-verifier.ts";
import type { Actor } from "../../src/domain/context.ts";
import { createAccessRequest } from "../../src/domain/requests/requests.service.ts";
import { graphql } from "../graphql/index.ts";
import { ApproveRequest, CreatePolicy, CreateRequest, EnableControl } from "../helpers/documents.ts";
import { rawId } from "../helpers/fixtures.ts";
import { startTestIdp, type TestIdp } from "../helpers/idp.ts";
import { contextFor } from "../helpers/jobs.ts";
import { startMailingApp } from "../helpers/mail.ts";
import { runOrgCommand, waitFor } from "../helpers/processes.ts";

// Issue 12: SCIM 2.0 provisioning from the directory, driven with the request shapes
// Microsoft Entra ID's provisioning service sends (Microsoft's "SCIM protocol requests
// and responses" and "Known issues ... SCIM 2.0 protocol compliance" pages), against
// the real HTTP app with its job workers and a real SMTP server. People sign in with
// tokens from the in-process identity provider.

const Me = graphql(`
  query ScimMe {
    me {
      email
      active
    }
  }
`);

const ScimAudit = graphql(`
  query ScimAudit {
    auditEvents(first: 200) {
      edges {
        node {
          action
          details
          actor {
            email
            displayName
            kind
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

const userSchema = "urn:ietf:params:scim:schemas:core:2.0:User";
const enterpriseSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const groupSchema = "urn:ietf:params:scim:schemas:core:2.0:Group";
const patchSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const errorSchema = "urn:ietf:params:scim:api:messages:2.0:Error";
const elevateGroup = "urn:ietf:params:scim:schemas:extension:elevate:2.0:Group";

let idp: TestIdp;
let m: Awaited<ReturnType<typeof startMailingApp>>;
let secret: string;
let fabrikamTenant: string;

interface ScimResponse {
  status: number;
  headers: Headers;
  body: Record<string, unknown> & { Resources?: Record<string, unknown>[] };
}

async function scim(method: string, path: string, body?: unknown, token = secret): Promise<ScimResponse> {
  const response = await fetch(`${m.publicUrl}/scim/v2${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { "content-type": "application/scim+json" }),
    },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : {} };
}

/** Entra's Create User request (userName is the user principal name, an address in any real tenant). */
function entraUser(userName: string, name: { givenName: string; familyName: string }) {
  return {
    schemas: [userSchema, enterpriseSchema],
    externalId: randomUUID(),
    userName,
    active: true,
    emails: [{ primary: true, type: "work", value: userName }],
    meta: { resourceType: "User" },
    name: { formatted: `${name.givenName} ${name.familyName}`, familyName: name.familyName, givenName: name.givenName },
    roles: [],
  };
}

/** Creates a user through SCIM and gives them an account at the identity provider; returns the SCIM id. */
async function provision(userName: string, givenName: string) {
  const created = await scim("POST", "/Users", entraUser(userName, { givenName, familyName: "Directory" }));
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const subject = randomUUID();
  idp.addAccount({ subject, tenantId: fabrikamTenant, email: userName, name: `${givenName} Directory` });
  return { id: created.body.id as string, subject };
}

async function tokenOf(subject: string) {
  return (await idp.signIn(subject)).access_token;
}

async function graphqlAs<TResult, TVariables>(
  subject: string,
  document: Parameters<typeof m.t.request<TResult, TVariables>>[1],
  variables?: TVariables,
) {
  const result = await m.t.request(await tokenOf(subject), document, variables);
  if (!result.data) throw new Error(`GraphQL answered ${result.status}: ${JSON.stringify(result.errors)}`);
  return result.data;
}

let adminSubject: string;

beforeAll(async () => {
  idp = await startTestIdp({ audience: "api://elevate-test" });
  m = await startMailingApp({
    verifyToken: createTokenVerifier({ issuer: idp.issuer, audience: idp.audience, jwksUrl: idp.jwksUrl }),
  });
  const admin = await m.t.db.user.findFirstOrThrow({
    where: { email: "admin@fabrikam.com" },
    include: { organization: true },
  });
  fabrikamTenant = admin.organization.tenantId;
  adminSubject = admin.subject!;
  idp.addAccount({ subject: adminSubject, tenantId: fabrikamTenant, email: admin.email });
  // The operator issues the secret, as the README says, and pastes it into Entra's Secret Token.
  const rotated = await runOrgCommand(["rotate-scim-secret", "--org", "Fabrikam"]);
  expect(rotated.code, rotated.stderr).toBe(0);
  secret = rotated.stdout.trim();
});

afterAll(async () => {
  await m?.close();
  await idp?.close();
});

describe("SCIM authentication and discovery", () => {
  it("refuses a missing or unknown secret with 401 in SCIM's error format", async () => {
    for (const token of ["", "scim_not-the-secret", (await tokenOf(adminSubject)) as string]) {
      const refused = await scim("GET", "/Users", undefined, token);
      expect(refused.status).toBe(401);
      expect(refused.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect(refused.body).toMatchObject({ schemas: [errorSchema], status: "401" });
    }
  });

  it("describes what it supports: PATCH and filters, Users and Groups with the group mail extension", async () => {
    const config = await scim("GET", "/ServiceProviderConfig");
    expect(config.status).toBe(200);
    expect(config.body).toMatchObject({
      patch: { supported: true },
      filter: { supported: true, maxResults: 200 },
      bulk: { supported: false },
      authenticationSchemes: [{ type: "oauthbearertoken" }],
    });
    const types = await scim("GET", "/ResourceTypes");
    expect(types.body.Resources?.map((type) => type.endpoint).sort()).toEqual(["/Groups", "/Users"]);
    const group = await scim("GET", "/ResourceTypes/Group");
    expect(group.body.schemaExtensions).toEqual([{ schema: elevateGroup, required: false }]);
    const schemas = await scim("GET", "/Schemas");
    expect(schemas.body.Resources?.map((schema) => schema.id)).toEqual(
      expect.arrayContaining([userSchema, groupSchema, elevateGroup]),
    );
    expect((await scim("GET", `/Schemas/${elevateGroup}`)).body.attributes).toMatchObject([{ name: "mail" }]);
  });
});

describe("SCIM Users", () => {
  it("creates a user from Entra's request and finds them by userName, in any case", async () => {
    const request = entraUser("Alice.Adams@fabrikam.com", { givenName: "Alice", familyName: "Adams" });
    const created = await scim("POST", "/Users", request);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      schemas: [userSchema],
      externalId: request.externalId,
      userName: "alice.adams@fabrikam.com",
      displayName: "Alice Adams",
      active: true,
      emails: [{ value: "alice.adams@fabrikam.com", type: "work", primary: true }],
      meta: { resourceType: "User", location: `${m.publicUrl}/scim/v2/Users/${created.body.id}` },
    });
    expect(created.headers.get("location")).toBe(`${m.publicUrl}/scim/v2/Users/${created.body.id}`);
    const user = await m.t.db.user.findUniqueOrThrow({ where: { id: created.body.id as string } });
    expect(user).toMatchObject({ email: "alice.adams@fabrikam.com", kind: "MEMBER", roles: [], subject: null });

    const found = await scim("GET", `/Users?filter=${encodeURIComponent('userName eq "ALICE.ADAMS@fabrikam.com"')}`);
    expect(found.body).toMatchObject({ totalResults: 1, startIndex: 1, itemsPerPage: 1 });
    expect(found.body.Resources?.[0]?.id).toBe(created.body.id);
    const byWorkAddress = await scim(
      "GET",
      `/Users?filter=${encodeURIComponent('emails[type eq "work"].value eq "alice.adams@fabrikam.com"')}`,
    );
    expect(byWorkAddress.body.totalResults).toBe(1);
    const byExternalId = await scim(
      "GET",
      `/Users?filter=${encodeURIComponent(`externalId eq "${request.externalId}"`)}`,
    );
    expect(byExternalId.body.totalResults).toBe(1);
    const none = await scim("GET", `/Users?filter=${encodeURIComponent('userName eq "non-existent user"')}`);
    expect(none.body).toMatchObject({ totalResults: 0, Resources: [] });
    expect((await scim("GET", `/Users/${created.body.id}`)).body.userName).toBe("alice.adams@fabrikam.com");
  });

  it("pages with startIndex and count, counting every match", async () => {
    for (const n of [1, 2, 3]) await provision(`page${n}@fabrikam.com`, `Page${n}`);
    const filter = encodeURIComponent('userName sw "page"');
    const second = await scim("GET", `/Users?filter=${filter}&startIndex=2&count=1`);
    expect(second.body).toMatchObject({ totalResults: 3, startIndex: 2, itemsPerPage: 1 });
    expect(second.body.Resources?.map((user) => user.userName)).toEqual(["page2@fabrikam.com"]);
    const counted = await scim("GET", `/Users?filter=${filter}&count=0`);
    expect(counted.body).toMatchObject({ totalResults: 3, itemsPerPage: 0, Resources: [] });
  });

  it("answers bad input with a SCIM error naming the attribute, never a 500, and writes nothing", async () => {
    const before = await m.t.db.user.count();
    const cases: [string, string, unknown, number, string | null, RegExp][] = [
      ["POST", "/Users", { schemas: [userSchema], displayName: "No Name" }, 400, "invalidValue", /userName/],
      ["POST", "/Users", { schemas: [userSchema], userName: "not-an-address" }, 400, "invalidValue", /^userName: /],
      [
        "POST",
        "/Users",
        { schemas: [userSchema], userName: "x@fabrikam.com", active: "maybe" },
        400,
        "invalidValue",
        /active/,
      ],
      ["POST", "/Users", "{not json", 400, "invalidSyntax", /not JSON/],
      ["POST", "/Users", [1, 2], 400, "invalidSyntax", /one JSON object/],
      ["POST", "/Users", { schemas: [userSchema], userName: "nul\u0000@fabrikam.com" }, 400, "invalidValue", /NUL/],
      [
        "POST",
        "/Users",
        entraUser("alice.adams@fabrikam.com", { givenName: "A", familyName: "B" }),
        409,
        "uniqueness",
        /^userName: /,
      ],
      ["GET", `/Users?filter=${encodeURIComponent("userName eq")}`, undefined, 400, "invalidFilter", /userName/],
      ["GET", `/Users?filter=${encodeURIComponent('"alone"')}`, undefined, 400, "invalidFilter", /filter/],
      ["GET", `/Users?filter=${encodeURIComponent('title eq "CEO"')}`, undefined, 400, "invalidFilter", /title/],
      ["GET", "/Users?startIndex=first", undefined, 400, "invalidValue", /^startIndex/],
      ["GET", "/Users/not-a-user-id", undefined, 404, null, /not-a-user-id/],
      ["GET", `/Users/${randomUUID()}`, undefined, 404, null, /no user/],
      [
        "PATCH",
        `/Users/${randomUUID()}`,
        { schemas: [patchSchema], Operations: [{ op: "Frob", path: "active", value: false }] },
        400,
        "invalidSyntax",
        /Frob/,
      ],
      ["DELETE", "/Users", undefined, 405, null, /DELETE/],
      ["GET", "/Bulk", undefined, 404, null, /Bulk/],
    ];
    for (const [method, path, body, status, scimType, detail] of cases) {
      const answer = await scim(method, path, body);
      expect(answer.status, `${method} ${path}: ${JSON.stringify(answer.body)}`).toBe(status);
      expect(answer.body).toMatchObject({ schemas: [errorSchema], status: String(status) });
      expect(answer.body.scimType).toBe(scimType ?? undefined);
      expect(answer.body.detail).toMatch(detail);
    }
    expect(await m.t.db.user.count()).toBe(before);
  });

  it("applies Entra's PATCH requests: ops in any case, filtered paths, replace without a path", async () => {
    const { id } = await provision("bob@fabrikam.com", "Bob");
    // Update User [Multi-valued properties], then the SCIM-compliant replace of several attributes.
    const multiValued = await scim("PATCH", `/Users/${id}`, {
      schemas: [patchSchema],
      Operations: [
        { op: "Replace", path: 'emails[type eq "work"].value', value: "bob.new@fabrikam.com" },
        { op: "Replace", path: "name.familyName", value: "updatedFamilyName" },
        { op: "Add", path: 'phoneNumbers[type eq "work"].value', value: "+1 555 0100" },
      ],
    });
    expect(multiValued.status, JSON.stringify(multiValued.body)).toBe(200);
    const several = await scim("PATCH", `/Users/${id}`, {
      schemas: [patchSchema],
      Operations: [
        {
          op: "replace",
          value: {
            displayName: "Bjfe Directory",
            "name.givenName": "Kkom",
            "name.familyName": "Unua",
            [`${enterpriseSchema}:employeeNumber`]: "Aklq",
          },
        },
      ],
    });
    expect(several.status).toBe(200);
    expect(several.body).toMatchObject({ displayName: "Bjfe Directory", userName: "bob@fabrikam.com" });
    // Update User [Single-valued properties]: userName is the address.
    const renamed = await scim("PATCH", `/Users/${id}`, {
      schemas: [patchSchema],
      Operations: [{ op: "Replace", path: "userName", value: "Robert@fabrikam.com" }],
    });
    expect(renamed.body).toMatchObject({ userName: "robert@fabrikam.com", emails: [{ value: "robert@fabrikam.com" }] });
    const guest = await scim("PATCH", `/Users/${id}`, {
      schemas: [patchSchema],
      Operations: [{ op: "Add", path: "userType", value: "Guest" }],
    });
    expect(guest.body.userType).toBe("Guest");
    expect(await m.t.db.user.findUniqueOrThrow({ where: { id } })).toMatchObject({
      email: "robert@fabrikam.com",
      displayName: "Bjfe Directory",
      kind: "GUEST",
    });
  });

  it("replaces a user with PUT, and DELETE deactivates without deleting", async () => {
    const { id } = await provision("carol@fabrikam.com", "Carol");
    const replaced = await scim("PUT", `/Users/${id}`, {
      schemas: [userSchema],
      userName: "carol@fabrikam.com",
      name: { givenName: "Carol", familyName: "Replaced" },
      externalId: "carol-external",
    });
    expect(replaced.body).toMatchObject({ displayName: "Carol Replaced", externalId: "carol-external", active: true });
    expect((await scim("DELETE", `/Users/${id}`)).status).toBe(204);
    expect((await scim("GET", `/Users/${id}`)).body).toMatchObject({ id, active: false });
    expect(await m.t.db.user.findUniqueOrThrow({ where: { id } })).toMatchObject({ active: false });
  });
});

describe("SCIM Groups are approver groups, and who approves follows them", () => {
  let ann: { id: string; subject: string };
  let ben: { id: string; subject: string };
  let rita: { id: string; subject: string };
  let groupId: string;
  let firstRequest: string;

  /** Who the approval mails of the request for `target` went to, once all its queued mail arrived. */
  async function approvalRecipients(target: string): Promise<string[]> {
    const queued = await waitFor(`the approval mail for ${target}`, async () => {
      const rows = await m.t.db.emailMessage.findMany({
        where: { template: "approval-needed", request: { target } },
        include: { recipient: true },
      });
      return rows.length > 0 ? rows : null;
    });
    const delivered = await m.smtp.messages((mail) => mail.subject.endsWith(`requests ${target}`), queued.length);
    expect(delivered).toHaveLength(queued.length);
    return delivered.map((mail) => mail.to).sort();
  }

  async function file(target: string) {
    const result = (
      await graphqlAs(rita.subject, CreateRequest, { input: { target, reason: "Directory test", durationHours: 2 } })
    ).createAccessRequest;
    if (result.__typename !== "AccessRequest") throw new Error(JSON.stringify(result));
    return result.id;
  }

  beforeAll(async () => {
    ann = await provision("ann@fabrikam.com", "Ann");
    ben = await provision("ben@fabrikam.com", "Ben");
    rita = await provision("rita@fabrikam.com", "Rita");
  });

  it("creates a group from Entra's request (with empty members) and adds members with Entra's Add", async () => {
    const created = await scim("POST", "/Groups", {
      schemas: [groupSchema, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group", elevateGroup],
      externalId: "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
      displayName: "Move Approvers",
      [elevateGroup]: { mail: "MoveApprovers@fabrikam.com" },
      meta: { resourceType: "Group" },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({
      displayName: "Move Approvers",
      [elevateGroup]: { mail: "moveapprovers@fabrikam.com" },
    });
    groupId = created.body.id as string;
    const added = await scim("PATCH", `/Groups/${groupId}`, {
      schemas: [patchSchema],
      Operations: [{ op: "Add", path: "members", value: [{ $ref: null, value: ann.id }] }],
    });
    expect(added.status).toBe(204);
    const read = await scim("GET", `/Groups/${groupId}`);
    expect(read.body.members).toEqual([
      { value: ann.id, display: "ann@fabrikam.com", $ref: `${m.publicUrl}/scim/v2/Users/${ann.id}` },
    ]);
    // Entra reads groups without their members, and finds them by displayName.
    const byName = await scim(
      "GET",
      `/Groups?excludedAttributes=members&filter=${encodeURIComponent('displayName eq "Move Approvers"')}`,
    );
    expect(byName.body.totalResults).toBe(1);
    expect(byName.body.Resources?.[0]).not.toHaveProperty("members");
    expect(byName.body.Resources?.[0]?.id).toBe(groupId);
    const byMember = await scim("GET", `/Groups?filter=${encodeURIComponent(`members[value eq "${ann.id}"]`)}`);
    expect(byMember.body.totalResults).toBe(1);
  });

  it("sends the approval mail to the group's members as the directory has them", async () => {
    const admin = adminSubject;
    expect(
      (await graphqlAs(admin, EnableControl, { input: { adminGroup: "pamapprovers@fabrikam.com" } }))
        .enableElevatedAccessControl.__typename,
    ).toBe("ElevatedAccessControl");
    for (const target of ["Exchange\\New-MoveRequest", "Exchange\\Set-MoveRequest", "Exchange\\Resume-MoveRequest"]) {
      const policy = (
        await graphqlAs(admin, CreatePolicy, {
          input: { target, approvalType: "MANUAL", approverGroup: "moveapprovers@fabrikam.com" },
        })
      ).createApprovalPolicy;
      expect(policy.__typename, JSON.stringify(policy)).toBe("ApprovalPolicy");
    }
    firstRequest = await file("Exchange\\New-MoveRequest");
    expect(await approvalRecipients("Exchange\\New-MoveRequest")).toEqual(["ann@fabrikam.com"]);

    // The directory moves the group from Ann to Ben: Entra's Remove (by value) and Add.
    const moved = await scim("PATCH", `/Groups/${groupId}`, {
      schemas: [patchSchema],
      Operations: [
        { op: "Remove", path: "members", value: [{ value: ann.id }] },
        { op: "Add", path: "members", value: [{ $ref: null, value: ben.id }] },
      ],
    });
    expect(moved.status).toBe(204);
    await file("Exchange\\Set-MoveRequest");
    expect(await approvalRecipients("Exchange\\Set-MoveRequest")).toEqual(["ben@fabrikam.com"]);

    // And back, with the SCIM-compliant removal by path filter.
    const back = await scim("PATCH", `/Groups/${groupId}`, {
      schemas: [patchSchema],
      Operations: [
        { op: "add", path: "members", value: [{ value: ann.id }] },
        { op: "remove", path: `members[value eq "${ben.id}"]` },
      ],
    });
    expect(back.status).toBe(204);
    await file("Exchange\\Resume-MoveRequest");
    expect(await approvalRecipients("Exchange\\Resume-MoveRequest")).toEqual(["ann@fabrikam.com"]);
  });

  it("renames a group, derives an address when the directory sends none, and refuses to delete one in use", async () => {
    const renamed = await scim("PATCH", `/Groups/${groupId}`, {
      schemas: [patchSchema],
      Operations: [{ op: "Replace", path: "displayName", value: "Mailbox Move Approvers" }],
    });
    expect(renamed.status).toBe(204);
    expect(await m.t.db.approverGroup.findUniqueOrThrow({ where: { id: groupId } })).toMatchObject({
      name: "Mailbox Move Approvers",
      email: "moveapprovers@fabrikam.com",
      externalId: "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
    });
    const inUse = await scim("DELETE", `/Groups/${groupId}`);
    expect(inUse.status).toBe(409);
    expect(inUse.body.detail).toMatch(/policies use this group/);

    const plain = await scim("POST", "/Groups", { schemas: [groupSchema], displayName: "Helpdesk Tier 2 (EU)" });
    expect(plain.body[elevateGroup]).toEqual({ mail: "helpdesk-tier-2-eu@directory.invalid" });
    const unknownMember = await scim("PATCH", `/Groups/${plain.body.id}`, {
      schemas: [patchSchema],
      Operations: [{ op: "Add", path: "members", value: [{ value: randomUUID() }] }],
    });
    expect(unknownMember).toMatchObject({ status: 400, body: { scimType: "invalidValue" } });
    expect(unknownMember.body.detail).toMatch(/^members: no user /);
    const clash = await scim("POST", "/Groups", { schemas: [groupSchema], displayName: "Helpdesk Tier 2 (EU)" });
    expect(clash).toMatchObject({ status: 409, body: { scimType: "uniqueness" } });
    expect((await scim("DELETE", `/Groups/${plain.body.id}`)).status).toBe(204);
    expect((await scim("GET", `/Groups/${plain.body.id}`)).status).toBe(404);
  });

  it("deactivates a user from Entra's disable request: grant revoked, pending request canceled, next call refused", async () => {
    const approved = (await graphqlAs(ann.subject, ApproveRequest, { input: { requestId: firstRequest } }))
      .approveAccessRequest;
    expect(approved).toMatchObject({ status: "APPROVED", authorization: { status: "ACTIVE" } });
    const ritaToken = await tokenOf(rita.subject);
    expect((await m.t.request(ritaToken, Me)).data?.me).toEqual({ email: "rita@fabrikam.com", active: true });

    // Entra without the aadOptscim062020 flag: "Replace" and the string "False".
    const disabled = await scim("PATCH", `/Users/${rita.id}`, {
      schemas: [patchSchema],
      Operations: [{ op: "Replace", path: "active", value: "False" }],
    });
    expect(disabled.status).toBe(200);
    expect(disabled.body.active).toBe(false);

    const grant = await m.t.db.accessAuthorization.findFirstOrThrow({ where: { userId: rita.id } });
    expect(grant).toMatchObject({ status: "REVOKED", revocationComment: "the user was deactivated" });
    const provisioner = await m.t.db.user.findUniqueOrThrow({ where: { id: grant.revokedById! } });
    expect(provisioner).toMatchObject({ displayName: "SCIM provisioning", kind: "SERVICE", active: false });
    const pending = await m.t.db.accessRequest.findMany({
      where: { requesterId: rita.id, id: { not: rawId(firstRequest) } },
    });
    expect(pending.map((request) => request.status)).toEqual(["CANCELED", "CANCELED"]);
    const refused = await m.t.request(ritaToken, Me);
    expect(refused.status).toBe(401);
    await m.smtp.messages((mail) => mail.to === "rita@fabrikam.com" && mail.subject.startsWith("Revoked:"));
  });

  it("refuses a request whose requester was deactivated after their token was checked", async () => {
    // A request authenticated while Rita was active, running after her deactivation committed.
    const row = await m.t.db.user.findUniqueOrThrow({ where: { id: rita.id }, include: { organization: true } });
    const actor: Actor = {
      id: row.id,
      organizationId: row.organizationId,
      organizationName: row.organization.name,
      email: row.email,
      displayName: row.displayName,
      kind: row.kind,
      roles: row.roles,
      approver: false,
    };
    await expect(
      createAccessRequest(contextFor(m.t.db, actor), { target: "Exchange\\New-MoveRequest", reason: "Too late" }),
    ).rejects.toThrow(/^requester: the user is deactivated$/);
    expect(await m.t.db.accessRequest.count({ where: { requesterId: rita.id, status: "PENDING" } })).toBe(0);
  });

  it("writes every change to the audit chain with the provisioning principal as actor", async () => {
    const { auditEvents, verifyAuditLog } = await graphqlAs(adminSubject, ScimAudit);
    expect(verifyAuditLog).toMatchObject({ ok: true, firstBrokenSequence: null });
    const byDirectory = auditEvents.edges
      .map(({ node }) => node)
      .filter((event) => event.actor?.displayName === "SCIM provisioning");
    expect(new Set(byDirectory.map((event) => event.action))).toEqual(
      new Set([
        "New-User",
        "Set-User",
        "Disable-User",
        "New-DistributionGroup",
        "Add-DistributionGroupMember",
        "Remove-DistributionGroupMember",
        "Set-DistributionGroup",
        "Remove-DistributionGroup",
        "Cancel-ElevatedAccessRequest",
        "Revoke-ElevatedAccessAuthorization",
      ]),
    );
    expect(byDirectory.every((event) => event.actor?.kind === "SERVICE")).toBe(true);
    const disable = byDirectory.find((event) => event.action === "Disable-User");
    expect(disable?.details).toMatchObject({ source: "directory", canceledRequests: expect.any(Array) });
    expect(
      byDirectory.filter((event) => event.action === "Add-DistributionGroupMember").map((event) => event.details),
    ).toContainEqual({ source: "directory", members: ["ben@fabrikam.com"] });
  });
});
