import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import type {
  AppControllerRoute,
  AppViewRoute,
  BullBoardQueues,
  ControllerHandlerReturnType,
  IServerAdapter,
  UIConfig,
} from "@bull-board/api/typings/app";
import type { Queue } from "bullmq";
import type { TokenVerifier } from "../auth/token-verifier.ts";
import type { Actor, ServiceDeps } from "../domain/context.ts";
import { actorById, resolveActor } from "../domain/identity.ts";
import { escapeHtml } from "../email/format.ts";
import { sendJson } from "./health.ts";

export const queueDashboardPath = "/admin/queues";

type Handler = (req: IncomingMessage, res: ServerResponse, params: Record<string, string>, url: URL) => Promise<void>;

interface Route {
  method: string;
  pattern: RegExp;
  keys: string[];
  handler: Handler;
}

/** `/queue/:queueName/:jobId` as a regular expression and its parameter names. */
function compileRoute(route: string): { pattern: RegExp; keys: string[] } {
  const keys: string[] = [];
  const source = route
    .split("/")
    .map((part) => {
      if (!part.startsWith(":")) return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      keys.push(part.slice(1));
      return "([^/]+)";
    })
    .join("/");
  return { pattern: new RegExp(`^${source}/?$`), keys };
}

const contentTypes: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".json": "application/json",
  ".woff2": "font/woff2",
  ".map": "application/json",
};

/**
 * Fills Bull Board's entry page. It uses only `<%= name %>` (escaped) and `<%- name %>`
 * (raw, the JSON Bull Board already made safe): a template with anything more fails
 * loudly here instead of pulling in a template engine for one page.
 */
function renderEntryPage(template: string, params: Record<string, unknown>): string {
  return template.replace(/<%([=-])\s*([A-Za-z]+)\s*%>|<%/g, (whole, kind?: string, name?: string) => {
    if (!kind || !name) throw new Error(`unsupported template tag in Bull Board's page: ${whole}`);
    const value = String(params[name] ?? "");
    return kind === "=" ? escapeHtml(value) : value;
  });
}

