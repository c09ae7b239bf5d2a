import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import * as jose from "jose";
import type { Db } from "../db/client.ts";
import type { Actor } from "./context.ts";

/** Claims Elevate reads from a bearer token: the tenant (`tid`) and the principal name. */
export interface IdentityClaims {
  organizationId: string;
  email: string;
  expiresAt: Date;
}

export class AuthenticationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AuthenticationError";
  }
}

export interface TokenVerifierOptions {
  issuer: string;
  audience: string;
  /** Remote key set of the identity provider; without it, the dev issuer's public key. */
  jwksUrl?: string;
  devPublicKey?: jose.JWK;
}

export type TokenVerifier = (token: string) => Promise<IdentityClaims>;

const devAlgorithm = "ES256";

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const keys = options.jwksUrl
    ? jose.createRemoteJWKSet(new URL(options.jwksUrl))
    : (() => {
        if (!options.devPublicKey) throw new Error("either jwksUrl or devPublicKey is required");
        return jose.createLocalJWKSet({ keys: [{ ...options.devPublicKey, alg: devAlgorithm }] });
      })();
  return async (token) => {
    let payload: jose.JWTPayload;
    try {
      ({ payload } = await jose.jwtVerify(token, keys, {
        issuer: options.issuer,
        audience: options.audience,
        requiredClaims: ["exp", "tid"],
      }));
    } catch (error) {
      if (error instanceof jose.errors.JWTExpired) throw new AuthenticationError("token expired");
      if (error instanceof jose.errors.JOSEError) throw new AuthenticationError(`invalid token (${error.code})`);
      throw error;
    }
    // Azure AD style: `upn` or `email` names the principal, `tid` the tenant.
    const email = [payload.upn, payload.email, payload.preferred_username].find((value) => typeof value === "string");
    if (typeof payload.tid !== "string" || typeof email !== "string") {
      throw new AuthenticationError("invalid token (tid and upn/email claims are required)");
    }
    return { organizationId: payload.tid, email: email.toLowerCase(), expiresAt: new Date((payload.exp ?? 0) * 1000) };
  };
}

/** Maps verified claims to a user of the claimed organization, or refuses. */
export async function resolveActor(db: Db, claims: IdentityClaims): Promise<Actor> {
  const user = await db.user.findFirst({
    where: { organizationId: claims.organizationId, email: claims.email },
    include: { organization: { select: { name: true } } },
  });
  if (!user) throw new AuthenticationError("unknown user");
  return {
    id: user.id,
    organizationId: user.organizationId,
    organizationName: user.organization.name,
    email: user.email,
    displayName: user.displayName,
    kind: user.kind,
    roles: user.roles,
  };
}

export interface DevIssuerKey {
  privateKey: jose.JWK;
  publicKey: jose.JWK;
}

/**
 * The built-in development issuer's signing key, kept in a file so the server and
 * `npm run token` (separate processes) agree on it. Created on first use.
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

export interface MintOptions {
  issuer: string;
  audience: string;
  organizationId: string;
  email: string;
  /** Seconds from now; negative values mint an already expired token (tests). */
  expiresIn: number;
  amr?: string[];
}

// Node fires a timer set beyond 2^31-1 ms (about 24.8 days) after 1 ms instead.
const longestTimerMs = 2 ** 31 - 1;

/**
 * Runs `run` once a token's expiry has come, also when that is weeks away; returns
 * the cancel function.
 */
export function atTokenExpiry(expiresAt: Date, run: () => void): () => void {
  let timer: NodeJS.Timeout;
  const arm = () => {
    const delay = expiresAt.getTime() - Date.now();
    timer = delay > longestTimerMs ? setTimeout(arm, longestTimerMs) : setTimeout(run, Math.max(0, delay));
  };
  arm();
  return () => clearTimeout(timer);
}

export async function mintDevToken(key: DevIssuerKey, options: MintOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const signingKey = await jose.importJWK(key.privateKey, devAlgorithm);
  return new jose.SignJWT({ tid: options.organizationId, upn: options.email, amr: options.amr ?? ["pwd"] })
    .setProtectedHeader({ alg: devAlgorithm })
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setSubject(options.email)
    .setIssuedAt(now)
    .setExpirationTime(now + options.expiresIn)
    .sign(signingKey);
}
