import { UserManager, WebStorageStateStore } from "oidc-client-ts";

/** What GET /auth/config answers. */
export interface SignInConfig {
  issuer: string | null;
  clientId: string | null;
  scopes: string;
  prompt: string | null;
  devSignIn: boolean;
}

/** A seeded user the dev issuer signs in as (GET /dev/users). */
export interface DevUser {
  email: string;
  displayName: string;
  kind: string;
  roles: string[];
  organization: string;
}

/**
 * A signed-in browser tab. Only the access token leaves it, as `Authorization: Bearer`
 * to /graphql and in the WebSocket's connection_init; ID and refresh tokens stay with
 * the OIDC client. Tokens live in sessionStorage: one tab, gone when it closes.
 */
export interface Session {
  accessToken(): string;
  /** When the access token runs out (ms since the epoch). */
  expiresAt(): number;
  /** Gets a new access token (dev: the dev issuer again; OIDC: the refresh token). */
  renew(): Promise<void>;
  /** Tells the listener each time the token changed, so open sockets can reconnect with it. */
  onRenew(listener: () => void): () => void;
  signOut(): Promise<void>;
  /** Stops renewing, for a session another one replaces (a step-up sign-in). */
  close(): void;
}

/** Renew this long before expiry, so no operation or socket ever carries an expired token. */
const renewAheadMs = 5 * 60_000;
const devSessionKey = "elevate.dev-session";
export const callbackPath = "/signin-callback";

export async function loadSignInConfig(): Promise<SignInConfig> {
  const response = await fetch("/auth/config");
  if (!response.ok) throw new Error(`GET /auth/config answered ${response.status}`);
  return (await response.json()) as SignInConfig;
}

export async function loadDevUsers(): Promise<DevUser[]> {
  const response = await fetch("/dev/users");
  if (!response.ok) throw new Error(`GET /dev/users answered ${response.status}`);
  return (await response.json()) as DevUser[];
}

function listeners() {
  const set = new Set<() => void>();
  return {
    add(listener: () => void) {
      set.add(listener);
      return () => void set.delete(listener);
    },
    notify: () => {
      for (const listener of set) listener();
    },
  };
}

/** Renews a little before expiry for as long as the session lives. */
function renewOnSchedule(session: Pick<Session, "expiresAt" | "renew">): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const schedule = () => {
    timer = setTimeout(
      () => {
        session.renew().then(schedule, (error: unknown) => {
          console.warn("Renewing the access token failed; trying again", error);
          schedule();
        });
      },
      Math.max(session.expiresAt() - Date.now() - renewAheadMs, 10_000),
    );
  };
  schedule();
  return () => clearTimeout(timer);
}

interface DevToken {
  as: string;
  /** Minted as a sign-in with multi-factor authentication (step-up at decision). */
  mfa?: boolean;
  accessToken: string;
  expiresAt: number;
}

async function mintDevToken(email: string, mfa = false): Promise<DevToken> {
  const response = await fetch("/dev/token", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ as: email, mfa }),
  });
  const body = (await response.json()) as { access_token?: string; expires_in?: number; error?: string };
  if (!response.ok || !body.access_token) throw new Error(body.error ?? `POST /dev/token answered ${response.status}`);
  return { as: email, mfa, accessToken: body.access_token, expiresAt: Date.now() + (body.expires_in ?? 3600) * 1000 };
}

function devSession(initial: DevToken, onSignedOut: () => void): Session {
  let token = initial;
  const renewed = listeners();
  const session: Session = {
    accessToken: () => token.accessToken,
    expiresAt: () => token.expiresAt,
    async renew() {
      token = await mintDevToken(token.as, token.mfa);
      sessionStorage.setItem(devSessionKey, JSON.stringify(token));
      renewed.notify();
    },
    onRenew: renewed.add,
    close: () => stop(),
    async signOut() {
      stop();
      sessionStorage.removeItem(devSessionKey);
      onSignedOut();
    },
  };
  const stop = renewOnSchedule(session);
  return session;
}

/** Development only: sign in as a seeded user through the API's dev issuer. */
export async function devSignIn(email: string, onSignedOut: () => void, mfa = false): Promise<Session> {
  const token = await mintDevToken(email, mfa);
  sessionStorage.setItem(devSessionKey, JSON.stringify(token));
  return devSession(token, onSignedOut);
}

