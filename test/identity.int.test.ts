import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeGlobalId } from "../src/domain/global-id.ts";
import { graphql } from "./graphql/index.ts";
import { audience, issuer, startTestApp, type TestApp } from "./helpers/app.ts";
import { statementsDuring } from "./helpers/statements.ts";
import { devTokenFor } from "./helpers/tokens.ts";

const Me = graphql(`
  query Me {
    me {
      id
      email
      kind
    }
  }
`);

const NodeById = graphql(`
  query NodeById($id: ID!) {
    node(id: $id) {
      id
      ... on User {
        email
      }
    }
  }
`);

const MeInFull = graphql(`
  query MeInFull {
    me {
      id
      identity
      email
      displayName
      kind
      roles
      vendorName
      active
      signedIn
      createdAt
    }
  }
`);

const SetRoles = graphql(`
  mutation SetRolesForMe($input: SetUserRolesInput!) {
    setUserRoles(input: $input) {
      __typename
    }
  }
`);

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

describe("authentication", () => {
  it("answers `me` with the caller of a valid token", async () => {
    const data = await t.as("requester@fabrikam.com", Me);
    expect(data.me.email).toBe("requester@fabrikam.com");
    expect(data.me.kind).toBe("MEMBER");
  });

  it("refuses a request without a token", async () => {
    const result = await t.request(null, Me);
    expect(result.status).toBe(401);
    expect(result.data).toBeUndefined();
    expect(result.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("refuses a tampered token", async () => {
    const token = await t.tokenFor("requester@fabrikam.com");
    const [header, payload, signature] = token.split(".");
    const claims = JSON.parse(Buffer.from(payload!, "base64url").toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, upn: "admin@fabrikam.com" })).toString("base64url");
    const result = await t.request(`${header}.${forged}.${signature}`, Me);
    expect(result.status).toBe(401);
    expect(result.errors?.[0]?.message).toMatch(/invalid token/);
  });

  it("refuses an expired token", async () => {
    const result = await t.request(await t.tokenFor("requester@fabrikam.com", -5), Me);
    expect(result.status).toBe(401);
    expect(result.errors?.[0]?.message).toBe("Unauthenticated: token expired");
  });

  it("never reaches across tenants: another tenant's token for the same subject is a user of that tenant", async () => {
    const contoso = await t.db.organization.findUniqueOrThrow({ where: { name: "Contoso" } });
    const fabrikamRequester = await t.db.user.findFirstOrThrow({ where: { email: "requester@fabrikam.com" } });
    // A Fabrikam subject presented with Contoso's tenant ID: Contoso's own user, just in time.
    const token = await devTokenFor(t.db, t.key, "requester@fabrikam.com", {
      issuer,
      audience,
      tenantId: contoso.tenantId,
    });
    const result = await t.request(token, Me);
    expect(result.status).toBe(200);
    const created = await t.db.user.findFirstOrThrow({
      where: { organizationId: contoso.id, subject: fabrikamRequester.subject },
    });
    expect(created.id).not.toBe(fabrikamRequester.id);
    expect(result.data?.me.id).toBe(encodeGlobalId("User", created.id));
  });

  it("refuses a valid token of a tenant no organization is registered for", async () => {
    const token = await devTokenFor(t.db, t.key, "requester@fabrikam.com", {
      issuer,
      audience,
      tenantId: "unregistered",
    });
    const result = await t.request(token, Me);
    expect(result.status).toBe(401);
    expect(result.errors?.[0]?.message).toBe("Unauthenticated: not a user of a registered organization");
  });
});

describe("tenant scoping", () => {
  it("resolves a user of the caller's organization by global ID", async () => {
    const { me } = await t.as("approver1@fabrikam.com", Me);
    const data = await t.as("requester@fabrikam.com", NodeById, { id: me.id });
    expect(data.node).toEqual({ id: me.id, email: "approver1@fabrikam.com" });
  });

  it("answers null for another organization's user, exactly as for an unknown ID", async () => {
    const { me: contosoUser } = await t.as("requester@contoso.com", Me);
    const { me: fabrikamUser } = await t.as("requester@fabrikam.com", Me);
    expect((await t.as("requester@fabrikam.com", NodeById, { id: contosoUser.id })).node).toBeNull();
    expect((await t.as("admin@contoso.com", NodeById, { id: fabrikamUser.id })).node).toBeNull();
    const unknown = encodeGlobalId("User", "00000000-0000-7000-8000-000000000000");
    expect((await t.as("admin@contoso.com", NodeById, { id: unknown })).node).toBeNull();
  });

  it("gives each organization's caller their own `me`", async () => {
    expect((await t.as("requester@contoso.com", Me)).me.email).toBe("requester@contoso.com");
    expect((await t.as("requester@fabrikam.com", Me)).me.email).toBe("requester@fabrikam.com");
  });
});

describe("`me`", () => {
  it("answers from the row the token resolved to, without a query, and anew once the user changes", async () => {
    const token = await t.tokenFor("approver2@fabrikam.com");
    const first = (await t.request(token, MeInFull)).data!.me;
    const row = await t.db.user.findFirstOrThrow({ where: { email: "approver2@fabrikam.com" } });
    expect(first).toMatchObject({
      identity: row.id,
      email: row.email,
      displayName: row.displayName,
      kind: row.kind,
      roles: row.roles,
      vendorName: null,
      active: true,
      signedIn: row.subject !== null,
      createdAt: row.createdAt.toISOString(),
    });

    // The same token again: the caller is known, and so is everything `me` answers.
    const again = await statementsDuring(() => t.request(token, MeInFull));
    expect(again.result.data?.me).toEqual(first);
    expect(again.statements).toBe(0);

    // A change of the user reaches `me` at the next request with the same token.
    await t.as("admin@fabrikam.com", SetRoles, { input: { userId: first.id, roles: ["AUDITOR"] } });
    expect((await t.request(token, MeInFull)).data?.me.roles).toEqual(["AUDITOR"]);
    await t.as("admin@fabrikam.com", SetRoles, { input: { userId: first.id, roles: [] } });
    expect((await t.request(token, MeInFull)).data?.me.roles).toEqual([]);
  });
});
