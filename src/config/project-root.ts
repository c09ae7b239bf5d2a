import { existsSync } from "node:fs";
import path from "node:path";

/**
 * The folder with package.json, emails/ and prisma/migrations. Found by walking up, not by a fixed
 * number of `..`, because the code runs from src/ (tsx) and compiled from dist/src/ alike.
 */
function findProjectRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "package.json"))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json in ${from} or above it`);
  }
}

export const projectRoot = findProjectRoot(import.meta.dirname);
