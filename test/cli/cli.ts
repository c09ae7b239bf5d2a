import { spawn } from "node:child_process";
import { mkdtemp, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadOrCreateDevIssuerKey } from "../../src/auth/dev-issuer.ts";
import { createDb } from "../../src/db/client.ts";
import { jobClient, uniquePrefix } from "../helpers/jobs.ts";
import { spawnApi } from "../helpers/processes.ts";
import { devTokenFor } from "../helpers/tokens.ts";
import { redisUrl, workerDatabaseUrl } from "../setup/test-env.ts";

// Runs the `elevate` command as users do: the bin file as an executable on PATH, in a
// child process, with its own config directory per signed-in user.

const bin = fileURLToPath(new URL("../../bin/elevate.js", import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Cli {
  /** A directory with `elevate` in it, for PATH. */
  binDir: string;
  /** The environment of one user's shell: ELEVATE_URL and a config directory of their own. */
  env(configDir: string, extra?: Record<string, string>): Record<string, string>;
}

export async function installCli(serverUrl: string): Promise<Cli> {
  const binDir = await mkdtemp(path.join(tmpdir(), "elevate-bin-"));
  await symlink(bin, path.join(binDir, "elevate"));
  return {
    binDir,
    env: (configDir, extra = {}) => ({
      // Only what a user's shell would have: no test runner options leak into the command.
      PATH: [binDir, path.dirname(process.execPath), process.env.PATH].join(path.delimiter),
      HOME: configDir,
      ELEVATE_URL: serverUrl,
      ELEVATE_CONFIG_DIR: configDir,
      ...extra,
    }),
  };
}

export interface Running {
  /** Resolves with everything written once the process exits. */
  done: Promise<CliResult>;
  /** Resolves with the first stderr text matching `pattern` (the device flow's instructions). */
  stderrMatch(pattern: RegExp): Promise<RegExpMatchArray>;
}

export function start(command: string, args: string[], env: Record<string, string>): Running {
  const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  const watchers = new Set<() => void>();
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
    for (const watch of watchers) watch();
  });
  const done = new Promise<CliResult>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
  return {
    done,
    stderrMatch: (pattern) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const match = stderr.match(pattern);
          if (!match) return;
          watchers.delete(check);
          resolve(match);
        };
        watchers.add(check);
        check();
        done.then(() => reject(new Error(`exited without writing ${pattern}: ${stderr}`)), reject);
      }),
  };
}

/** `elevate <args...>`, arguments passed as they are. */
export function elevate(env: Record<string, string>, ...args: string[]): Promise<CliResult> {
  return start("elevate", args, env).done;
}

/**
 * A command line typed into bash, e.g. `elevate New-ElevatedAccessRequest -Task 'Exchange\New-MoveRequest' ...`.
 * extglob is on, as in Debian's interactive shells, so bash leaves `@('a','b')` to the command.
 */
export function bash(env: Record<string, string>, line: string): Promise<CliResult> {
  return start("bash", ["-O", "extglob", "-c", line], env).done;
}

/** The value of one property in a PowerShell-style property list. */
export function property(output: string, name: string): string {
  const match = new RegExp(`^${name} +: ?(.*)$`, "m").exec(output);
  if (!match) throw new Error(`no ${name} in:\n${output}`);
  return match[1]!.trim();
}

/**
 * An API process (its jobs in it) with the development issuer, and `elevate` installed
 * against it: the setup of a command-line test file. `shell` is one user's shell with a
 * config directory of its own, signed in through ELEVATE_TOKEN when given a token.
 */
export async function startCliApi(name: string) {
  const queuePrefix = uniquePrefix(name);
  const keyFile = path.join(tmpdir(), `elevate-test-issuer-${queuePrefix}.json`);
  const key = await loadOrCreateDevIssuerKey(keyFile);
  const db = createDb(workerDatabaseUrl());
  const api = await spawnApi({ redisUrl, queuePrefix, devIssuerKeyFile: keyFile });
  const cli = await installCli(api.url);
  const tokenFor = (email: string) => devTokenFor(db, key, email, { issuer: "elevate-dev", audience: "elevate" });
  return {
    api,
    db,
    cli,
    tokenFor,
    async shell(user: string, token?: string) {
      const configDir = await mkdtemp(path.join(tmpdir(), `elevate-${user.replace(/@.*/, "")}-`));
      return cli.env(configDir, token ? { ELEVATE_TOKEN: token } : {});
    },
    async close() {
      await api.stop();
      // The jobs the API queued (request expiry, mail) are this file's alone.
      await (await jobClient(redisUrl, queuePrefix)).close();
      await db.$disconnect();
    },
  };
}
export type CliApi = Awaited<ReturnType<typeof startCliApi>>;