function userManager(config: SignInConfig): UserManager | null {
  if (!config.issuer || !config.clientId) return null;
  return new UserManager({
    authority: config.issuer,
    client_id: config.clientId,
    scope: config.scopes,
    prompt: config.prompt ?? undefined,
    // Authorization code with PKCE (oidc-client-ts always sends a code challenge). The code
    // comes back in the fragment, so not even the single-use code reaches the API's server.
    response_type: "code",
    response_mode: "fragment",
    redirect_uri: `${location.origin}${callbackPath}`,
    post_logout_redirect_uri: `${location.origin}/`,
    userStore: new WebStorageStateStore({ store: sessionStorage }),
    // Renewal is ours (renewOnSchedule) so open sockets hear about every new token.
    automaticSilentRenew: false,
  });
}

interface OidcTokens {
  access_token: string;
  expires_at?: number;
}

function oidcSession(manager: UserManager, initial: OidcTokens, onSignedOut: () => void): Session {
  const renewed = listeners();
  const tokens = (user: OidcTokens) => ({ accessToken: user.access_token, expiresAt: (user.expires_at ?? 0) * 1000 });
  let current = tokens(initial);
  const session: Session = {
    accessToken: () => current.accessToken,
    expiresAt: () => current.expiresAt,
    async renew() {
      // A refresh token request (scope offline_access). Without a refresh token this fails
      // and the person signs in again when the token runs out: no hidden frames on the
      // provider's session, which third-party cookie blocking breaks anyway.
      const user = await manager.signinSilent();
      if (!user) throw new Error("the identity provider gave no new token");
      current = tokens(user);
      renewed.notify();
    },
    onRenew: renewed.add,
    close: () => stop(),
    async signOut() {
      stop();
      const user = await manager.getUser();
      await manager.removeUser();
      const metadata = await manager.metadataService.getMetadata().catch(() => null);
      if (metadata?.end_session_endpoint && user?.id_token) {
        await manager.signoutRedirect({ id_token_hint: user.id_token });
        return;
      }
      onSignedOut();
    },
  };
  const stop = renewOnSchedule(session);
  return session;
}

export interface Auth {
  config: SignInConfig;
  /** Starts authorization code + PKCE at the identity provider; returns to `returnTo` after. */
  signInWithProvider(returnTo: string): Promise<void>;
  /** Completes the redirect back from the identity provider; answers where to go next. */
  completeSignIn(): Promise<{ session: Session; returnTo: string }>;
  /** The session this tab already has, if any. */
  restore(): Promise<Session | null>;
  devSignIn(email: string): Promise<Session>;
  /**
   * Signs the same person in again with multi-factor authentication, for a decision the
   * API refused with STEP_UP_REQUIRED: at the identity provider a fresh sign-in
   * (prompt=login, max_age=0, which the provider's MFA policy then applies to; this
   * navigates away and answers null), in development a dev token that says MFA.
   */
  stepUp(returnTo: string): Promise<Session | null>;
}

export function createAuth(config: SignInConfig, onSignedOut: () => void): Auth {
  const manager = userManager(config);
  return {
    config,
    async signInWithProvider(returnTo) {
      if (!manager) throw new Error("no identity provider is configured");
      await manager.signinRedirect({ state: { returnTo } });
    },
    async completeSignIn() {
      if (!manager) throw new Error("no identity provider is configured");
      const user = await manager.signinRedirectCallback();
      const returnTo = (user.state as { returnTo?: string } | undefined)?.returnTo ?? "/";
      return { session: oidcSession(manager, user, onSignedOut), returnTo: returnTo.startsWith("/") ? returnTo : "/" };
    },
    async restore() {
      if (manager) {
        const user = await manager.getUser();
        if (user && !user.expired) return oidcSession(manager, user, onSignedOut);
      }
      const stored = config.devSignIn ? sessionStorage.getItem(devSessionKey) : null;
      if (!stored) return null;
      const token = JSON.parse(stored) as DevToken;
      if (token.expiresAt - Date.now() > renewAheadMs) return devSession(token, onSignedOut);
      return devSignIn(token.as, onSignedOut).catch(() => null);
    },
    devSignIn: (email) => devSignIn(email, onSignedOut),
    async stepUp(returnTo) {
      if (manager && (await manager.getUser())) {
        await manager.signinRedirect({ state: { returnTo }, prompt: "login", max_age: 0 });
        return null;
      }
      const stored = config.devSignIn ? sessionStorage.getItem(devSessionKey) : null;
      if (!stored) throw new Error("not signed in");
      return devSignIn((JSON.parse(stored) as DevToken).as, onSignedOut, true);
    },
  };
}
