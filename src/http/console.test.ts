import { once } from "node:events";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consoleNoncePlaceholder, consolePolicy, createConsole } from "./console.ts";

// The console's static handler over a build laid out as Vite writes it.

let dir: string;
let server: Server;
let base: string;
const script = `console.log("${"x".repeat(2000)}");`;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "elevate-console-"));
  await mkdir(path.join(dir, "assets"));
  await writeFile(
    path.join(dir, "index.html"),
    `<meta property="csp-nonce" nonce="${consoleNoncePlaceholder}"><script type="module" src="/assets/index-AbC123.js"></script>`,
  );
  await writeFile(path.join(dir, "assets/index-AbC123.js"), script);
  await writeFile(path.join(dir, "favicon.svg"), "<svg/>");
  const handler = createConsole({ dir, issuer: "https://login.example.com/tenant/v2.0" })!;
  server = createServer((req, res) => {
    const route = handler.routeFor(req.method, new URL(req.url ?? "/", "http://localhost").pathname);
    if (route) return void route(req, res);
    res.writeHead(418).end("the API");
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.close();
  await rm(dir, { recursive: true, force: true });
});

const nonceOf = (policy: string | null) => /'nonce-([^']+)'/.exec(policy ?? "")?.[1];

describe("the console's static handler", () => {
  it("answers / and every client-side route with index.html under a fresh nonce", async () => {
    const [first, second, ...others] = await Promise.all(
      ["/", "/", "/requests/0195f0c2-1d1e-7c3a-9f00-000000000000", "/index.html"].map((url) => fetch(base + url)),
    );
    for (const response of [first!, second!, ...others]) {
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/^text\/html/);
      expect(response.headers.get("cache-control")).toBe("no-cache");
      const nonce = nonceOf(response.headers.get("content-security-policy"));
      expect(nonce).toMatch(/^[A-Za-z0-9+/]{22}==$/);
      expect(await response.text()).toContain(`nonce="${nonce}"`);
    }
    expect(nonceOf(first!.headers.get("content-security-policy"))).not.toBe(
      nonceOf(second!.headers.get("content-security-policy")),
    );
  });

  it("sends a policy without inline script or inline style, and the identity provider only to connect to", () => {
    const policy = consolePolicy("abc", "https://login.example.com");
    expect(policy).toContain("script-src 'self';");
    expect(policy).toContain("style-src 'self' 'nonce-abc';");
    expect(policy).toContain("connect-src 'self' https://login.example.com;");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
  });

  it("serves hashed assets for a year, compressed when the browser accepts it", async () => {
    const plain = await fetch(`${base}/assets/index-AbC123.js`, { headers: { "accept-encoding": "identity" } });
    expect(plain.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(plain.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect(await plain.text()).toBe(script);
    const gzipped = await fetch(`${base}/assets/index-AbC123.js`, { headers: { "accept-encoding": "gzip" } });
    expect(gzipped.headers.get("content-encoding")).toBe("gzip");
    expect(await gzipped.text()).toBe(script);
    expect((await fetch(`${base}/favicon.svg`)).headers.get("cache-control")).toBe("no-cache");
  });

  it("answers HEAD like GET without a body", async () => {
    const response = await fetch(base, { method: "HEAD" });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(await response.text()).toBe("");
  });

  it("answers 404 for a missing file instead of the app", async () => {
    for (const url of ["/assets/index-Old999.js", "/favicon.ico", "/../package.json", "/%2e%2e/package.json"])
      expect((await fetch(base + url)).status, url).toBe(404);
  });

  it("leaves the API's paths and every other method to the API", async () => {
    for (const url of [
      "/graphql",
      "/graphql/stream",
      "/decide/abc",
      "/dev/mail",
      "/dev/users",
      "/auth/config",
      "/healthz",
      "/readyz",
      "/scim/v2/Users",
      "/metrics",
    ])
      expect((await fetch(base + url)).status, url).toBe(418);
    expect((await fetch(base, { method: "POST" })).status).toBe(418);
  });
});
