// What every part of `npm run bench` shares: the mode, autocannon at 32 connections, and
// the one table the run prints.
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { loadavg } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import type { createDb } from "../../src/db/client.ts";
import type { prepareFabrikam } from "../helpers/jobs.ts";
import type { Exit, NodeCommand, ServiceProcess } from "../helpers/processes.ts";

export const quick = process.argv.includes("--quick") || process.env.BENCH_MODE === "quick";
export type Db = ReturnType<typeof createDb>;
export type Fabrikam = Awaited<ReturnType<typeof prepareFabrikam>>;

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
export const connections = 32;

/**
 * How a part starts an entry point: from source under tsx, or with BENCH_DIST=1 from
 * the build `npm run build` wrote (what `npm run start:prod` runs), with the memory
 * allocator settings of the production image (its Dockerfile's MALLOC_ variables); with BENCH_CPU_PROF
 * under `node --cpu-prof`, writing its profile there on exit; with BENCH_NODE_FLAGS, those
 * flags given to node.
 */
export function entryPoint(name: "server" | "worker"): { command: NodeCommand } {
  const dir = process.env.BENCH_CPU_PROF;
  const profile = dir ? ["--cpu-prof", "--cpu-prof-dir", path.resolve(dir)] : [];
  // E.g. "--max-semi-space-size=4": what V8's heap settings do to the memory rows.
  const flags = process.env.BENCH_NODE_FLAGS?.split(/\s+/).filter(Boolean) ?? [];
  if (process.env.BENCH_DIST !== "1") {
    return { command: { args: [...flags, ...profile, "--import", "tsx", `src/main/${name}.ts`], cwd: repoRoot } };
  }
  const dockerfile = readFileSync(path.join(repoRoot, "Dockerfile"), "utf8");
  const allocator = Object.fromEntries(
    [...dockerfile.matchAll(/\b(MALLOC_[A-Z_]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]),
  );
  return { command: { args: [...flags, ...profile, `dist/src/main/${name}.js`], cwd: repoRoot, env: allocator } };
}
export const seconds = quick ? 3 : 15;
export const warmupSeconds = quick ? 1 : 3;

export interface Row {
  metric: string;
  goal: string;
  measured: string;
  pass: boolean | null;
}
export const rows: Row[] = [];
export const loads: number[] = [];
export const row = (metric: string, goal: string, measured: string, pass: boolean | null) => {
  rows.push({ metric, goal, measured, pass });
  console.error(`  ${metric}: ${measured}${pass === null ? "" : pass ? "  pass" : "  FAIL"}`);
};

export interface Load {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  unexpected: number;
}

export interface Target {
  url: string;
  body: string;
  token?: string;
  /** The status every answer must have. */
  status: number;
}

/** autocannon at 32 connections (or `concurrency`): a warm-up, then the measured run. */
export async function load(what: Target, concurrency = connections): Promise<Load> {
  const options = {
    url: `${what.url}`,
    method: "POST" as const,
    connections: concurrency,
    headers: {
      "content-type": "application/json",
      ...(what.token ? { authorization: `Bearer ${what.token}` } : {}),
    },
    body: what.body,
  };
  await autocannon({ ...options, duration: warmupSeconds });
  loads.push(loadavg()[0]!);
  const result = await autocannon({ ...options, duration: seconds });
  const expected2xx = what.status >= 200 && what.status < 300;
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    unexpected: expected2xx ? result.non2xx : result["2xx"],
  };
}

export const ms = (value: number) => `${value.toFixed(0)} ms`;
export const describeLoad = (l: Load, baseline?: number) =>
  `${Math.round(l.rps)} req/s${baseline ? ` (${((100 * l.rps) / baseline).toFixed(0)}%)` : ""}, p50 ${ms(l.p50)}, p99 ${ms(l.p99)}` +
  (l.errors || l.unexpected ? `, ${l.errors} errors, ${l.unexpected} unexpected statuses` : "");

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

export async function graphql(url: string, body: string, token?: string): Promise<{ status: number; json: unknown }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  });
  return { status: response.status, json: await response.json() };
}

/** The peak resident memory of each API and worker process the run started, by part. */
const peaks: { kind: "API" | "worker"; part: string; mb: number }[] = [];

/**
 * Stops a process the bench spawned, reading its peak RSS (VmHWM) first: the spawned
 * process is node itself (tsx is an --import loader in it), so its pid is the one to read.
 */
export async function stopMeasured(kind: "API" | "worker", part: string, service: ServiceProcess): Promise<Exit> {
  const status = await readFile(`/proc/${service.child.pid}/status`, "utf8").catch(() => "");
  const kb = Number(status.match(/^VmHWM:\s+(\d+) kB/m)?.[1]);
  if (kb) peaks.push({ kind, part, mb: kb / 1024 });
  return service.stop();
}

/** The memory goals: the highest peak of any API and any worker over the parts that ran. */
export function memoryRows() {
  for (const [kind, goal] of [
    ["API", 250],
    ["worker", 200],
  ] as const) {
    const measured = peaks.filter((peak) => peak.kind === kind);
    if (measured.length === 0) continue;
    const top = measured.reduce((a, b) => (b.mb > a.mb ? b : a));
    const each = measured.map((peak) => `${peak.part} ${peak.mb.toFixed(0)}`).join(", ");
    row(
      `${kind} peak RSS`,
      `≤ ${goal} MB`,
      `${top.mb.toFixed(0)} MB (${top.part}; each process: ${each} MB)`,
      top.mb <= goal,
    );
  }
}

/** The last error lines a spawned process logged, to show why a part failed. */
export function logErrors(name: string, service: ServiceProcess, count = 2) {
  for (const line of service.logs.filter((l) => l.level >= 50).slice(-count))
    console.error(`  ${name} logged: ${JSON.stringify(line).slice(0, 1500)}`);
}
