import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import * as jose from "jose";
import type { PrincipalKind } from "../db/client.ts";
import { devAlgorithm } from "./token-verifier.ts";

// The built-in development issuer: signs tokens for seeded users so that the API,
// the console and the command line can be tried without an identity provider.
// Refused in production (config), since it signs whatever it is asked to.

export interface DevIssuerKey {
  privateKey: jose.JWK;
  publicKey: jose.JWK;
}

/**
 * The dev issuer's signing key, kept in a file so the server and `npm run token`
 * (separate processes) agree on it. Created on first use.
 */
export async function loadOrCreateDevIssuerKey(file: string): Promise<DevIssuerKey> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as DevIssuerKey;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const key = await generateDevIssuerKey();
  await mkdir(path.dirname(file), { recursive: true });
  try {
    // `wx`: when two processes race to create it, the first one's key wins.
    await writeFile(file, JSON.stringify(key), { flag: "wx", mode: 0o600 });
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    return JSON.parse(await readFile(file, "utf8")) as DevIssuerKey;
  }
}

export async function generateDevIssuerKey(): Promise<DevIssuerKey> {
  const { privateKey, publicKey } = await jose.generateKeyPair(devAlgorithm, { extractable: true });
  return { privateKey: await jose.exportJWK(privateKey), publicKey: await jose.exportJWK(publicKey) };
}

/** Who a dev token names, with Microsoft Entra ID's claim names. */
export interface DevTokenSubject {
  tenantId: string;
  subject: string;
  email: string;
  displayName?: string;
  /** Said as Entra says it: `acct` 0 or 1, `idtyp: app` for services. */
  kind?: PrincipalKind;
  /** Entra app roles, e.g. "Elevate.Admin"; organizations that take roles from tokens read them. */
  roles?: string[];
  amr?: string[];
  acr?: string;
}

export interface MintOptions extends DevTokenSubject {
  issuer: string;
  audience: string;
  /** Seconds from now; negative values mint an already expired token (tests). */
  expiresIn: number;
}

export async function mintDevToken(key: DevIssuerKey, options: MintOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const signingKey = await jose.importJWK(key.privateKey, devAlgorithm);
  return new jose.SignJWT({
    tid: options.tenantId,
    oid: options.subject,
    upn: options.email,
    ...(options.displayName ? { name: options.displayName } : {}),
    ...(options.roles ? { roles: options.roles } : {}),
    ...(options.kind === "SERVICE" ? { idtyp: "app" } : options.kind ? { acct: options.kind === "GUEST" ? 1 : 0 } : {}),
    ...(options.acr ? { acr: options.acr } : {}),
    amr: options.amr ?? ["pwd"],
  })
    .setProtectedHeader({ alg: devAlgorithm })
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setSubject(options.subject)
    .setIssuedAt(now)
    .setExpirationTime(now + options.expiresIn)
    .sign(signingKey);
}
