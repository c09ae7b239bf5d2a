import type { IncomingMessage, ServerResponse } from "node:http";
import { type DevIssuerKey, mintDevToken } from "../auth/dev-issuer.ts";
import type { Db } from "../db/client.ts";
import type { Route } from "./app.ts";
import { sendJson } from "./health.ts";

/** How the console and the command line sign in: what GET /auth/config answers. */
export interface SignInConfig {
  /** The OpenID Connect issuer to sign in at (discovery at <issuer>/.well-known/openid-configuration). */
  issuer: string | null;
  /** The public client the console (authorization code + PKCE) and CLI (device flow) use. */
  clientId: string | null;
  scopes: string;
  /** The `prompt` the console's sign-in sends, e.g. consent where offline_access needs it. */
  prompt: string | null;
  /** The dev issuer is on: /dev/users and /dev/token sign in as any seeded user. */
  devSignIn: boolean;
}

export interface DevSignInDeps {
  db: Db;
  key: DevIssuerKey;
  issuer: string;
  audience: string;
}

/** Dev tokens live an hour; the console and the CLI ask for a new one when it runs out. */
const devTokenSeconds = 3600;
const maxBodyBytes = 4096;

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) return null;
    chunks.push(chunk as Buffer);
  }
  try {
    const value: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export type MintedDevToken = { token: string; expiresIn: number } | { status: 404 | 409; error: string };

/** A dev-issuer token for a seeded user, found by email (and organization, where the address is in several). */
export async function mintDevTokenFor(
  dev: DevSignInDeps,
  email: string,
  {
    organization,
    expiresIn = devTokenSeconds,
    mfa = false,
  }: { organization?: string | undefined; expiresIn?: number; mfa?: boolean } = {},
): Promise<MintedDevToken> {
  const address = email.trim().toLowerCase();
  const users = await dev.db.user.findMany({
    where: {
      email: address,
      subject: { not: null },
      ...(organization ? { organization: { name: organization } } : {}),
    },
    include: { organization: { select: { tenantId: true } } },
    take: 2,
  });
  const user = users[0];
  if (!user) return { status: 404, error: `as: no user ${address}` };
  if (users.length > 1) return { status: 409, error: `as: ${address} exists in several organizations; name one` };
  const token = await mintDevToken(dev.key, {
    issuer: dev.issuer,
    audience: dev.audience,
    tenantId: user.organization.tenantId,
    subject: user.subject!,
    email: user.email,
    displayName: user.displayName,
    kind: user.kind,
    expiresIn,
    // As an identity provider says a sign-in used multi-factor authentication (step-up at decision).
    ...(mfa ? { amr: ["pwd", "mfa"] } : {}),
  });
  return { token, expiresIn };
}

/**
 * GET /auth/config for every client, and, while the built-in dev issuer is on (never
 * in production), GET /dev/users and POST /dev/token {"as": email, "organization"?, "mfa"?: true}
 * so the console's "sign in as" and `elevate login --as` need no identity provider.
 */
export function signInRoutes(config: SignInConfig, dev: DevSignInDeps | null): Record<string, Route> {
  const routes: Record<string, Route> = {
    "/auth/config": (_req, res) => sendJson(res, 200, config),
  };
  if (!dev) return routes;
  routes["/dev/users"] = async (_req: IncomingMessage, res: ServerResponse) => {
    const users = await dev.db.user.findMany({
      where: { subject: { not: null } },
      select: { email: true, displayName: true, kind: true, roles: true, organization: { select: { name: true } } },
      orderBy: [{ organization: { name: "asc" } }, { email: "asc" }],
    });
    sendJson(
      res,
      200,
      users.map(({ organization, ...user }) => ({ ...user, organization: organization.name })),
    );
  };
  routes["/dev/token"] = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== "POST") return sendJson(res, 405, { error: 'POST a JSON body {"as": "<email>"}' });
    const body = await readJson(req);
    const email = typeof body?.as === "string" && body.as.trim() ? body.as : null;
    const organization = typeof body?.organization === "string" ? body.organization : undefined;
    if (!email) return sendJson(res, 400, { error: "as: must be the email of a seeded user" });
    const minted = await mintDevTokenFor(dev, email, { organization, mfa: body?.mfa === true });
    if ("error" in minted) return sendJson(res, minted.status, { error: minted.error });
    sendJson(res, 200, { access_token: minted.token, token_type: "Bearer", expires_in: minted.expiresIn });
  };
  return routes;
}
