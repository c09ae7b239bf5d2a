import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { redisUrl, workerDatabaseUrl } from "../setup/test-env.ts";
import { testAuditKeys } from "./audit-keys.ts";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

let signingKeyFile: string | undefined;

/** The test audit signing key as a PEM file that spawned processes read. */
function testSigningKeyFile(): string {
  if (!signingKeyFile) {
    signingKeyFile = path.join(tmpdir(), `elevate-test-audit-${process.pid}-${randomBytes(4).toString("hex")}.pem`);
    writeFileSync(signingKeyFile, testAuditKeys.signingKey!.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  }
  return signingKeyFile;
}

/** Every process this test file started and has not seen exit: killed when the file ends. */
const spawned = new Set<ChildProcess>();

function track(child: ChildProcess): ChildProcess {
  spawned.add(child);
  child.once("exit", () => spawned.delete(child));
  return child;
}

/** SIGKILLs every process this file started that is still running (test/setup/processes.ts runs it after each file). */
export async function killSpawned(): Promise<void> {
  await Promise.all(
    [...spawned].map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGKILL");
      await exited;
    }),
  );
}

// Also when the test process exits without running its hooks.
process.once("exit", () => {
  for (const child of spawned) child.kill("SIGKILL");
});

/** Spawned node processes end with the test process that started them (see the file). */
const exitWithParent = new URL("../setup/exit-with-parent.mjs", import.meta.url).href;

/**
 * A port outside the kernel's ephemeral range (32768-60999 here), so no bind to port 0
 * and no outgoing connection of any process is handed it while a test holds it (a
 * restarted Redis, an API between its start and its bind). Free when checked; callers
 * retry with another if a server still finds it taken.
 */
async function reservedRangePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const server = createServer();
    const free = await new Promise<boolean>((resolve) => {
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => resolve(true));
    });
    if (free) {
      await new Promise((resolve) => server.close(resolve));
      return port;
    }
  }
}

/**
 * A TCP port nobody listens on right now, for a server that must know its port before it
 * starts (a PUBLIC_URL naming it): outside the ephemeral range, so nothing else is handed
 * it before that server binds it.
 */
export const freePort = reservedRangePort;

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
    await sleep(intervalMs);
  }
}

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export type Exit = { code: number | null; signal: NodeJS.Signals | null };

