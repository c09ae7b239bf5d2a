import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

/** Named probes; each resolves when its dependency answers and rejects (or hangs) when not. */
export type ReadinessChecks = Record<string, () => Promise<unknown>>;

/** A probe that does not answer within this time counts as failing. */
const probeTimeoutMs = 2000;

async function probe(check: () => Promise<unknown>): Promise<"ok" | "failing"> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"failing">((resolve) => {
    timer = setTimeout(() => resolve("failing"), probeTimeoutMs);
  });
  const answer = check().then(
    () => "ok" as const,
    () => "failing" as const,
  );
  try {
    return await Promise.race([answer, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every check at once; ready only when all answer in time. */
export async function probeReadiness(checks: ReadinessChecks) {
  const results = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => [name, await probe(check)] as const),
  );
  const ready = results.every(([, state]) => state === "ok");
  return { ready, body: { status: ready ? "ready" : "not ready", checks: Object.fromEntries(results) } };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}

/**
 * The health server of a process that serves nothing else (the worker); never listens.
 * /healthz is liveness: the process is up and its event loop answers.
 * /readyz is readiness: every check (database, Redis, job workers) answers in time.
 */
export function createHealthServer(
  checks: ReadinessChecks,
  /** More routes by exact path (/metrics, for example). */
  routes: Record<string, (req: IncomingMessage, res: ServerResponse) => Promise<void>> = {},
): Server {
  return createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (path === "/healthz") return sendJson(res, 200, { status: "ok" });
    const route = routes[path];
    if (route) {
      route(req, res).catch(() => {
        if (!res.headersSent) sendJson(res, 500, { error: "internal error" });
        else res.end();
      });
      return;
    }
    if (path === "/readyz") {
      void probeReadiness(checks).then(({ ready, body }) => sendJson(res, ready ? 200 : 503, body));
      return;
    }
    sendJson(res, 404, { error: "not found" });
  });
}
