import * as jose from "jose";
import { AuthenticationError, type VerifiedIdentity } from "../domain/identity.ts";

export interface TokenVerifierOptions {
  /**
   * Expected `iss`. A `{tenantid}` placeholder (Microsoft Entra ID multi-tenant apps:
   * `https://login.microsoftonline.com/{tenantid}/v2.0`) is filled in from the token's `tid`.
   */
  issuer: string;
  audience: string;
  /** Remote key set of the identity provider; without it, the dev issuer's public key. */
  jwksUrl?: string;
  devPublicKey?: jose.JWK;
}

export type TokenVerifier = (token: string) => Promise<VerifiedIdentity>;

export const devAlgorithm = "ES256";

/** Tenant IDs are GUIDs in Entra ID; anything else an IdP puts there must still be a plain name. */
const tenantIdPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const maxClaimLength = 256;

function stringClaim(payload: jose.JWTPayload, name: string): string | null {
  const value = payload[name];
  return typeof value === "string" && value.length > 0 && value.length <= maxClaimLength ? value : null;
}

/**
 * Verifies bearer tokens with jose and reads who they name. Every refusal is an
 * AuthenticationError with a generic message: library error codes would tell a
 * prober which check failed.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const keys = options.jwksUrl
    ? jose.createRemoteJWKSet(new URL(options.jwksUrl))
    : (() => {
        if (!options.devPublicKey) throw new Error("either jwksUrl or devPublicKey is required");
        return jose.createLocalJWKSet({ keys: [{ ...options.devPublicKey, alg: devAlgorithm }] });
      })();
  const perTenantIssuer = options.issuer.includes("{tenantid}");
  return async (token) => {
    let payload: jose.JWTPayload;
    try {
      ({ payload } = await jose.jwtVerify(token, keys, {
        ...(perTenantIssuer ? {} : { issuer: options.issuer }),
        audience: options.audience,
        requiredClaims: ["exp", "tid", "iss"],
      }));
    } catch (error) {
      if (error instanceof jose.errors.JWTExpired) throw new AuthenticationError("token expired");
      if (error instanceof jose.errors.JOSEError) throw new AuthenticationError("invalid token");
      throw error;
    }
    const tenantId = stringClaim(payload, "tid");
    const subject = stringClaim(payload, "oid") ?? stringClaim(payload, "sub");
    if (!tenantId || !tenantIdPattern.test(tenantId) || !subject) throw new AuthenticationError("invalid token");
    if (perTenantIssuer && payload.iss !== options.issuer.replace("{tenantid}", tenantId)) {
      throw new AuthenticationError("invalid token");
    }
    const email =
      stringClaim(payload, "upn") ?? stringClaim(payload, "email") ?? stringClaim(payload, "preferred_username");
    return {
      tenantId,
      subject,
      email: email?.toLowerCase() ?? null,
      displayName: stringClaim(payload, "name"),
      expiresAt: new Date((payload.exp ?? 0) * 1000),
      claims: payload,
    };
  };
}
