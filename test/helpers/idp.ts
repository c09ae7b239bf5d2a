import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import * as jose from "jose";
import Provider, { type Configuration, type KoaContextWithOIDC } from "oidc-provider";

// A real OpenID Connect provider (panva's oidc-provider) in the test process, issuing
// access tokens shaped like Microsoft Entra ID's: JWTs for the API's audience with
// `tid`, `oid`, `upn`, `name`, `roles`, `acct` (0 member, 1 guest), `amr`, and
// `idtyp: "app"` for service principals (client credentials). The API is pointed at
// it with JWKS_URL / JWT_ISSUER, exactly as at a real IdP.

export interface IdpAccount {
  /** The immutable object ID: `oid` and `sub` of its tokens. */
  subject: string;
  tenantId: string;
  email: string;
  name?: string;
  /** Entra app roles, e.g. "Elevate.Admin". */
  roles?: string[];
  guest?: boolean;
}

export interface IdpServicePrincipal {
  clientId: string;
  clientSecret: string;
  subject: string;
  tenantId: string;
  roles?: string[];
}

export interface IdpTokens {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  expires_in: number;
}

export interface TestIdp {
  issuer: string;
  jwksUrl: string;
  audience: string;
  /** The public client (console: code + PKCE on any loopback port; CLI: device flow). */
  clientId: string;
  /** Redirect path of the public client, on http://127.0.0.1:<any port> or http://localhost:<any port>. */
  redirectPath: string;
  addAccount(account: IdpAccount): void;
  /** Signs an account in through authorization code + PKCE, as a browser would, and redeems the code. */
  signIn(subject: string, options?: { mfa?: boolean }): Promise<IdpTokens>;
  /** Client credentials for a service principal. */
  serviceToken(clientId: string): Promise<IdpTokens>;
  /** Completes a device authorization (RFC 8628) as the user at the verification page would. */
  approveDevice(userCode: string, subject: string, options?: { mfa?: boolean }): Promise<void>;
  close(): Promise<void>;
}

/** A cookie jar good enough for one provider host: names are unique, paths ignored. */
class Cookies {
  private readonly jar = new Map<string, string>();
  take(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair] = header.split(";");
      const at = pair!.indexOf("=");
      this.jar.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
  }
  header(): string {
    return [...this.jar].map(([name, value]) => `${name}=${value}`).join("; ");
  }
}

/** The hidden and named inputs of the form with `id` in an HTML page. */
function formFields(html: string, id?: string): { action: string; fields: Record<string, string> } {
  const form = id ? html.slice(html.indexOf(`id="${id}"`) - 200) : html;
  const action = /<form[^>]*action="([^"]+)"/.exec(form)?.[1] ?? "";
  const fields: Record<string, string> = {};
  for (const match of form.matchAll(/<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)) fields[match[1]!] = match[2]!;
  return { action: action.replaceAll("&amp;", "&"), fields };
}

