import type { Db } from "../../src/db/client.ts";

/**
 * Every table of the schema, by name, with its row count and a digest of its rows:
 * "nothing was written" compares two of these, so no table (mail, grants, catalog,
 * system accounts, tokens, webhooks, ...) and no updated column escapes. `except`
 * leaves out tables a case checks on its own (refused authorizeTask calls are logged).
 */
export async function databaseSnapshot(db: Db, except: string[] = []): Promise<Record<string, string>> {
  const tables = await db.$queryRaw<{ name: string }[]>`
    SELECT table_name AS name FROM information_schema.tables
    WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> '_prisma_migrations'
    ORDER BY table_name`;
  const snapshot: Record<string, string> = {};
  for (const { name } of tables) {
    if (except.includes(name)) continue;
    const quoted = `"${name.replaceAll('"', '""')}"`;
    const [row] = await db.$queryRawUnsafe<{ rows: bigint; digest: string | null }[]>(
      `SELECT count(*) AS rows, md5(string_agg(t::text, ',' ORDER BY t::text)) AS digest FROM ${quoted} t`,
    );
    snapshot[name] = `${row!.rows} ${row!.digest ?? "-"}`;
  }
  return snapshot;
}
