import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

// `npm run console:build` builds the console (web/) into web/dist, which the API serves
// at /. `npm start` runs it with --if-stale: it builds only when the console's sources,
// the schema or the installed packages changed since the last build.

const root = fileURLToPath(new URL("..", import.meta.url));
const outDir = path.join(root, "web/dist");
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
  collect(path.join(root, "web"), files);
  files.push(...["schema.graphql", "codegen.ts", "package-lock.json"].map((name) => path.join(root, name)));
  const hash = createHash("sha256");
  for (const file of files.sort()) {
    hash.update(path.relative(root, file));
    hash.update(readFileSync(file));
  }
  return hash.digest("hex");
}

export async function buildConsole({ ifStale = false } = {}): Promise<"fresh" | "built"> {
  const hash = sourcesHash();
  if (ifStale && existsSync(stampFile) && readFileSync(stampFile, "utf8") === hash) return "fresh";
  // The console's typed documents come from codegen (generated, not committed).
  execFileSync("npm", ["run", "--silent", "codegen"], { cwd: root, stdio: "inherit" });
  const { build } = await import("vite");
  await build({ configFile: path.join(root, "web/vite.config.ts"), logLevel: "warn" });
  writeFileSync(stampFile, hash);
  return "built";
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const started = Date.now();
  const result = await buildConsole({ ifStale: process.argv.includes("--if-stale") });
  if (result === "built") console.log(`Console built into web/dist in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