function loginPage(uid: string, error = ""): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test IdP sign-in</title></head>
<body><main><h1>Sign in to the test identity provider</h1>${error ? `<p role="alert">${error}</p>` : ""}
<form method="post" action="/interaction/${uid}">
<label for="login">Object ID or user principal name</label> <input id="login" name="login" autofocus>
<label><input type="checkbox" name="mfa" value="yes"> Signed in with multi-factor authentication</label>
<button type="submit">Sign in</button></form></main></body></html>`;
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

export async function startTestIdp(options: {
  /** The API's audience and resource indicator: an absolute URI, as Entra's "api://..." */
  audience: string;
  clientId?: string;
  redirectPath?: string;
  /** Confidential clients for the client credentials grant; their tokens say `idtyp: "app"`. */
  servicePrincipals?: IdpServicePrincipal[];
}): Promise<TestIdp> {
  const accounts = new Map<string, IdpAccount>();
  const principals = options.servicePrincipals ?? [];
  const clientId = options.clientId ?? "elevate-public";
  const redirectPath = options.redirectPath ?? "/callback";
  const { privateKey } = await jose.generateKeyPair("RS256", { extractable: true });
  const signingKey = { ...(await jose.exportJWK(privateKey)), kid: "test-idp", use: "sig", alg: "RS256" };

  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const findAccount = (login: string) =>
    accounts.get(login) ?? [...accounts.values()].find((account) => account.email === login.toLowerCase());

  // Who the token is about, as Entra names it; amr comes from how the session signed in.
  async function extraTokenClaims(ctx: KoaContextWithOIDC, token: { accountId?: string; clientId?: string }) {
    if (token.accountId) {
      const account = accounts.get(token.accountId);
      if (!account) return undefined;
      const { AuthorizationCode, RefreshToken, DeviceCode } = ctx.oidc.entities as Record<string, { amr?: string[] }>;
      return {
        tid: account.tenantId,
        oid: account.subject,
        upn: account.email,
        name: account.name ?? account.email,
        roles: account.roles ?? [],
        acct: account.guest ? 1 : 0,
        amr: (AuthorizationCode ?? RefreshToken ?? DeviceCode)?.amr ?? ["pwd"],
      };
    }
    const principal = principals.find((candidate) => candidate.clientId === token.clientId);
    return principal
      ? { tid: principal.tenantId, oid: principal.subject, roles: principal.roles ?? [], idtyp: "app" }
      : undefined;
  }

  const resourceServer = {
    scope: "access",
    audience: options.audience,
    accessTokenFormat: "jwt" as const,
    accessTokenTTL: 3600,
    jwt: { sign: { alg: "RS256" as const } },
  };

  const configuration: Configuration = {
    jwks: { keys: [signingKey] },
    clients: [
      // Service principals (client credentials), as an enforcement service or a vendor would have.
      ...principals.map((principal) => ({
        client_id: principal.clientId,
        client_secret: principal.clientSecret,
        grant_types: ["client_credentials"],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: "client_secret_post" as const,
      })),
      {
        client_id: clientId,
        client_name: "Elevate",
        application_type: "native",
        token_endpoint_auth_method: "none",
        grant_types: ["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"],
        response_types: ["code"],
        redirect_uris: [`http://127.0.0.1${redirectPath}`, `http://localhost${redirectPath}`],
        post_logout_redirect_uris: ["http://127.0.0.1/", "http://localhost/"],
      },
    ],
    findAccount: (_ctx, id) => {
      const account = accounts.get(id);
      return account
        ? {
            accountId: id,
            claims: () => ({ sub: id, email: account.email, name: account.name ?? account.email }),
          }
        : undefined;
    },
    claims: { openid: ["sub"], email: ["email"], profile: ["name"] },
    features: {
      devInteractions: { enabled: false },
      deviceFlow: { enabled: true },
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => options.audience,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          if (indicator !== options.audience) throw new Error(`unknown resource ${indicator}`);
          return resourceServer;
        },
      },
    },
    extraTokenClaims,
    // A first-party app: grant what it asks for without a consent screen, as an admin-consented Entra app.
    loadExistingGrant: async (ctx) => {
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session!.grantIdFor(ctx.oidc.client!.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client!.clientId,
        accountId: ctx.oidc.session!.accountId,
      });
      grant.addOIDCScope("openid profile email offline_access");
      grant.addResourceScope(options.audience, "access");
      await grant.save();
      return grant;
    },
    issueRefreshToken: async (_ctx, client, code) =>
      client.grantTypeAllowed("refresh_token") && code.scopes.has("offline_access"),
    clientBasedCORS: () => true,
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    pkce: { required: () => true },
    ttl: {
      AccessToken: 3600,
      IdToken: 3600,
      AuthorizationCode: 60,
      DeviceCode: 600,
      Session: 3600,
      Interaction: 600,
      Grant: 3600,
    },
    cookies: { keys: [randomBytes(32).toString("hex")] },
  };
  const provider = new Provider(issuer, configuration);
  const callback = provider.callback();

  async function interaction(req: IncomingMessage, res: ServerResponse, uid: string) {
    res.setHeader("cache-control", "no-store");
    if (req.method === "GET") {
      const details = await provider.interactionDetails(req, res);
      if (details.prompt.name === "consent") {
        // Native clients are asked for consent every time; a first-party app's is given at once.
        const grant = details.grantId
          ? await provider.Grant.find(details.grantId)
          : new provider.Grant({ accountId: details.session!.accountId, clientId: String(details.params.client_id) });
        grant!.addOIDCScope("openid profile email offline_access");
        grant!.addResourceScope(options.audience, "access");
        await provider.interactionFinished(
          req,
          res,
          { consent: { grantId: await grant!.save() } },
          {
            mergeWithLastSubmission: true,
          },
        );
        return;
      }
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(loginPage(uid));
      return;
    }
    const form = await readForm(req);
    const account = findAccount(form.get("login") ?? "");
    if (!account) {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(loginPage(uid, "Unknown account"));
      return;
    }
    const amr = form.get("mfa") === "yes" ? ["pwd", "mfa"] : ["pwd"];
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: account.subject, amr } },
      {
        mergeWithLastSubmission: false,
      },
    );
  }

  server.on("request", (req, res) => {
    const uid = /^\/interaction\/([^/?]+)/.exec(req.url ?? "")?.[1];
    if (uid) {
      interaction(req, res, uid).catch((error: unknown) => {
        res.writeHead(400, { "content-type": "text/plain" });
        res.end(String(error));
      });
      return;
    }
    callback(req, res);
  });

  /** Follows redirects by hand, keeping cookies, until a redirect leaves the provider. */
  async function follow(cookies: Cookies, url: string, init: RequestInit = {}): Promise<Response> {
    let response = await fetch(url, {
      ...init,
      redirect: "manual",
      headers: { ...init.headers, cookie: cookies.header() },
    });
    cookies.take(response);
    for (;;) {
      const location = response.headers.get("location");
      if (!location || response.status < 300 || response.status >= 400) return response;
      const next = new URL(location, url);
      if (next.origin !== issuer) return response;
      response = await fetch(next, { redirect: "manual", headers: { cookie: cookies.header() } });
      cookies.take(response);
      url = next.href;
    }
  }

  async function login(cookies: Cookies, page: Response, subject: string, mfa: boolean): Promise<Response> {
    const text = await page.text();
    const uid =
      /\/interaction\/([^/?]+)/.exec(page.url || "")?.[1] ?? /action="\/interaction\/([^"]+)"/.exec(text)?.[1];
    if (!uid) throw new Error(`the provider did not ask for a sign-in: ${page.status} ${page.url} ${text}`);
    return follow(cookies, `${issuer}/interaction/${uid}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ login: subject, ...(mfa ? { mfa: "yes" } : {}) }).toString(),
    });
  }

  const idp: TestIdp = {
    issuer,
    jwksUrl: `${issuer}/jwks`,
    audience: options.audience,
    clientId,
    redirectPath,
    addAccount: (account) => accounts.set(account.subject, { ...account, email: account.email.toLowerCase() }),

    async signIn(subject, { mfa = false } = {}) {
      const cookies = new Cookies();
      const verifier = randomBytes(32).toString("base64url");
      const redirectUri = `http://127.0.0.1:1${redirectPath}`;
      const authorize = new URL(`${issuer}/auth`);
      authorize.search = new URLSearchParams({
        client_id: clientId,
        response_type: "code",
        redirect_uri: redirectUri,
        scope: "openid profile email offline_access",
        code_challenge: createHash("sha256").update(verifier).digest("base64url"),
        code_challenge_method: "S256",
        state: randomBytes(8).toString("hex"),
      }).toString();
      const started = await follow(cookies, authorize.href);
      const uid = /\/interaction\/([^/?]+)/.exec(started.headers.get("location") ?? started.url)?.[1];
      const loginResponse = uid
        ? await follow(cookies, `${issuer}/interaction/${uid}`, {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body: new URLSearchParams({ login: subject, ...(mfa ? { mfa: "yes" } : {}) }).toString(),
          })
        : started;
      const code = new URL(loginResponse.headers.get("location") ?? "", issuer).searchParams.get("code");
      if (!code) {
        throw new Error(
          `sign-in of ${subject} did not return a code: ${loginResponse.status} ${loginResponse.headers.get("location")} ${await loginResponse.text()}`,
        );
      }
      const token = await fetch(`${issuer}/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: "authorization_code",
          code,
          redirect_uri: redirectUri,
          client_id: clientId,
          code_verifier: verifier,
        }).toString(),
      });
      if (!token.ok) throw new Error(`token endpoint answered ${token.status}: ${await token.text()}`);
      return (await token.json()) as IdpTokens;
    },

    async serviceToken(principalId) {
      const principal = principals.find((candidate) => candidate.clientId === principalId);
      if (!principal) throw new Error(`no service principal ${principalId}`);
      const token = await fetch(`${issuer}/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: "client_credentials",
          client_id: principal.clientId,
          client_secret: principal.clientSecret,
          resource: options.audience,
          scope: "access",
        }).toString(),
      });
      if (!token.ok) throw new Error(`token endpoint answered ${token.status}: ${await token.text()}`);
      return (await token.json()) as IdpTokens;
    },

    async approveDevice(userCode, subject, { mfa = false } = {}) {
      const cookies = new Cookies();
      const input = await follow(cookies, `${issuer}/device`);
      const form = formFields(await input.text(), "op.deviceInputForm");
      const submitted = await follow(cookies, `${issuer}/device`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ ...form.fields, user_code: userCode }).toString(),
      });
      // The provider shows the code to confirm first, then asks who is signing in.
      const confirm = formFields(await submitted.text(), "op.deviceConfirmForm");
      const loginPage = await follow(cookies, new URL(confirm.action || "/device", issuer).href, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(confirm.fields).toString(),
      });
      const done = await login(cookies, loginPage, subject, mfa);
      if (!/Sign-in Success/.test(await done.text())) throw new Error("the device sign-in did not succeed");
    },

    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return idp;
}
