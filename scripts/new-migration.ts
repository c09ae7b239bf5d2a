import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { diffDatamodels, latestSnapshot, migrationsDir, schemaPath, snapshotFile } from "../src/db/schema-engine.ts";
import { loadConfigOrExit } from "../src/main/load-config.ts";

// `npm run db:migration -- <name>`: writes the next migration offline by diffing
// the datamodel of the newest migration against prisma/schema.prisma.
const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error("usage: npm run db:migration -- <name>   (name: lowercase letters, digits, '_')");
  process.exit(2);
}

const sql = await diffDatamodels(
  loadConfigOrExit().database.url,
  await latestSnapshot(),
  await readFile(schemaPath, "utf8"),
);
if (!/^\s*(CREATE|ALTER|DROP)/im.test(sql)) {
  console.error("prisma/schema.prisma matches the newest migration; nothing to write");
  process.exit(1);
}
const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
const dir = path.join(migrationsDir, `${stamp}_${name}`);
await mkdir(dir, { recursive: true });
await writeFile(path.join(dir, "migration.sql"), sql);
await copyFile(schemaPath, path.join(dir, snapshotFile));
console.log(path.relative(process.cwd(), dir));
