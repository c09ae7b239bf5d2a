import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { projectRoot } from "../src/config/project-root.ts";

// `npm start` runs this first (prestart), and so does the test setup: it runs
// `npm run console:build` (codegen, then Vite into web/dist, which the API serves at /)
// only when the console's sources, the schema or the installed packages changed since
// the last build, so a fresh clone builds once and later starts cost a hash.

const outDir = path.join(projectRoot, "web/dist");
const stampFile = path.join(outDir, ".sources-hash");
const skipped = new Set(["dist", "gql", "node_modules"]);

function collect(dir: string, into: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (skipped.has(entry.name)) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) collect(full, into);
    else into.push(full);
  }
}

/** One hash over everything the build reads, so a fresh checkout or an edit is seen alike. */
function sourcesHash(): string {
  const files: string[] = [];
  collect(path.join(projectRoot, "web"), files);
  files.push(...["schema.graphql", "codegen.ts", "package-lock.json"].map((name) => path.join(projectRoot, name)));
  const hash = createHash("sha256");
  for (const file of files.sort()) {
    hash.update(path.relative(projectRoot, file));
    hash.update(readFileSync(file));
  }
  return hash.digest("hex");
}

export function buildConsoleIfStale(): "fresh" | "built" {
  const hash = sourcesHash();
  if (existsSync(stampFile) && readFileSync(stampFile, "utf8") === hash) return "fresh";
  execFileSync("npm", ["run", "--silent", "console:build", "--", "--logLevel", "warn"], {
    cwd: projectRoot,
    stdio: "inherit",
  });
  writeFileSync(stampFile, hash);
  return "built";
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const started = Date.now();
  if (buildConsoleIfStale() === "built")
    console.log(`Console built into web/dist in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
