// `npm run bench`: the speed goals of issue 15 against real processes, one table.
//
//   npm run bench                 full mode (15 s per HTTP metric, 100,000 scheduled expiries)
//   npm run bench -- --quick      quick mode (3 s per metric, 2,000 scheduled expiries; CI's smoke test)
//   BENCH_MODE=quick npm run bench   the same as --quick
//   BENCH_CPU_PROF=<dir>          every API and worker runs under `node --cpu-prof` and writes its profile there on exit
//   BENCH_DIST=1                  the API and worker run from dist/ (`npm run build` first), not under tsx
//   BENCH_ONLY=http|expiry|mail|mailflow|subscriptions|lists   one part only (lists: 1M requests, 5M executions, 1M audit events; quick: 50× fewer)
//   BENCH_PLANS=<file>            where the lists part writes the EXPLAIN plans of its SQL (default: in the temp dir)
//
// It makes its own database (migrated and seeded like the tests' template), starts a bare
// graphql-yoga hello world and the API (WORKER=false) and a worker as child processes, and
// loads them with autocannon at 32 connections. Ratios are to the hello world measured in
// the same run (before and after the Elevate metrics, averaged), so a busy machine shifts
// both sides alike. Each part is a module of its own beside this one.
import { cpus, loadavg } from "node:os";

const only = process.env.BENCH_ONLY ?? null;
// The bench's own databases, never a test run's: set before anything reads the test environment.
process.env.ELEVATE_TEST_RUN = `bench_${process.pid}`;

const { connections, loads, memoryRows, quick, rows } = await import("./common.ts");
const { benchHttp } = await import("./http.ts");
const { benchMail } = await import("./mail.ts");
const { benchExpiry } = await import("./expiry.ts");
const { benchMailflow } = await import("./mailflow.ts");
const { benchSubscriptions } = await import("./subscriptions.ts");
const { benchLists } = await import("./lists.ts");
const { createDb } = await import("../../src/db/client.ts");
const { createDatabase, dropDatabase } = await import("../../src/db/database.ts");
const { applyMigrations } = await import("../../src/db/schema-engine.ts");
const { seedDemo } = await import("../../prisma/seed.ts");
const { testAuditKeys } = await import("../helpers/audit-keys.ts");
const { prepareFabrikam, uniquePrefix } = await import("../helpers/jobs.ts");
const { serverUrl, workerDatabase, workerDatabaseUrl } = await import("../setup/test-env.ts");

const database = workerDatabase();
console.error(
  `npm run bench (${quick ? "quick" : "full"} mode), load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);
type Db = ReturnType<typeof createDb>;
type Fabrikam = Awaited<ReturnType<typeof prepareFabrikam>>;
const parts: [string, (db: Db, fabrikam: Fabrikam, queuePrefix: string) => Promise<void>][] = [
  ["http", benchHttp],
  ["mail", () => benchMail()],
  ["expiry", benchExpiry],
  ["mailflow", benchMailflow],
  ["subscriptions", benchSubscriptions],
  ["lists", benchLists],
];
let failed = false;
for (const [name, run] of parts) {
  if (only && only !== name) continue;
  // Each part on a database and queues of its own: what one leaves behind (100,000 pending
  // requests, mail still in the outbox, a million generated rows) must not load the next.
  await dropDatabase(serverUrl, database);
  await createDatabase(serverUrl, database);
  await applyMigrations(workerDatabaseUrl());
  const db = createDb(workerDatabaseUrl());
  try {
    await seedDemo({ db, auditKeys: testAuditKeys, effects: { dispatch: async () => {} } });
    // Control on, a MANUAL policy over the task the checks name.
    await run(db, await prepareFabrikam(db), uniquePrefix(`bench-${name}`));
  } catch (error) {
    failed = true;
    console.error(`${name}:`, error);
  } finally {
    await db.$disconnect();
    await dropDatabase(serverUrl, database);
  }
}
memoryRows();

const widths = [0, 0, 0].map((_, column) =>
  Math.max(
    ...rows.map((r) => [r.metric, r.goal, r.measured][column]!.length),
    ["metric", "goal", "measured"][column]!.length,
  ),
);
const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i] ?? 4)).join(" | ")} |`;
console.log(
  `\n${quick ? "Quick" : "Full"} mode, ${connections} connections, load average during the run ${loads.length ? `${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}` : "?"} (${cpus().length} cores)\n`,
);
console.log(line(["metric", "goal", "measured", "pass"]));
console.log(`|${[...widths, 4].map((w) => "-".repeat(w + 2)).join("|")}|`);
for (const r of rows)
  console.log(line([r.metric, r.goal, r.measured, r.pass === null ? "" : r.pass ? "pass" : "FAIL"]));
// The bench reports goals, it does not gate on them: only a broken run fails.
process.exit(failed ? 1 : 0);
