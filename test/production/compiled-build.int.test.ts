import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { projectRoot } from "../../src/config/project-root.ts";
import { dropDatabase, withDatabase } from "../../src/db/database.ts";
import { uniquePrefix } from "../helpers/jobs.ts";
import { type ApiProcess, type NodeCommand, spawnApi, spawnWorker, type WorkerProcess } from "../helpers/processes.ts";
import { redisUrl, serverUrl, workerDatabase } from "../setup/test-env.ts";

// The compiled build, laid out as the Dockerfile's last stage lays it out (package.json,
// dist/, emails/, prisma/migrations/, prisma/guards.sql and production dependencies only), run with plain node.

const run = promisify(execFile);
const queuePrefix = uniquePrefix("compiled");
const keyFile = path.join(tmpdir(), `elevate-test-issuer-${queuePrefix}.json`);
// Empty at start, so the compiled API creates, migrates and seeds it from the files it finds.
const database = `${workerDatabase()}_compiled`;
const databaseUrl = withDatabase(serverUrl, database);

let root: string;
let api: ApiProcess | undefined;
let worker: WorkerProcess | undefined;

/**
 * node_modules holding only the packages `npm ci --omit=dev --omit=optional` installs, linked from
 * the project's, so an import of a dev dependency (tsx, vitest, ...) from the compiled code fails here.
 */
async function linkProductionDependencies(into: string): Promise<void> {
  const lock = JSON.parse(await readFile(path.join(projectRoot, "package-lock.json"), "utf8")) as {
    packages: Record<string, { dev?: boolean; optional?: boolean; devOptional?: boolean }>;
  };
  const topLevel = Object.entries(lock.packages).filter(
    ([key, entry]) =>
      /^node_modules\/(@[^/]+\/)?[^/]+$/.test(key) && !entry.dev && !entry.optional && !entry.devOptional,
  );
  for (const [key] of topLevel) {
    await mkdir(path.dirname(path.join(into, key)), { recursive: true });
    await symlink(path.join(projectRoot, key), path.join(into, key), "dir");
  }
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "elevate-build-"));
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  // The same configuration as `npm run build`; types are checked by `npm run typecheck`, not here.
  await run(process.execPath, [tsc, "-p", "tsconfig.build.json", "--noCheck", "--outDir", path.join(root, "dist")], {
    cwd: projectRoot,
  });
  await cp(path.join(projectRoot, "package.json"), path.join(root, "package.json"));
  await cp(path.join(projectRoot, "emails"), path.join(root, "emails"), { recursive: true });
  await cp(path.join(projectRoot, "prisma/migrations"), path.join(root, "prisma/migrations"), { recursive: true });
  await cp(path.join(projectRoot, "prisma/guards.sql"), path.join(root, "prisma/guards.sql"));
  await linkProductionDependencies(root);
}, 120_000);

afterAll(async () => {
  await Promise.all([api?.stop(), worker?.stop()]);
  await rm(root, { recursive: true, force: true });
  await rm(keyFile, { force: true });
  await dropDatabase(serverUrl, database);
});

const compiled = (entry: string): NodeCommand => ({ args: [path.join(root, "dist", entry)], cwd: root });

it("the compiled API migrates and seeds an empty database, answers /healthz, /readyz and GraphQL with a token from the compiled token script", async () => {
  await dropDatabase(serverUrl, database);
  api = await spawnApi({
    redisUrl,
    queuePrefix,
    devIssuerKeyFile: keyFile,
    command: compiled("src/main/server.js"),
    env: { DATABASE_URL: databaseUrl, SEED_DEMO: "true" },
  });

  const migrations = (await readdir(path.join(projectRoot, "prisma/migrations"), { withFileTypes: true }))
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  expect(api.logs.find((line) => line.msg === "applied migrations")?.applied).toEqual(migrations);
  expect(await (await fetch(`${api.url}/healthz`)).json()).toEqual({ status: "ok" });
  const ready = await fetch(`${api.url}/readyz`);
  expect(ready.status).toBe(200);
  expect(await ready.json()).toMatchObject({ status: "ready", checks: { database: "ok", redis: "ok" } });

  const { stdout: token } = await run(
    process.execPath,
    [path.join(root, "dist/scripts/token.js"), "--as", "requester@fabrikam.com"],
    { cwd: root, env: { PATH: process.env.PATH, DATABASE_URL: databaseUrl, DEV_ISSUER_KEY_FILE: keyFile } },
  );
  const response = await fetch(`${api.url}/graphql`, {
    method: "POST",
    headers: { authorization: `Bearer ${token.trim()}`, "content-type": "application/json" },
    body: JSON.stringify({ query: "{ me { email } }" }),
  });
  expect(await response.json()).toEqual({ data: { me: { email: "requester@fabrikam.com" } } });
});

it("the compiled worker serves /healthz and /readyz on its health port", async () => {
  worker = await spawnWorker({
    redisUrl,
    queuePrefix,
    command: compiled("src/main/worker.js"),
    env: { DATABASE_URL: databaseUrl },
  });
  expect(await (await fetch(`${worker.healthUrl}/healthz`)).json()).toEqual({ status: "ok" });
  const ready = await fetch(`${worker.healthUrl}/readyz`);
  expect(ready.status).toBe(200);
  expect(await ready.json()).toMatchObject({ status: "ready", checks: { database: "ok", redis: "ok" } });
  expect((await worker.stop()).code).toBe(0);
});
