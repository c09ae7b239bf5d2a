import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTokenVerifier } from "../../src/auth/token-verifier.ts";
import { graphql } from "../graphql/index.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { startTestIdp, type TestIdp } from "../helpers/idp.ts";

// Issue 9, case 6, and the production path: tokens from a real OpenID provider
// (JWKS_URL), users matched by their immutable subject, never by an address claim.

const Me = graphql(`
  query IdpMe {
    me {
      email
      roles
    }
  }
`);

let idp: TestIdp;
let t: TestApp;
let fabrikamTenant: string;
let requesterSubject: string;

beforeAll(async () => {
  idp = await startTestIdp({ audience: "api://elevate-test" });
  t = await startTestApp({
    verifyToken: createTokenVerifier({ issuer: idp.issuer, audience: idp.audience, jwksUrl: idp.jwksUrl }),
  });
  const requester = await t.db.user.findFirstOrThrow({
    where: { email: "requester@fabrikam.com" },
    include: { organization: true },
  });
  fabrikamTenant = requester.organization.tenantId;
  requesterSubject = requester.subject!;
  idp.addAccount({ subject: requesterSubject, tenantId: fabrikamTenant, email: "requester@fabrikam.com" });
});
afterAll(async () => {
  await t.close();
  await idp.close();
});

async function me(accessToken: string) {
  return t.request(accessToken, Me);
}

describe("identity from a real identity provider", () => {
  it("accepts the provider's access token and names the user by subject", async () => {
    const { access_token } = await idp.signIn(requesterSubject);
    const result = await me(access_token);
    expect(result.status).toBe(200);
    expect(result.data?.me).toEqual({ email: "requester@fabrikam.com", roles: [] });
  });

  it("never matches a user by an address claim: an admin's address with another subject is refused", async () => {
    const attacker = randomUUID();
    idp.addAccount({ subject: attacker, tenantId: fabrikamTenant, email: "admin@fabrikam.com" });
    const { access_token } = await idp.signIn(attacker);
    const claims = JSON.parse(Buffer.from(access_token.split(".")[1]!, "base64url").toString()) as { upn: string };
    expect(claims.upn).toBe("admin@fabrikam.com");
    const result = await me(access_token);
    expect(result.status).toBe(401);
    expect(result.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("keeps the subject's user when the token's address claims name someone else", async () => {
    const renamed = randomUUID();
    // Same subject as the requester, with an admin's address: still the requester.
    const requester = await t.db.user.findFirstOrThrow({ where: { email: "requester@fabrikam.com" } });
    await t.db.user.update({ where: { id: requester.id }, data: { subject: renamed } });
    idp.addAccount({ subject: renamed, tenantId: fabrikamTenant, email: "admin@fabrikam.com" });
    const result = await me((await idp.signIn(renamed)).access_token);
    expect(result.data?.me.email).toBe("requester@fabrikam.com");
    expect(result.data?.me.roles).toEqual([]);
    await t.db.user.update({ where: { id: requester.id }, data: { subject: requesterSubject } });
  });

  it("refuses a token of another tenant for the same subject", async () => {
    const elsewhere = randomUUID();
    idp.addAccount({ subject: elsewhere, tenantId: randomUUID(), email: "requester@fabrikam.com" });
    expect((await me((await idp.signIn(elsewhere)).access_token)).status).toBe(401);
  });

  it("answers 401 without the verification library's reason for a token the provider did not sign", async () => {
    const { access_token } = await idp.signIn(requesterSubject);
    const [header, payload] = access_token.split(".");
    const result = await me(`${header}.${payload}.${Buffer.from("forged").toString("base64url")}`);
    expect(result.status).toBe(401);
    expect(result.errors?.[0]?.message).toBe("Unauthenticated: invalid token");
  });
});
