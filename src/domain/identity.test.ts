import * as jose from "jose";
import { describe, expect, it } from "vitest";
import { AuthenticationError, createTokenVerifier, generateDevIssuerKey, mintDevToken } from "./identity.ts";

const issuer = "elevate-dev";
const audience = "elevate";
const organizationId = "0193a0c4-0000-7000-8000-000000000001";

async function setup() {
  const key = await generateDevIssuerKey();
  const verify = createTokenVerifier({ issuer, audience, devPublicKey: key.publicKey });
  const mint = (overrides: Partial<Parameters<typeof mintDevToken>[1]> = {}) =>
    mintDevToken(key, {
      issuer,
      audience,
      organizationId,
      email: "requester@fabrikam.com",
      expiresIn: 600,
      ...overrides,
    });
  return { key, verify, mint };
}

describe("token verification", () => {
  it("maps a valid token to organization and principal name", async () => {
    const { verify, mint } = await setup();
    const claims = await verify(await mint({ email: "Requester@Fabrikam.com" }));
    expect(claims.organizationId).toBe(organizationId);
    expect(claims.email).toBe("requester@fabrikam.com");
    expect(claims.expiresAt.getTime()).toBeGreaterThan(Date.now());
  });

  it("refuses a tampered payload", async () => {
    const { verify, mint } = await setup();
    const [header, payload, signature] = (await mint()).split(".");
    const claims = JSON.parse(Buffer.from(payload!, "base64url").toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, upn: "admin@fabrikam.com" })).toString("base64url");
    await expect(verify(`${header}.${forged}.${signature}`)).rejects.toThrow(AuthenticationError);
  });

  it("refuses a token signed by another key", async () => {
    const { verify } = await setup();
    const other = await generateDevIssuerKey();
    const token = await mintDevToken(other, { issuer, audience, organizationId, email: "a@b.c", expiresIn: 600 });
    await expect(verify(token)).rejects.toThrow(/invalid token/);
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

  it("refuses a token without tenant or principal claims", async () => {
    const { key, verify } = await setup();
    const signingKey = await jose.importJWK(key.privateKey, "ES256");
    const token = await new jose.SignJWT({ tid: organizationId })
      .setProtectedHeader({ alg: "ES256" })
      .setIssuer(issuer)
      .setAudience(audience)
      .setExpirationTime("10m")
      .sign(signingKey);
    await expect(verify(token)).rejects.toThrow(/upn\/email/);
  });

  it("refuses unsigned tokens", async () => {
    const { verify } = await setup();
    const token = new jose.UnsecuredJWT({ tid: organizationId, upn: "admin@fabrikam.com" })
      .setIssuer(issuer)
      .setAudience(audience)
      .setExpirationTime("10m")
      .encode();
    await expect(verify(token)).rejects.toThrow(AuthenticationError);
  });
});
