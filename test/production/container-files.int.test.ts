import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { projectRoot } from "../../src/config/project-root.ts";

// No Docker engine in CI: these read what `docker build` and `docker compose up` would.

const read = (file: string) => readFile(path.join(projectRoot, file), "utf8");

interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  volumes?: (string | { source?: string; target?: string })[];
  environment?: Record<string, string>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  depends_on?: Record<string, { condition?: string }>;
}

async function compose(): Promise<Record<string, Service>> {
  return (parse(await read("docker-compose.yml")) as { services: Record<string, Service> }).services;
}

const words = (value: string | string[] | undefined) => (Array.isArray(value) ? value.join(" ") : (value ?? ""));

interface Instruction {
  keyword: string;
  args: string;
}

/** The Dockerfile's instructions per stage, continuation lines joined, comments dropped. */
async function dockerfileStages(): Promise<Instruction[][]> {
  const lines = (await read("Dockerfile"))
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  const stages: Instruction[][] = [];
  for (const line of lines) {
    const [keyword = "", ...rest] = line.split(/\s+/);
    const instruction = { keyword: keyword.toUpperCase(), args: rest.join(" ") };
    if (instruction.keyword === "FROM") stages.push([]);
    stages.at(-1)?.push(instruction);
  }
  return stages;
}

const argsOf = (stage: Instruction[], keyword: string) =>
  stage.filter((instruction) => instruction.keyword === keyword).map((instruction) => instruction.args);

describe("docker-compose.yml", () => {
  it("runs postgres, redis, mailpit, api and worker", async () => {
    expect(Object.keys(await compose()).sort()).toEqual(["api", "mailpit", "postgres", "redis", "worker"]);
  });

  it("keeps Redis jobs across restarts and never evicts them", async () => {
    const command = words((await compose()).redis?.command);
    expect(command).toMatch(/--appendonly yes/);
    expect(command).toMatch(/--maxmemory-policy noeviction/);
  });

  it.each(["api", "worker"])(
    "%s is built from the Dockerfile, installs nothing at start and mounts no source",
    async (name) => {
      const service = (await compose())[name]!;
      const build = typeof service.build === "string" ? { context: service.build } : service.build;
      expect(build?.context).toBe(".");
      expect(build?.dockerfile ?? "Dockerfile").toBe("Dockerfile");
      expect(service.image ?? "").not.toMatch(/^node(:|$)/);
      expect(`${words(service.entrypoint)} ${words(service.command)}`).not.toMatch(/npm (ci|install|i)\b|tsx/);
      const mounts = (service.volumes ?? []).map((volume) =>
        typeof volume === "string" ? volume : `${volume.source}`,
      );
      expect(mounts.filter((mount) => mount.startsWith("."))).toEqual([]);
    },
  );

  it("checks the health of every service the others wait for, the worker on its own port", async () => {
    const services = await compose();
    for (const name of ["postgres", "redis", "api", "worker"]) {
      expect(services[name]?.healthcheck?.disable, name).not.toBe(true);
      expect(words(services[name]?.healthcheck?.test), name).not.toBe("");
    }
    expect(words(services.api?.healthcheck?.test)).toMatch(/127\.0\.0\.1:4000\/healthz/);
    expect(words(services.worker?.healthcheck?.test)).toMatch(/127\.0\.0\.1:4001\/healthz/);
    expect(services.worker?.environment?.WORKER_HEALTH_PORT).toBe("4001");
    expect(services.api?.environment?.WORKER).toBe("false");
    expect(services.worker?.depends_on?.api?.condition).toBe("service_healthy");
  });

  it("runs the compiled worker that npm run worker:prod runs", async () => {
    const scripts = (JSON.parse(await read("package.json")) as { scripts: Record<string, string> }).scripts;
    expect(words((await compose()).worker?.command)).toBe(scripts["worker:prod"]);
  });
});

describe("Dockerfile", () => {
  it("builds in one stage and runs in another", async () => {
    const stages = await dockerfileStages();
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const final = stages.at(-1)!;
    expect(argsOf(final, "COPY").some((args) => /--from=\S+.*\/dist\b/.test(args))).toBe(true);
  });

  it("runs on the Node.js major that CI tests the current LTS line with", async () => {
    const stages = await dockerfileStages();
    const majors = stages.map((stage) => /^node:(\d+)-slim\b/.exec(argsOf(stage, "FROM")[0] ?? "")?.[1]);
    const ciMajor = /^lts_major=(\d+)$/m.exec(await read(".ci/run"))?.[1];
    expect(ciMajor).toBeDefined();
    expect(majors).toEqual(stages.map(() => ciMajor));
  });

  it("runs the compiled server as a non-root user in production mode, with production dependencies only", async () => {
    const stages = await dockerfileStages();
    const final = stages.at(-1)!;
    const user = argsOf(final, "USER").at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(argsOf(final, "ENV").some((args) => /\bNODE_ENV[= ]production\b/.test(args))).toBe(true);
    // The allocator settings the memory measurements were made with (docs/benchmarks.md).
    expect(argsOf(final, "ENV").join(" ")).toMatch(/\bMALLOC_ARENA_MAX=2\b.*\bMALLOC_TRIM_THRESHOLD_=131072\b/);
    expect(words(argsOf(final, "CMD"))).toMatch(/"node",\s*"dist\/src\/main\/server\.js"/);
    const runtimeInstall = stages
      .flatMap((stage) => argsOf(stage, "RUN"))
      .filter((args) => /npm ci\b/.test(args) && /--omit=dev\b/.test(args));
    expect(runtimeInstall).toHaveLength(1);
    expect(runtimeInstall[0]).toMatch(/--ignore-scripts/);
    expect(stages.flatMap((stage) => argsOf(stage, "RUN")).join("\n")).not.toMatch(/\btsx\b/);
  });

  it("has a HEALTHCHECK that asks /healthz with node (no curl in the slim image)", async () => {
    const final = (await dockerfileStages()).at(-1)!;
    const [healthcheck] = argsOf(final, "HEALTHCHECK");
    expect(healthcheck).toMatch(/CMD \["node", "-e", .*\/healthz/);
  });

  it("is built from a context that leaves out node_modules, dist, secrets and tests", async () => {
    const patterns = (await read(".dockerignore"))
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line !== "" && !line.startsWith("#"));
    // Everything is left out first; only what the build reads is let back in.
    expect(patterns[0]).toBe("*");
    const allowed = patterns.filter((pattern) => pattern.startsWith("!"));
    for (const secretOrBulk of ["!node_modules", "!dist", "!.env", "!.elevate", "!test", "!.git"]) {
      expect(allowed).not.toContain(secretOrBulk);
    }
  });
});
