import pg from "pg";
import { seedDemo } from "../../prisma/seed.ts";
import { buildConsoleIfStale } from "../../scripts/build-console.ts";
import { createDb } from "../../src/db/client.ts";
import { createDatabase, dropDatabase } from "../../src/db/database.ts";
import { applyMigrations } from "../../src/db/schema-engine.ts";
import { testAuditKeys } from "../helpers/audit-keys.ts";
import { serverUrl, templateDatabase } from "./test-env.ts";

// One migrated, seeded template per run; each test file clones it (test/setup/database.ts).
export default async function setup(): Promise<() => Promise<void>> {
  // The console tests drive the production build that the API serves.
  buildConsoleIfStale();
  await dropDatabase(serverUrl, templateDatabase);
  const url = await createDatabase(serverUrl, templateDatabase);
  await applyMigrations(url);
  // Two connections: the seed holds its lock on one while it registers on the other.
  const db = createDb(url, { max: 2 });
  await seedDemo({ db, auditKeys: testAuditKeys, effects: { dispatch: async () => {} } });
  await db.$disconnect();
  // CREATE DATABASE ... TEMPLATE needs the template to have no sessions left.
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", [templateDatabase]);
  await admin.end();
  return async () => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    const { rows } = await client.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE $1", [
      `elevate_test_${process.env.ELEVATE_TEST_RUN}_%`,
    ]);
    await client.end();
    for (const { datname } of rows) await dropDatabase(serverUrl, datname);
  };
}