async function readBody(req: IncomingMessage, limit = 1_000_000): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error("request body too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Bull Board's server adapter for a plain node:http server: its routes, its static files, its page. */
class NodeHttpAdapter implements IServerAdapter {
  private queues: BullBoardQueues | undefined;
  private uiConfig: UIConfig = {};
  private viewsPath = "";
  private errorHandler: (error: Error) => ControllerHandlerReturnType = () => ({ status: 500, body: "error" });
  readonly routes: Route[] = [];

  setQueues(queues: BullBoardQueues) {
    this.queues = queues;
    return this;
  }

  setViewsPath(viewsPath: string) {
    this.viewsPath = viewsPath;
    return this;
  }

  setUIConfig(config: UIConfig = {}) {
    this.uiConfig = config;
    return this;
  }

  setErrorHandler(handler: (error: Error) => ControllerHandlerReturnType) {
    this.errorHandler = handler;
    return this;
  }

  setStaticPath(staticsRoute: string, staticsPath: string) {
    const root = path.resolve(staticsPath);
    this.routes.push({
      method: "GET",
      pattern: new RegExp(`^${staticsRoute}/(.+)$`),
      keys: ["file"],
      handler: async (_req, res, { file }) => {
        const resolved = path.resolve(root, decodeURIComponent(file ?? ""));
        if (!resolved.startsWith(`${root}${path.sep}`)) return sendJson(res, 404, { error: "not found" });
        const content = await readFile(resolved).catch(() => null);
        if (!content) return sendJson(res, 404, { error: "not found" });
        res.writeHead(200, {
          "content-type": contentTypes[path.extname(resolved)] ?? "application/octet-stream",
          "cache-control": "private, max-age=3600",
        });
        res.end(content);
      },
    });
    return this;
  }

  setEntryRoute(route: AppViewRoute) {
    for (const pathPattern of [route.route].flat()) {
      this.routes.push({
        method: route.method.toUpperCase(),
        ...compileRoute(pathPattern),
        handler: async (_req, res) => {
          const { name, params } = route.handler({ basePath: queueDashboardPath, uiConfig: this.uiConfig });
          const template = await readFile(path.join(this.viewsPath, name), "utf8");
          res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
          res.end(renderEntryPage(template, params));
        },
      });
    }
    return this;
  }

  setApiRoutes(routes: AppControllerRoute[]) {
    for (const route of routes) {
      for (const method of [route.method].flat()) {
        for (const pathPattern of [route.route].flat()) {
          this.routes.push({
            method: method.toUpperCase(),
            ...compileRoute(pathPattern),
            handler: async (req, res, params, url) => {
              let answer: ControllerHandlerReturnType;
              try {
                const raw = method === "get" ? "" : await readBody(req);
                answer = await route.handler({
                  queues: this.queues!,
                  uiConfig: this.uiConfig,
                  query: Object.fromEntries(url.searchParams),
                  params,
                  body: raw ? JSON.parse(raw) : {},
                  headers: req.headers as Record<string, string | undefined>,
                });
              } catch (error) {
                answer = this.errorHandler(error as Error);
              }
              sendJson(res, answer.status ?? 200, answer.body);
            },
          });
        }
      }
    }
    return this;
  }
}

export interface QueueDashboardDeps extends ServiceDeps {
  verifyToken: TokenVerifier;
  queues: Queue[];
  publicUrl: string;
  /** Only administrators of this organization (by name) may open it; unset: administrators of any. */
  organization?: string;
}

const sessionCookie = "elevate_queues";
const sessionSeconds = 15 * 60;

/**
 * Bull Board at /admin/queues, for administrators only. A browser cannot send a bearer
 * token when it navigates, so /admin/queues/session takes one (a form to paste it in, or
 * the Authorization header) and answers a signed session cookie: HttpOnly, SameSite=Strict,
 * scoped to /admin/queues, valid 15 minutes, and checked against the user's roles on every
 * request. Scripts may send the bearer token on every request instead.
 */
export function queueDashboard(deps: QueueDashboardDeps) {
  const adapter = new NodeHttpAdapter();
  createBullBoard({
    queues: deps.queues.map((queue) => new BullMQAdapter(queue)),
    serverAdapter: adapter,
    options: { uiConfig: { boardTitle: "Elevate queues" } },
  });
  const sessionKey = Buffer.from(
    hkdfSync("sha256", deps.auditKeys.macKey, Buffer.alloc(0), "elevate queue dashboard v1", 32),
  );
  const secure = deps.publicUrl.startsWith("https://");
  const publicOrigin = new URL(deps.publicUrl).origin;

  const sign = (value: string) => createHmac("sha256", sessionKey).update(value).digest("base64url");
  const mint = (actor: Actor) => {
    const value = Buffer.from(
      JSON.stringify({ u: actor.id, o: actor.organizationId, exp: Date.now() + sessionSeconds * 1000 }),
    ).toString("base64url");
    return `${value}.${sign(value)}`;
  };

  const allowed = (actor: Actor | null): actor is Actor =>
    (actor?.roles.includes("ADMIN") ?? false) &&
    (deps.organization === undefined || actor?.organizationName === deps.organization);

  async function fromToken(header: string | undefined): Promise<Actor | null> {
    const token = header?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (!token) return null;
    try {
      return await resolveActor(deps, await deps.verifyToken(token));
    } catch {
      return null;
    }
  }

  async function fromCookie(header: string | undefined): Promise<Actor | null> {
    const cookie = header
      ?.split(";")
      .map((part) => part.trim())
      .find((part) => part.startsWith(`${sessionCookie}=`))
      ?.slice(sessionCookie.length + 1);
    const [value, mac] = cookie?.split(".") ?? [];
    if (!value || !mac) return null;
    const expected = Buffer.from(sign(value));
    if (expected.length !== mac.length || !timingSafeEqual(expected, Buffer.from(mac))) return null;
    const session = JSON.parse(Buffer.from(value, "base64url").toString("utf8")) as {
      u: string;
      o: string;
      exp: number;
    };
    if (session.exp < Date.now()) return null;
    return actorById(deps.db, session.o, session.u);
  }

  const sameOrigin = (req: IncomingMessage) => !req.headers.origin || req.headers.origin === publicOrigin;

  const sessionPage = (message = "") => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Elevate queues: sign in</title>
<meta name="robots" content="noindex"></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto">
<h1>Elevate queues</h1>
<p>For administrators. Paste an access token (as the API takes it, without <code>Bearer</code>):</p>
${message ? `<p role="alert"><strong>${escapeHtml(message)}</strong></p>` : ""}
<form method="post" action="${queueDashboardPath}/session">
<textarea name="token" rows="6" cols="60" required autocomplete="off"></textarea>
<p><button type="submit">Open the dashboard</button></p>
</form></body></html>`;

  async function session(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const html = (status: number, body: string) => {
      res.writeHead(status, {
        "content-type": "text/html; charset=utf-8",
        "cache-control": "no-store",
        "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
      });
      res.end(body);
    };
    if (req.method === "GET") return html(200, sessionPage());
    if (req.method !== "POST") return sendJson(res, 405, { error: "method not allowed" });
    if (!sameOrigin(req)) return sendJson(res, 403, { error: "cross-origin request refused" });
    const form = new URLSearchParams(await readBody(req, 64_000));
    const token = form.get("token")?.trim();
    const actor = await fromToken(token ? `Bearer ${token}` : req.headers.authorization);
    if (!allowed(actor))
      return html(403, sessionPage("That token does not belong to an administrator who may open the dashboard."));
    res.writeHead(303, {
      location: `${queueDashboardPath}/`,
      "set-cookie": `${sessionCookie}=${mint(actor)}; Path=${queueDashboardPath}; Max-Age=${sessionSeconds}; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`,
      "cache-control": "no-store",
    });
    res.end();
  }

  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const rest = url.pathname.slice(queueDashboardPath.length) || "/";
    if (rest === "/session") return session(req, res);
    const byToken = await fromToken(req.headers.authorization);
    const actor = byToken ?? (await fromCookie(req.headers.cookie));
    if (!actor) {
      if (req.method === "GET" && !rest.startsWith("/api/")) {
        res.writeHead(303, { location: `${queueDashboardPath}/session`, "cache-control": "no-store" });
        res.end();
        return;
      }
      return sendJson(res, 401, { error: "an administrator's bearer token or dashboard session is required" });
    }
    if (!allowed(actor)) return sendJson(res, 403, { error: "only administrators may open the queue dashboard" });
    // A cookie rides along on cross-site requests SameSite does not stop; changes need our own origin.
    if (!byToken && req.method !== "GET" && !sameOrigin(req)) {
      return sendJson(res, 403, { error: "cross-origin request refused" });
    }
    const method = req.method ?? "GET";
    for (const route of adapter.routes) {
      if (route.method !== method) continue;
      const match = route.pattern.exec(rest);
      if (!match) continue;
      const params = Object.fromEntries(
        route.keys.map((key, index) => [key, decodeURIComponent(match[index + 1] ?? "")]),
      );
      return route.handler(req, res, params, url);
    }
    sendJson(res, 404, { error: "not found" });
  };
}
