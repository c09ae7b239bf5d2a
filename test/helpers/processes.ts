import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { workerDatabaseUrl } from "../setup/test-env.ts";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  if (!address || typeof address === "string") throw new Error("no port");
  return address.port;
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  { timeoutMs = 15_000, intervalMs = 50 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface WorkerProcess {
  child: ChildProcess;
  /** Parsed pino lines written so far. */
  logs: LogLine[];
  /** Everything the process wrote, for failure messages. */
  output: () => string;
  healthUrl: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitForLog(what: string, match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface WorkerOptions {
  redisUrl: string;
  queuePrefix: string;
  reconcileIntervalSeconds?: number;
  env?: Record<string, string>;
}

/**
 * Starts `src/main/worker.ts` as a real process over this test file's database.
 * Node runs it with tsx's loader in-process (`node --import tsx`, what the `tsx` CLI
 * does in a child), so signals, SIGKILL included, reach the worker itself.
 */
export async function spawnWorker(options: WorkerOptions): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main/worker.ts"], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: "test",
      DATABASE_URL: workerDatabaseUrl(),
      REDIS_URL: options.redisUrl,
      QUEUE_PREFIX: options.queuePrefix,
      RECONCILE_INTERVAL_SECONDS: String(options.reconcileIntervalSeconds ?? 2),
      WORKER_HEALTH_PORT: "0",
      SEED_DEMO: "false",
      LOG_LEVEL: "debug",
      // Mail these tests cause is kept per process, out of the developer's dev mailbox.
      DEV_MAILBOX_DIR: path.join(tmpdir(), `elevate-test-mail-${options.queuePrefix}`),
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: LogLine[] = [];
  const raw: string[] = [];
  const waiters = new Set<() => void>();
  let pending = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    raw.push(chunk);
    pending += chunk;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        // Not a log line (a stray console message).
      }
    }
    for (const wake of waiters) wake();
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => raw.push(chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const output = () => raw.join("");

  function waitForLog(what: string, match: (line: LogLine) => boolean, timeoutMs = 20_000): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = logs.find(match);
        if (!found) return;
        cleanup();
        resolve(found);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`worker never logged ${what}; output:\n${output()}`));
      }, timeoutMs);
      const onExit = () => {
        cleanup();
        reject(new Error(`worker exited before logging ${what}; output:\n${output()}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
        child.off("exit", onExit);
      };
      waiters.add(check);
      child.once("exit", onExit);
      check();
    });
  }

  const started = await waitForLog("its health port", (line) => typeof line.port === "number");
  return {
    child,
    logs,
    output,
    healthUrl: `http://127.0.0.1:${started.port}`,
    exited,
    waitForLog,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

export interface RedisServer {
  url: string;
  process: ChildProcess;
  /** SIGKILL: connections drop and nothing is saved. */
  kill(): Promise<void>;
  /** Starts a fresh, empty server on the same port. */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT: connections stay open but nothing answers. */
  pause(): void;
  resume(): void;
}

/** A throwaway redis-server on a free port, without persistence, that a test may kill. */
export async function startRedisServer(extraArgs: string[] = []): Promise<RedisServer> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let current: ChildProcess;
  const launch = async () => {
    current = spawn("redis-server", ["--port", String(port), "--save", "", "--appendonly", "no", ...extraArgs], {
      stdio: "ignore",
    });
    await waitFor(
      "redis-server to answer",
      async () => {
        const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
        probe.on("error", () => {});
        try {
          await probe.connect();
          return (await probe.ping()) === "PONG";
        } catch {
          return false;
        } finally {
          probe.disconnect();
        }
      },
      { timeoutMs: 10_000 },
    );
  };
  await launch();
  return {
    url,
    get process() {
      return current;
    },
    async kill() {
      if (current.exitCode !== null || current.signalCode !== null) return;
      const exited = once(current, "exit");
      current.kill("SIGKILL");
      await exited;
    },
    restart: launch,
    pause: () => current.kill("SIGSTOP"),
    resume: () => current.kill("SIGCONT"),
  };
}

export interface ApiProcess {
  child: ChildProcess;
  /** Parsed pino lines written so far. */
  logs: LogLine[];
  /** Everything the process wrote, for failure messages. */
  output: () => string;
  /** http://127.0.0.1:<port>, GraphQL at /graphql. */
  url: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface ApiOptions {
  redisUrl: string;
  queuePrefix: string;
  /** The dev issuer's key file; create it first (loadOrCreateDevIssuerKey) so the test can mint tokens. */
  devIssuerKeyFile: string;
  /** Default: false, jobs are left to spawned workers. */
  worker?: boolean;
  env?: Record<string, string>;
}

/**
 * Starts `src/main/server.ts` as a real process over this test file's database (as
 * spawnWorker does) on a free port, and waits until GET /readyz answers 200.
 */
export async function spawnApi(options: ApiOptions): Promise<ApiProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ["--import", "tsx", "src/main/server.ts"], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: "test",
      DATABASE_URL: workerDatabaseUrl(),
      PORT: String(port),
      REDIS_URL: options.redisUrl,
      QUEUE_PREFIX: options.queuePrefix,
      WORKER: String(options.worker ?? false),
      SEED_DEMO: "false",
      DEV_ISSUER_KEY_FILE: options.devIssuerKeyFile,
      DEV_MAILBOX_DIR: path.join(tmpdir(), `elevate-test-mail-${options.queuePrefix}`),
      LOG_LEVEL: "info",
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: LogLine[] = [];
  const raw: string[] = [];
  let pending = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    raw.push(chunk);
    pending += chunk;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        // Not a log line.
      }
    }
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => raw.push(chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const output = () => raw.join("");
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    return exited;
  };
  try {
    await waitFor(
      `the API on port ${port} to be ready`,
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error("the API exited");
        try {
          return (await fetch(`${url}/readyz`)).status === 200;
        } catch {
          return false;
        }
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
  } catch (error) {
    child.kill("SIGKILL");
    throw new Error(`${(error as Error).message}; output:\n${output()}`);
  }
  return { child, logs, output, url, exited, stop };
}
