import { readdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { PrismaPg } from "@prisma/adapter-pg";
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from "@prisma/driver-adapter-utils";
import type { MigrationList, SchemaEngine } from "@prisma/schema-engine-wasm";
import * as bg from "@prisma/schema-engine-wasm/schema_engine_bg";
import pg from "pg";
import { projectRoot } from "../config/project-root.ts";
import { withDatabase } from "./database.ts";

// Prisma's CLI needs a native schema engine downloaded from outside the npm
// registry; its WebAssembly build on npm does the same work (diff, apply) through
// a driver adapter. The package's main entry imports the .wasm as an ES module,
// which Node 20 only allows behind a flag, so we instantiate it by hand.
let wasmReady: Promise<void> | undefined;

function loadWasm(): Promise<void> {
  wasmReady ??= (async () => {
    const require = createRequire(import.meta.url);
    const dir = path.dirname(require.resolve("@prisma/schema-engine-wasm/schema_engine_bg"));
    const bytes = await readFile(path.join(dir, "schema_engine_bg.wasm"));
    const { instance } = await WebAssembly.instantiate(bytes, {
      "./schema_engine_bg.js": bg,
    });
    const exports = instance.exports as WebAssembly.Exports & {
      __wbindgen_start(): void;
    };
    bg.__wbg_set_wasm(exports);
    exports.__wbindgen_start();
  })();
  return wasmReady;
}

export const schemaPath = path.join(projectRoot, "prisma/schema.prisma");
export const guardsPath = path.join(projectRoot, "prisma/guards.sql");
export const migrationsDir = path.join(projectRoot, "prisma/migrations");

const noFilters = { externalTables: [], externalEnums: [] };

export interface OpenSchemaEngine {
  engine: SchemaEngine;
  /** Frees the engine and closes its connections, releasing its advisory locks. */
  close(): Promise<void>;
}

export async function openSchemaEngine(databaseUrl: string): Promise<OpenSchemaEngine> {
  await loadWasm();
  const pg = new PrismaPg({ connectionString: databaseUrl });
  // The engine does not close what it connects; keep the adapters to dispose of them.
  const opened: SqlDriverAdapter[] = [];
  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: pg.provider,
    adapterName: pg.adapterName,
    connect: async () => {
      const adapter = await pg.connect();
      opened.push(adapter);
      return adapter;
    },
    connectToShadowDb: async () => {
      const adapter = await pg.connectToShadowDb();
      opened.push(adapter);
      return adapter;
    },
  };
  const engine = (await bg.SchemaEngine.new(
    { datamodels: undefined },
    () => {},
    bindMigrationAwareSqlAdapterFactory(factory),
  )) as SchemaEngine;
  return {
    engine,
    close: async () => {
      engine.free();
      await Promise.all(opened.map((adapter) => adapter.dispose()));
    },
  };
}

export async function readMigrationList(dir = migrationsDir): Promise<MigrationList> {
  const names = (await readdir(dir, { withFileTypes: true }).catch(() => []))
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  const lockPath = path.join(dir, "migration_lock.toml");
  return {
    baseDir: dir,
    lockfile: {
      path: "migration_lock.toml",
      content: await readFile(lockPath, "utf8").catch(() => null),
    },
    shadowDbInitScript: "",
    migrationDirectories: await Promise.all(
      names.map(async (name) => ({
        path: name,
        migrationFile: {
          path: "migration.sql",
          content: await readFile(path.join(dir, name, "migration.sql"), "utf8").then(
            (value) => ({ tag: "ok" as const, value }),
            (error: Error) => ({ tag: "error" as const, value: error.message }),
          ),
        },
      })),
    ),
  };
}

/** Applies prisma/migrations, keeping the same `_prisma_migrations` table as `prisma migrate deploy`. */
export async function applyMigrations(databaseUrl: string): Promise<string[]> {
  const { engine, close } = await openSchemaEngine(databaseUrl);
  let applied: string[];
  try {
    const result = await engine.applyMigrations({
      migrationsList: await readMigrationList(),
      filters: noFilters,
    });
    applied = result.appliedMigrationNames;
  } finally {
    await close();
  }
  await applyGuards(databaseUrl);
  return applied;
}

/**
 * prisma/guards.sql: triggers and functions, run as one script by PostgreSQL itself.
 * Instances of a scaled-out deployment start together; two concurrent
 * `CREATE OR REPLACE FUNCTION`s of one function fail with "tuple concurrently
 * updated", so the script runs in one transaction behind an advisory lock.
 */
async function applyGuards(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock(hashtext('elevate:guards'))");
    await client.query(await readFile(guardsPath, "utf8"));
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    await client.end();
  }
}

/**
 * SQL that turns the schema described by datamodel `from` (or an empty
 * database) into `to`. Diffing datamodels, not a live database: the engine's
 * introspection cannot read PostgreSQL's catalog through the driver adapter.
 */
export async function diffDatamodels(databaseUrl: string, from: string | null, to: string): Promise<string> {
  // The engine wants a connection even for a pure diff; the maintenance database always exists.
  const { engine, close } = await openSchemaEngine(withDatabase(databaseUrl, "postgres"));
  try {
    const target = (content: string) => ({
      tag: "schemaDatamodel" as const,
      files: [{ path: "schema.prisma", content }],
    });
    const result = await engine.diff({
      from: from === null ? { tag: "empty" } : target(from),
      to: target(to),
      script: true,
      exitCode: null,
      filters: noFilters,
    });
    return result.stdout ?? "";
  } finally {
    await close();
  }
}

/** File kept beside each migration.sql: the datamodel the migration leads to. */
export const snapshotFile = "schema.prisma";

/** The datamodel after the newest migration, or null when there is none. */
export async function latestSnapshot(dir = migrationsDir): Promise<string | null> {
  const { migrationDirectories } = await readMigrationList(dir);
  const last = migrationDirectories.at(-1);
  return last ? readFile(path.join(dir, last.path, snapshotFile), "utf8") : null;
}