/** A process of ours (API or worker) started by a test, with its logs. */
export interface ServiceProcess {
  child: ChildProcess;
  /** Parsed pino lines written so far. */
  logs: LogLine[];
  /** Everything the process wrote, for failure messages. */
  output: () => string;
  exited: Promise<Exit>;
  /** Settles once the process exited and all it wrote was read. */
  closed: Promise<void>;
  waitForLog(what: string, match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<Exit>;
}

/** How a test runs an entry point: node's arguments and working directory. */
export interface NodeCommand {
  args: string[];
  cwd: string;
  /** Variables the process starts with beyond the service's own (the image's allocator settings). */
  env?: Record<string, string>;
}

/**
 * One of src/main's entry points from source. Node runs it with tsx's loader in-process
 * (`node --import tsx`, what the `tsx` CLI does in a child), so signals, SIGKILL included,
 * reach the process itself.
 */
function fromSource(entry: string): NodeCommand {
  return { args: ["--import", "tsx", entry], cwd: repoRoot };
}

/** Starts an entry point as a real process over this test file's database. */
function spawnService(command: NodeCommand, queuePrefix: string, env: Record<string, string>): ServiceProcess {
  const entry = command.args.at(-1);
  const child = spawn(process.execPath, ["--import", exitWithParent, ...command.args], {
    cwd: command.cwd,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: "test",
      ELEVATE_TEST_PARENT_PID: String(process.pid),
      DATABASE_URL: workerDatabaseUrl(),
      QUEUE_PREFIX: queuePrefix,
      SEED_DEMO: "false",
      // Mail these tests cause is kept per process, out of the developer's dev mailbox.
      DEV_MAILBOX_DIR: path.join(tmpdir(), `elevate-test-mail-${queuePrefix}`),
      // The test process's own audit keys, so it can verify what its processes wrote.
      AUDIT_KEY: testAuditKeys.macKey.toString("base64"),
      AUDIT_SIGNING_KEY_FILE: testSigningKeyFile(),
      ...command.env,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  track(child);
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
  const exited = new Promise<Exit>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  // After the exit, once its output has been read to the end too.
  const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const output = () => raw.join("");

  // Generous: on a loaded machine a process under tsx takes long to start; waiting longer never makes a test pass wrongly.
  function waitForLog(what: string, match: (line: LogLine) => boolean, timeoutMs = 60_000): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = logs.find(match);
        if (!found) return;
        cleanup();
        resolve(found);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${entry} never logged ${what}; output:\n${output()}`));
      }, timeoutMs);
      const onExit = () => {
        cleanup();
        reject(new Error(`${entry} exited before logging ${what}; output:\n${output()}`));
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

  return {
    child,
    logs,
    output,
    exited,
    closed,
    waitForLog,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

export interface WorkerProcess extends ServiceProcess {
  healthUrl: string;
}

export interface WorkerOptions {
  redisUrl: string;
  queuePrefix: string;
  reconcileIntervalSeconds?: number;
  env?: Record<string, string>;
  /** Default: `src/main/worker.ts` under tsx. */
  command?: NodeCommand;
}

/** Starts the worker and waits until it serves health on a port of its own. */
export async function spawnWorker(options: WorkerOptions): Promise<WorkerProcess> {
  const worker = spawnService(options.command ?? fromSource("src/main/worker.ts"), options.queuePrefix, {
    REDIS_URL: options.redisUrl,
    RECONCILE_INTERVAL_SECONDS: String(options.reconcileIntervalSeconds ?? 2),
    WORKER_HEALTH_PORT: "0",
    LOG_LEVEL: "debug",
    ...options.env,
  });
  const started = await worker.waitForLog("its health port", (line) => typeof line.port === "number");
  return { ...worker, healthUrl: `http://127.0.0.1:${started.port}` };
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `npm run org -- <args>`, the operator's command, as the operator runs it: a child
 * process over this test file's database with the test process's audit keys.
 */
/** `npm run org`; `bus` names the Redis and prefix of the API processes that should hear its changes. */
export async function runOrgCommand(
  args: string[],
  bus: { redisUrl: string; queuePrefix: string } = { redisUrl, queuePrefix: "elevate-org-command" },
): Promise<CommandResult> {
  const child = spawn("npm", ["run", "--silent", "org", "--", ...args], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: "test",
      REDIS_URL: bus.redisUrl,
      QUEUE_PREFIX: bus.queuePrefix,
      DATABASE_URL: workerDatabaseUrl(),
      AUDIT_KEY: testAuditKeys.macKey.toString("base64"),
      AUDIT_SIGNING_KEY_FILE: testSigningKeyFile(),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  track(child);
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => stdout.push(chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => stderr.push(chunk));
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, stdout: stdout.join(""), stderr: stderr.join("") };
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

/**
 * A throwaway redis-server without persistence, that a test may kill, on a port outside
 * the ephemeral range: a restart finds its port still free however long the outage was.
 */
export async function startRedisServer(extraArgs: string[] = []): Promise<RedisServer> {
  let port = await reservedRangePort();
  let current: ChildProcess;
  const answers = async (url: string) => {
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
  };
  /** Starts redis-server on `port`; false when it exited at once (the port was taken after all). */
  const launch = async (): Promise<boolean> => {
    const child = track(
      spawn("redis-server", ["--port", String(port), "--save", "", "--appendonly", "no", ...extraArgs], {
        stdio: "ignore",
      }),
    );
    current = child;
    const ready = await waitFor(
      "redis-server to answer",
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) return "exited";
        return (await answers(`redis://127.0.0.1:${port}`)) && "ready";
      },
      { timeoutMs: 10_000 },
    );
    return ready === "ready";
  };
  for (let attempt = 0; !(await launch()); attempt++) {
    if (attempt === 5) throw new Error("redis-server would not start");
    port = await reservedRangePort();
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    get process() {
      return current;
    },
    async kill() {
      if (current.exitCode !== null || current.signalCode !== null) return;
      const exited = once(current, "exit");
      current.kill("SIGKILL");
      await exited;
    },
    async restart() {
      if (!(await launch())) throw new Error(`redis-server could not start again on port ${port}`);
    },
    pause: () => current.kill("SIGSTOP"),
    resume: () => current.kill("SIGCONT"),
  };
}

export interface ApiProcess extends ServiceProcess {
  /** http://127.0.0.1:<port>, GraphQL at /graphql. */
  url: string;
}

export interface ApiOptions {
  redisUrl: string;
  queuePrefix: string;
  /** The dev issuer's key file; create it first (loadOrCreateDevIssuerKey) so the test can mint tokens. */
  devIssuerKeyFile: string;
  /** Default: false, jobs are left to spawned workers. */
  worker?: boolean;
  env?: Record<string, string>;
  /** Default: `src/main/server.ts` under tsx. */
  command?: NodeCommand;
  /** Default: one outside the ephemeral range. Pick it first (freePort) when PUBLIC_URL must name it. */
  port?: number;
}

/**
 * Starts the API and waits until GET /readyz answers 200. Its port (and so its public
 * URL) is chosen before it starts, outside the ephemeral range; should it still find
 * the port taken, it is started again on another.
 */
export async function spawnApi(options: ApiOptions): Promise<ApiProcess> {
  for (let attempt = 0; ; attempt++) {
    const port = options.port ?? (await reservedRangePort());
    const url = `http://127.0.0.1:${port}`;
    const api = spawnService(options.command ?? fromSource("src/main/server.ts"), options.queuePrefix, {
      PORT: String(port),
      REDIS_URL: options.redisUrl,
      WORKER: String(options.worker ?? false),
      DEV_ISSUER_KEY_FILE: options.devIssuerKeyFile,
      LOG_LEVEL: "info",
      ...options.env,
    });
    try {
      await waitFor(
        `the API on port ${port} to be ready`,
        async () => {
          if (api.child.exitCode !== null || api.child.signalCode !== null) throw new Error("the API exited");
          try {
            return (await fetch(`${url}/readyz`)).status === 200;
          } catch {
            return false;
          }
        },
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      return { ...api, url };
    } catch (error) {
      api.child.kill("SIGKILL");
      await api.closed;
      if (!options.port && attempt < 3 && api.output().includes("EADDRINUSE")) continue;
      throw new Error(`${(error as Error).message}; output:\n${api.output()}`);
    }
  }
}
