import * as jose from "jose";
import { describe, expect, it } from "vitest";
import { AuthenticationError } from "../domain/identity.ts";
import { generateDevIssuerKey, mintDevToken } from "./dev-issuer.ts";
import { createTokenVerifier } from "./token-verifier.ts";

const issuer = "elevate-dev";
const audience = "elevate";
const tenantId = "0193a0c4-0000-7000-8000-000000000001";
const subject = "5e0c2f55-6a2e-4c1f-9f5a-2a7d3b1c9e01";

async function setup() {
  const key = await generateDevIssuerKey();
  const verify = createTokenVerifier({ issuer, audience, devPublicKey: key.publicKey });
  const mint = (overrides: Partial<Parameters<typeof mintDevToken>[1]> = {}) =>
    mintDevToken(key, {
      issuer,
      audience,
      tenantId,
      subject,
      email: "requester@fabrikam.com",
      expiresIn: 600,
      ...overrides,
    });
  const sign = async (claims: jose.JWTPayload, options: { issuer?: string } = {}) =>
    new jose.SignJWT(claims)
      .setProtectedHeader({ alg: "ES256" })
      .setIssuer(options.issuer ?? issuer)
      .setAudience(audience)
      .setExpirationTime("10m")
      .sign(await jose.importJWK(key.privateKey, "ES256"));
  return { key, verify, mint, sign };
}

describe("token verification", () => {
  it("maps a valid token to tenant, immutable subject and the address shown", async () => {
    const { verify, mint } = await setup();
    const identity = await verify(await mint({ email: "Requester@Fabrikam.com", displayName: "Regan" }));
    expect(identity).toMatchObject({ tenantId, subject, email: "requester@fabrikam.com", displayName: "Regan" });
    expect(identity.expiresAt.getTime()).toBeGreaterThan(Date.now());
  });

  it("takes the subject from oid when present, else from sub, never from an address claim", async () => {
    const { verify, sign } = await setup();
    expect((await verify(await sign({ tid: tenantId, oid: "object-id", sub: "pairwise-sub" }))).subject).toBe(
      "object-id",
    );
    expect((await verify(await sign({ tid: tenantId, sub: "pairwise-sub", email: "a@b.c" }))).subject).toBe(
      "pairwise-sub",
    );
    await expect(
      verify(await sign({ tid: tenantId, upn: "admin@fabrikam.com", email: "admin@fabrikam.com" })),
    ).rejects.toThrow(AuthenticationError);
  });

  it("reads how the user signed in (amr, acr) for step-up, keeping only sane method names", async () => {
    const { verify, mint, sign } = await setup();
    expect((await verify(await mint({ amr: ["pwd", "mfa"], acr: "c2" }))).authentication).toEqual({
      methods: ["pwd", "mfa"],
      context: "c2",
    });
    expect((await verify(await sign({ tid: tenantId, sub: "s", amr: "mfa" }))).authentication).toEqual({
      methods: [],
      context: null,
    });
    expect(
      (await verify(await sign({ tid: tenantId, sub: "s", amr: [1, "mfa", "x".repeat(65)] }))).authentication,
    ).toEqual({ methods: ["mfa"], context: null });
  });

  it("refuses a tampered payload", async () => {
    const { verify, mint } = await setup();
    const [header, payload, signature] = (await mint()).split(".");
    const claims = JSON.parse(Buffer.from(payload!, "base64url").toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, oid: "someone-else" })).toString("base64url");
    await expect(verify(`${header}.${forged}.${signature}`)).rejects.toThrow(AuthenticationError);
  });

  it("refuses a token signed by another key, without naming the library's reason", async () => {
    const { verify } = await setup();
    const other = await generateDevIssuerKey();
    const token = await mintDevToken(other, { issuer, audience, tenantId, subject, email: "a@b.c", expiresIn: 600 });
    await expect(verify(token)).rejects.toThrow(/^invalid token$/);
  });

  it("refuses an expired token", async () => {
    const { verify, mint } = await setup();
    await expect(verify(await mint({ expiresIn: -60 }))).rejects.toThrow("token expired");
  });

  it("refuses another issuer or audience", async () => {
    const { verify, mint } = await setup();
    await expect(verify(await mint({ issuer: "someone-else" }))).rejects.toThrow(AuthenticationError);
    await expect(verify(await mint({ audience: "other-api" }))).rejects.toThrow(AuthenticationError);
  });

  it("refuses a token without a tenant or subject, or with a tenant that is not a plain name", async () => {
    const { verify, sign } = await setup();
    await expect(verify(await sign({ oid: subject }))).rejects.toThrow(AuthenticationError);
    await expect(verify(await sign({ tid: tenantId }))).rejects.toThrow(AuthenticationError);
    for (const tid of ["", "not a tenant", "a\u0000b", "x".repeat(200), 42]) {
      await expect(verify(await sign({ tid, oid: subject }))).rejects.toThrow(/^invalid token$/);
    }
  });

  it("fills a per-tenant issuer from the token's tid (Entra multi-tenant apps)", async () => {
    const key = await generateDevIssuerKey();
    const verify = createTokenVerifier({
      issuer: "https://login.example.com/{tenantid}/v2.0",
      audience,
      devPublicKey: key.publicKey,
    });
    const mint = (issuerOfToken: string) =>
      mintDevToken(key, { issuer: issuerOfToken, audience, tenantId, subject, email: "a@b.c", expiresIn: 600 });
    expect((await verify(await mint(`https://login.example.com/${tenantId}/v2.0`))).tenantId).toBe(tenantId);
    await expect(verify(await mint("https://login.example.com/another-tenant/v2.0"))).rejects.toThrow(
      AuthenticationError,
    );
  });

  it("refuses unsigned tokens", async () => {
    const { verify } = await setup();
    const token = new jose.UnsecuredJWT({ tid: tenantId, oid: subject })
      .setIssuer(issuer)
      .setAudience(audience)
      .setExpirationTime("10m")
      .encode();
    await expect(verify(token)).rejects.toThrow(AuthenticationError);
  });

  it("answers a token verified once from memory until its exp, then refuses it as expired", async () => {
    const key = await generateDevIssuerKey();
    let now = new Date();
    const verify = createTokenVerifier({ issuer, audience, devPublicKey: key.publicKey, clock: () => now });
    const token = await mintDevToken(key, { issuer, audience, tenantId, subject, email: "a@b.c", expiresIn: 60 });
    const first = await verify(token);
    expect(await verify(token)).toBe(first);
    // A token altered after the original was verified is not the same string: verified afresh, refused.
    const [header, payload, signature] = token.split(".");
    const claims = JSON.parse(Buffer.from(payload!, "base64url").toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, oid: "someone-else" })).toString("base64url");
    await expect(verify(`${header}.${forged}.${signature}`)).rejects.toThrow(/^invalid token$/);
    now = new Date(first.expiresAt.getTime() + 1000);
    await expect(verify(token)).rejects.toThrow("token expired");
    await expect(verify(token)).rejects.toThrow("token expired");
  });
});
