import { readFile } from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { withScratchDatabase } from "../src/db/database.ts";
import { applyMigrations, diffDatamodels, latestSnapshot, migrationsDir, schemaPath } from "../src/db/schema-engine.ts";
import { serverUrl } from "./setup/test-env.ts";

/** Everything about a database's public schema that a migration can change. */
async function describeSchema(url: string): Promise<Record<string, string[]>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const rows = async (sql: string) => (await client.query<{ line: string }>(sql)).rows.map((row) => row.line);
    return {
      columns: await rows(`
        SELECT concat_ws(' ', table_name, column_name, udt_name, is_nullable, coalesce(column_default, '-')) AS line
        FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'
        ORDER BY 1`),
      indexes: await rows(`
        SELECT indexdef AS line FROM pg_indexes
        WHERE schemaname = 'public' AND tablename <> '_prisma_migrations' ORDER BY 1`),
      constraints: await rows(`
        SELECT concat_ws(' ', c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)) AS line
        FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
        WHERE n.nspname = 'public' AND c.conrelid::regclass::text <> '_prisma_migrations' ORDER BY 1`),
      enums: await rows(`
        SELECT concat_ws(' ', t.typname, string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)) AS line
        FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY t.typname ORDER BY 1`),
    };
  } finally {
    await client.end();
  }
}

describe("migrations", () => {
  it("produce exactly the schema described by prisma/schema.prisma", async () => {
    const datamodel = await readFile(schemaPath, "utf8");
    const migrated = await withScratchDatabase(serverUrl, async (url) => {
      await applyMigrations(url);
      return describeSchema(url);
    });
    const expected = await withScratchDatabase(serverUrl, async (url) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(await diffDatamodels(url, null, datamodel));
      await client.end();
      return describeSchema(url);
    });
    expect(migrated.columns?.length).toBeGreaterThan(50);
    expect(migrated).toEqual(expected);
  });

  it("leave nothing for `npm run db:migration` to write", async () => {
    const sql = await diffDatamodels(serverUrl, await latestSnapshot(), await readFile(schemaPath, "utf8"));
    expect(sql).not.toMatch(/CREATE|ALTER|DROP/);
  });

  it("apply once: a second run applies nothing and keeps Prisma's bookkeeping", async () => {
    await withScratchDatabase(serverUrl, async (url) => {
      const first = await applyMigrations(url);
      expect(first.length).toBeGreaterThan(0);
      expect(await applyMigrations(url)).toEqual([]);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const { rows } = await client.query(
        `SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL ORDER BY migration_name`,
      );
      await client.end();
      expect(rows.map((row) => row.migration_name)).toEqual(first);
    });
  });

  it("apply from several instances starting at once (a scaled-out deployment)", async () => {
    await withScratchDatabase(serverUrl, async (url) => {
      await applyMigrations(url);
      const runs = await Promise.allSettled(Array.from({ length: 6 }, () => applyMigrations(url)));
      expect(runs.filter((run) => run.status === "rejected")).toEqual([]);
    });
  });

  it("apply again beside running instances without locking the audit tables, and restore a disabled guard", async () => {
    await withScratchDatabase(serverUrl, async (url) => {
      await applyMigrations(url);
      const running = new pg.Client({ connectionString: url });
      await running.connect();
      try {
        // An instance's open transaction over the audit tables: a lock the restart asked
        // for would wait for it (and deadlocked with its appends), so the restart must not ask.
        await running.query("BEGIN");
        await running.query('LOCK TABLE "AuditEvent", "TaskExecution", "AuditCheckpoint" IN ACCESS SHARE MODE');
        await applyMigrations(url);
        await running.query("ROLLBACK");

        await running.query('ALTER TABLE "AuditEvent" DISABLE TRIGGER "AuditEvent_append_only"');
        await applyMigrations(url);
        const guards = await running.query<{ tgname: string; tgenabled: string }>(
          `SELECT tgname, tgenabled FROM pg_trigger WHERE tgname LIKE '%\\_append\\_only' OR tgname LIKE '%\\_no\\_truncate' ORDER BY 1`,
        );
        expect(guards.rows).toHaveLength(6);
        expect(guards.rows.every((row) => row.tgenabled === "O")).toBe(true);
      } finally {
        await running.end();
      }
    });
  });

  it("give the audit events written before chainAt their chain's latest time so far, and keep the guard on", async () => {
    const migration = await readFile(
      path.join(migrationsDir, "20261127084559_audit_chain_at", "migration.sql"),
      "utf8",
    );
    await withScratchDatabase(serverUrl, async (url) => {
      await applyMigrations(url);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        // The schema before the migration, with events written then: out of their clocks'
        // order within one chain, and a second chain beside it.
        await client.query(`ALTER TABLE "AuditEvent" DROP COLUMN "chainAt"`);
        const { rows: orgs } = await client.query<{ id: string }>(
          `INSERT INTO "Organization" (id, "tenantId", name) VALUES
             (gen_random_uuid(), 'a', 'A'), (gen_random_uuid(), 'b', 'B') RETURNING id`,
        );
        const events: [string, number, string][] = [
          [orgs[0]!.id, 1, "2026-01-01T10:00:00Z"],
          [orgs[0]!.id, 2, "2026-01-01T09:00:00Z"],
          [orgs[0]!.id, 3, "2026-01-01T11:00:00Z"],
          [orgs[1]!.id, 1, "2026-01-01T08:00:00Z"],
        ];
        for (const [organizationId, sequence, at] of events) {
          await client.query(
            `INSERT INTO "AuditEvent" (id, "organizationId", sequence, at, action, details, "prevHash", hash)
             VALUES (gen_random_uuid(), $1, $2, $3, 'Set-ElevatedAccessApprovalPolicy', '{}', '', '')`,
            [organizationId, sequence, at],
          );
        }
        // As the schema engine runs it: statement by statement (it has no function bodies).
        for (const statement of migration.split(/;\s*\n/).filter((text) => text.replace(/--.*$/gm, "").trim())) {
          await client.query(statement);
        }
        const { rows } = await client.query<{ org: number; sequence: number; chainAt: Date }>(
          `SELECT CASE "organizationId" WHEN $1 THEN 0 ELSE 1 END AS org, sequence, "chainAt"
           FROM "AuditEvent" ORDER BY 1, 2`,
          [orgs[0]!.id],
        );
        expect(rows.map((row) => [row.org, row.sequence, row.chainAt.toISOString()])).toEqual([
          [0, 1, "2026-01-01T10:00:00.000Z"],
          [0, 2, "2026-01-01T10:00:00.000Z"],
          [0, 3, "2026-01-01T11:00:00.000Z"],
          [1, 1, "2026-01-01T08:00:00.000Z"],
        ]);
        await expect(client.query(`UPDATE "AuditEvent" SET action = 'x'`)).rejects.toThrow(/append-only/);
      } finally {
        await client.end();
      }
    });
  });
});
