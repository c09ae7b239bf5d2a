import * as jose from "jose";
import type { PrincipalKind, UserRole } from "../db/client.ts";
import { AuthenticationError, type VerifiedIdentity } from "../domain/identity.ts";

/** How an identity provider's claims map to Elevate's principal kinds and roles. */
export interface ClaimMapping {
  /** App role values to Elevate roles, e.g. { "Elevate.Admin": "ADMIN" }. */
  roles: Readonly<Record<string, UserRole>>;
  /** A claim and value that mark a guest: Entra's `acct` is 1 for guests. */
  guest: { claim: string; value: string };
}

export const defaultClaimMapping: ClaimMapping = {
  roles: { "Elevate.Admin": "ADMIN", "Elevate.Auditor": "AUDITOR", "Elevate.Enforcer": "ENFORCER" },
  guest: { claim: "acct", value: "1" },
};

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
  claims?: ClaimMapping;
  /** Default: the system clock (tests set it to show that a cached token still expires). */
  clock?: () => Date;
  /** Verified tokens kept, by their exact string, until they expire. Default: 10,000. */
  cacheSize?: number;
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
 * The principal kind a token shows: an app's own token (Entra's `idtyp: app`), a guest
 * or a member by the guest claim; null when it says neither (the kind is then kept:
 * a token that merely lacks the claim must not turn a guest into a member).
 */
function principalKind(payload: jose.JWTPayload, mapping: ClaimMapping): PrincipalKind | null {
  if (payload.idtyp === "app") return "SERVICE";
  const guest = payload[mapping.guest.claim];
  if (guest === undefined || guest === null) return null;
  return String(guest) === mapping.guest.value ? "GUEST" : "MEMBER";
}

/** Elevate roles named by the token's `roles` claim; null when it has none (roles are then kept as they are). */
function mappedRoles(payload: jose.JWTPayload, mapping: ClaimMapping): UserRole[] | null {
  if (!Array.isArray(payload.roles)) return null;
  const roles = payload.roles.flatMap((role) =>
    typeof role === "string" && mapping.roles[role] ? [mapping.roles[role]] : [],
  );
  return [...new Set(roles)].sort();
}

/**
 * Verifies bearer tokens with jose and reads who they name. Every refusal is an
 * AuthenticationError with a generic message: library error codes would tell a
 * prober which check failed.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const mapping = options.claims ?? defaultClaimMapping;
  const keys = options.jwksUrl
    ? jose.createRemoteJWKSet(new URL(options.jwksUrl))
    : (() => {
        if (!options.devPublicKey) throw new Error("either jwksUrl or devPublicKey is required");
        return jose.createLocalJWKSet({ keys: [{ ...options.devPublicKey, alg: devAlgorithm }] });
      })();
  const perTenantIssuer = options.issuer.includes("{tenantid}");
  const clock = options.clock ?? (() => new Date());
  const verify: TokenVerifier = async (token) => {
    let payload: jose.JWTPayload;
    try {
      ({ payload } = await jose.jwtVerify(token, keys, {
        currentDate: clock(),
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
      kind: principalKind(payload, mapping),
      roles: mappedRoles(payload, mapping),
      authentication: {
        methods: Array.isArray(payload.amr)
          ? payload.amr.filter((method): method is string => typeof method === "string" && method.length <= 64)
          : [],
        context: stringClaim(payload, "acr"),
      },
      expiresAt: new Date((payload.exp ?? 0) * 1000),
    };
  };
  return cachedVerifier(verify, clock, options.cacheSize ?? 10_000);
}

/**
 * Signature checks (ES256, RS256) are the costliest step of a request, and clients send
 * the same token many times: a token verified once is answered from memory until its
 * `exp`, then refused as expired like any other. Only what verified is kept, keyed by the
 * exact token string, so a forged or altered token never matches. What the token names
 * (the user, their roles, whether they are active) is not cached here.
 */
function cachedVerifier(verify: TokenVerifier, clock: () => Date, size: number): TokenVerifier {
  const verified = new Map<string, VerifiedIdentity>();
  return async (token) => {
    const known = verified.get(token);
    if (known) {
      if (known.expiresAt.getTime() > clock().getTime()) return known;
      verified.delete(token);
      throw new AuthenticationError("token expired");
    }
    const identity = await verify(token);
    // The oldest entry makes room: a bounded memo, not an LRU (a re-verification is cheap enough).
    if (verified.size >= size) verified.delete(verified.keys().next().value!);
    verified.set(token, identity);
    return identity;
  };
}
