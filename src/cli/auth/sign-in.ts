import type { TokenSource } from "../client.ts";
import { describeFetchFailure } from "../client.ts";
import { AuthenticationError, UnavailableError, UsageError } from "../errors.ts";
import type { CredentialStore, StoredSession } from "./credentials.ts";

// How `elevate login` gets a token: the server's GET /auth/config names its identity
// provider (the device authorization grant, RFC 8628, for a terminal without a
// browser) and whether its development sign-in is on.

export interface SignInConfig {
  issuer: string | null;
  clientId: string | null;
  scopes: string;
  devSignIn: boolean;
}

/** Renew a little early, so a token never expires between the check and the request. */
const renewMarginSeconds = 60;

const now = () => Math.floor(Date.now() / 1000);

async function getJson(url: URL, init?: RequestInit): Promise<{ status: number; body: unknown }> {
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    throw new UnavailableError(describeFetchFailure(url.origin, error));
  }
  if (response.status >= 500) throw new UnavailableError(`${url} answered HTTP ${response.status}`);
  return { status: response.status, body: await response.json().catch(() => null) };
}

export async function signInConfig(server: string): Promise<SignInConfig> {
  const { status, body } = await getJson(new URL("/auth/config", server));
  if (status !== 200 || !body || typeof body !== "object") {
    throw new UnavailableError(`${server} is not an Elevate server (GET /auth/config answered HTTP ${status})`);
  }
  return body as SignInConfig;
}

/** The development issuer's token for a seeded user (POST /dev/token). */
export async function devSignIn(server: string, as: string, organization?: string): Promise<StoredSession> {
  const { status, body } = await getJson(new URL("/dev/token", server), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ as, ...(organization ? { organization } : {}) }),
  });
  const answer = body as { access_token?: string; expires_in?: number; error?: string } | null;
  if (status === 404 && !answer?.error) {
    throw new UsageError(`${server} has no development sign-in (it is off in production): use elevate login`);
  }
  if (status !== 200 || !answer?.access_token) {
    throw new AuthenticationError(`development sign-in refused: ${answer?.error ?? `HTTP ${status}`}`);
  }
  return {
    kind: "dev",
    as,
    ...(organization ? { organization } : {}),
    accessToken: answer.access_token,
    expiresAt: now() + (answer.expires_in ?? 3600),
  };
}

async function oidcConfiguration(issuer: string, clientId: string) {
  // Loaded on demand: most runs reuse a stored token and need none of it.
  const oidc = await import("openid-client");
  const execute = new URL(issuer).protocol === "http:" ? [oidc.allowInsecureRequests] : [];
  try {
    return {
      oidc,
      configuration: await oidc.discovery(new URL(issuer), clientId, undefined, oidc.None(), { execute }),
    };
  } catch (error) {
    throw new UnavailableError(`cannot use the identity provider ${issuer}: ${(error as Error).message}`);
  }
}

interface Tokens {
  access_token: string;
  refresh_token?: string;
  expiresIn(): number | undefined;
}

function oidcSession(
  issuer: string,
  clientId: string,
  scopes: string,
  tokens: Tokens,
  previous?: string,
): StoredSession {
  const refreshToken = tokens.refresh_token ?? previous;
  return {
    kind: "oidc",
    issuer,
    clientId,
    scopes,
    accessToken: tokens.access_token,
    ...(refreshToken ? { refreshToken } : {}),
    expiresAt: now() + (tokens.expiresIn() ?? 3600),
  };
}

/**
 * RFC 8628: show the user a code to enter at the provider, in any browser on any
 * device, and poll (at the interval the provider asks for) until they did.
 */
export async function deviceSignIn(config: SignInConfig, inform: (message: string) => void): Promise<StoredSession> {
  if (!config.issuer || !config.clientId) {
    throw new UsageError(
      config.devSignIn
        ? "this server names no identity provider; in development sign in with: elevate login -As <email>"
        : "this server names no identity provider (OIDC_ISSUER and OIDC_CLIENT_ID)",
    );
  }
  const { oidc, configuration } = await oidcConfiguration(config.issuer, config.clientId);
  try {
    const grant = await oidc.initiateDeviceAuthorization(configuration, { scope: config.scopes });
    inform(`To sign in, open ${grant.verification_uri} and enter the code ${grant.user_code}`);
    if (grant.verification_uri_complete) inform(`(or open ${grant.verification_uri_complete})`);
    const tokens = await oidc.pollDeviceAuthorizationGrant(configuration, grant);
    return oidcSession(config.issuer, config.clientId, config.scopes, tokens);
  } catch (error) {
    if (error instanceof UnavailableError) throw error;
    throw new AuthenticationError(`sign-in failed: ${(error as Error).message}`);
  }
}

/** A fresh token for a stored sign-in: a new dev token, or the refresh token grant. */
async function renewSession(server: string, session: StoredSession): Promise<StoredSession> {
  if (session.kind === "dev") return devSignIn(server, session.as, session.organization);
  if (!session.refreshToken) throw new AuthenticationError(`your sign-in to ${server} expired: run elevate login`);
  const { oidc, configuration } = await oidcConfiguration(session.issuer, session.clientId);
  try {
    const tokens = await oidc.refreshTokenGrant(configuration, session.refreshToken);
    return oidcSession(session.issuer, session.clientId, session.scopes, tokens, session.refreshToken);
  } catch (error) {
    throw new AuthenticationError(`your sign-in to ${server} expired (${(error as Error).message}): run elevate login`);
  }
}

/** ELEVATE_TOKEN as given (automation), else the stored sign-in, renewed when due. */
export function tokenSource(server: string, env: NodeJS.ProcessEnv, store: CredentialStore): TokenSource {
  const fixed = env.ELEVATE_TOKEN;
  if (fixed) return { token: async () => fixed };
  async function stored(): Promise<StoredSession> {
    const session = await store.session(server);
    if (!session) throw new AuthenticationError(`not signed in to ${server}: run elevate login`);
    return session;
  }
  async function renew(): Promise<string> {
    const session = await renewSession(server, await stored());
    await store.save(server, session);
    return session.accessToken;
  }
  return {
    async token() {
      const session = await stored();
      return session.expiresAt - renewMarginSeconds > now() ? session.accessToken : renew();
    },
    renew,
  };
}
