import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as jose from "jose";
import { afterAll, beforeAll, expect, it } from "vitest";
import { parseConfig } from "../../src/config/env.ts";
import { identityEdge } from "../../src/main/bootstrap.ts";
import { graphql } from "../graphql/index.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";

// The production path of identity: NODE_ENV=production with JWKS_URL, parsed as the
// server parses its environment and wired as the server wires it. Keys come from a
// local JWKS server; the built-in dev issuer is off.

const Me = graphql(`
  query JwksMe {
    me {
      email
    }
  }
`);

const issuer = "https://login.test/tenant/v2.0";
const audience = "api://elevate-production-test";

let jwks: Server;
let keys: { privateKey: CryptoKey; kid: string };
let t: TestApp;
let devKeyIssued: boolean;
let requester: { subject: string; tenantId: string };

beforeAll(async () => {
  const pair = await jose.generateKeyPair("RS256", { extractable: true });
  const publicJwk = { ...(await jose.exportJWK(pair.publicKey)), kid: "test-key-1", alg: "RS256", use: "sig" };
  keys = { privateKey: pair.privateKey, kid: "test-key-1" };
  jwks = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ keys: [publicJwk] }));
  });
  jwks.listen(0, "127.0.0.1");
  await once(jwks, "listening");
  const config = parseConfig({
    NODE_ENV: "production",
    DATABASE_URL: process.env.DATABASE_URL,
    JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/keys`,
    JWT_ISSUER: issuer,
    JWT_AUDIENCE: audience,
    SMTP_URL: "smtp://127.0.0.1:25",
    AUDIT_KEY: "c2VjcmV0LWtleS1oZWxkLW91dHNpZGUtdGhlLWRhdGFiYXNl",
  });
  expect(config.mode).toBe("production");
  const edge = await identityEdge(config.identity);
  devKeyIssued = edge.devKey !== null;
  t = await startTestApp({ production: true, verifyToken: edge.verifyToken });
  const user = await t.db.user.findFirstOrThrow({
    where: { email: "requester@fabrikam.com" },
    include: { organization: true },
  });
  requester = { subject: user.subject!, tenantId: user.organization.tenantId };
});
afterAll(async () => {
  await t?.close();
  jwks?.close();
});

function providerToken(options: { key?: CryptoKey; issuer?: string; audience?: string } = {}, kid = keys.kid) {
  return new jose.SignJWT({ tid: requester.tenantId, oid: requester.subject })
    .setProtectedHeader({ alg: "RS256", kid })
    .setIssuer(options.issuer ?? issuer)
    .setAudience(options.audience ?? audience)
    .setIssuedAt()
    .setExpirationTime("5m")
    .sign(options.key ?? keys.privateKey);
}

it("accepts the provider's tokens, verified with the keys at JWKS_URL", async () => {
  expect(devKeyIssued).toBe(false);
  const result = await t.request(await providerToken(), Me);
  expect(result).toMatchObject({ status: 200, data: { me: { email: "requester@fabrikam.com" } } });
});

it("refuses tokens the built-in dev issuer signs, and tokens of another key, issuer or audience", async () => {
  const stranger = await jose.generateKeyPair("RS256");
  const refused = [
    // The dev issuer's token for the same user (startTestApp's own key).
    await t.tokenFor("requester@fabrikam.com"),
    await providerToken({ key: stranger.privateKey }),
    await providerToken({ issuer: "https://login.test/other/v2.0" }),
    await providerToken({ audience: "api://someone-else" }),
  ];
  for (const token of refused) {
    const result = await t.request(token, Me);
    expect(result.status).toBe(401);
    expect(result.data ?? null).toBeNull();
  }
});
