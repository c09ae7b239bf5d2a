import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import type { Route } from "./app.ts";

/** Vite writes this into index.html (`html.cspNonce`); each response gets a fresh nonce in its place. */
export const consoleNoncePlaceholder = "__ELEVATE_CSP_NONCE__";

// The API's own paths: the console's client-side routes never shadow them.
const apiPaths = ["/graphql", "/decide", "/dev", "/auth", "/healthz", "/readyz", "/scim", "/metrics"];

const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".webmanifest": "application/manifest+json",
  ".txt": "text/plain; charset=utf-8",
  ".woff2": "font/woff2",
};

interface StaticFile {
  body: Buffer;
  gzipped: Buffer | null;
  contentType: string;
  /** Vite puts a content hash in every name under assets/: such a file never changes. */
  immutable: boolean;
}

export interface ConsoleOptions {
  /** The Vite build output (web/dist). */
  dir: string;
  /** The OpenID Connect issuer the console signs in at: its origin is added to connect-src. */
  issuer: string | null;
}

export interface ConsoleHandler {
  /** The route for a request the console answers: GET or HEAD outside the API's paths. */
  routeFor(method: string | undefined, pathname: string): Route | undefined;
}

function isApiPath(pathname: string): boolean {
  return apiPaths.some((prefix) => pathname === prefix || pathname.startsWith(`${prefix}/`));
}

function readTree(dir: string, prefix = ""): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  for (const entry of readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
    const relative = path.posix.join(prefix, entry.name);
    if (entry.isDirectory()) {
      for (const [name, file] of readTree(dir, relative)) files.set(name, file);
      continue;
    }
    const contentType = contentTypes[path.extname(entry.name)];
    if (!contentType) continue;
    const body = readFileSync(path.join(dir, relative));
    const compressible = /^(text\/|application\/(json|manifest)|image\/svg)/.test(contentType);
    files.set(`/${relative}`, {
      body,
      gzipped: compressible && body.length > 1024 ? gzipSync(body) : null,
      contentType,
      immutable: relative.startsWith("assets/"),
    });
  }
  return files;
}

function originOf(url: string | null): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    return /^https?:$/.test(parsed.protocol) ? parsed.origin : null;
  } catch {
    return null;
  }
}

/**
 * The policy of every console response. Scripts come only from the console's own
 * files. Styles also allow a per-response nonce: Mantine writes <style> elements for
 * responsive layout (AppShell breakpoints, responsive style props) and reads the
 * nonce Vite puts in index.html; no 'unsafe-inline' anywhere. connect-src: GraphQL
 * (HTTP, SSE and WebSocket on the same origin) and the identity provider's discovery
 * and token endpoints (the sign-in itself is a top-level redirect, which CSP leaves alone).
 */
export function consolePolicy(nonce: string | null, issuerOrigin: string | null): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    `style-src 'self'${nonce ? ` 'nonce-${nonce}'` : ""}`,
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self'${issuerOrigin ? ` ${issuerOrigin}` : ""}`,
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join("; ");
}

/**
 * Serves the console's production build at / from memory: its files by exact name
 * (hashed assets cached for a year), index.html with a fresh CSP nonce for every
 * other GET outside the API's paths, so client-side routes such as /requests/<id>
 * load the app. Returns null when the console has not been built.
 */
export function createConsole(options: ConsoleOptions): ConsoleHandler | null {
  if (!existsSync(path.join(options.dir, "index.html"))) return null;
  const files = readTree(options.dir);
  const indexHtml = files.get("/index.html")!.body.toString("utf8");
  const issuerOrigin = originOf(options.issuer);

  const commonHeaders = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
  };

  const serveIndex: Route = (req, res) => {
    const nonce = randomBytes(16).toString("base64");
    const body = Buffer.from(indexHtml.replaceAll(consoleNoncePlaceholder, nonce));
    res.writeHead(200, {
      ...commonHeaders,
      "Content-Type": contentTypes[".html"],
      "Content-Length": body.length,
      "Cache-Control": "no-cache",
      "Content-Security-Policy": consolePolicy(nonce, issuerOrigin),
    });
    res.end(req.method === "HEAD" ? undefined : body);
  };

  const serveFile =
    (file: StaticFile): Route =>
    (req, res) => {
      const gzip = file.gzipped !== null && /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""));
      const body = gzip ? file.gzipped! : file.body;
      res.writeHead(200, {
        ...commonHeaders,
        "Content-Type": file.contentType,
        "Content-Length": body.length,
        "Cache-Control": file.immutable ? "public, max-age=31536000, immutable" : "no-cache",
        "Content-Security-Policy": consolePolicy(null, issuerOrigin),
        Vary: "Accept-Encoding",
        ...(gzip ? { "Content-Encoding": "gzip" } : {}),
      });
      res.end(req.method === "HEAD" ? undefined : body);
    };

  const notFound: Route = (_req, res) => {
    res.writeHead(404, { ...commonHeaders, "Content-Type": "text/plain; charset=utf-8" });
    res.end("Not found");
  };

  return {
    routeFor(method, pathname) {
      if ((method !== "GET" && method !== "HEAD") || isApiPath(pathname)) return undefined;
      if (pathname === "/index.html") return serveIndex;
      const file = files.get(pathname);
      if (file) return serveFile(file);
      // A missing file (an asset of an older build) is a 404, not the app.
      if (/\.[a-z0-9]+$/i.test(pathname)) return notFound;
      return serveIndex;
    },
  };
}
