// What every part of `npm run bench` shares: the mode, autocannon at 32 connections, and
// the one table the run prints.
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import type { createDb } from "../../src/db/client.ts";
import type { prepareFabrikam } from "../helpers/jobs.ts";

export const quick = process.argv.includes("--quick") || process.env.BENCH_MODE === "quick";
export type Db = ReturnType<typeof createDb>;
export type Fabrikam = Awaited<ReturnType<typeof prepareFabrikam>>;

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
export const connections = 32;
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
