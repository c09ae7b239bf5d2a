import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "./generated/prisma/client.ts";

export type Db = PrismaClient;
export * from "./generated/prisma/client.ts";

/** Each client's connection pool, for `queryPrepared`. */
const pools = new WeakMap<Db, pg.Pool>();

/**
 * The one way to build a PrismaClient: driver adapter over node-postgres, no native engine.
 * The pool is made here and lent to the adapter, which ends it at `$disconnect` (the
 * client is done then), so that the hottest statements can share it (`queryPrepared`).
 */
export function createDb(databaseUrl: string, options: { max?: number } = {}): Db {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: options.max ?? 10 });
  // An idle connection that breaks (PostgreSQL restarted, the connection cut) leaves the
  // pool, and the next query opens another; unheard, its error would end the process when
  // it broke before Prisma's adapter added its own listener (the pool's first use was ours).
  pool.on("error", () => {});
  const adapter = new PrismaPg(pool, { disposeExternalPool: true });
  // A burst (approvals of one organization queue on its audit-chain head) waits for a
  // connection instead of failing at Prisma's default 2 s wait; a stuck transaction is
  // still cut off.
  const db = new PrismaClient({ adapter, transactionOptions: { maxWait: 10_000, timeout: 15_000 } });
  pools.set(db, pool);
  return db;
}

/** A statement of fixed text that each connection parses and plans once, under its name. */
export interface PreparedStatement {
  name: string;
  text: string;
}

/**
 * Runs a prepared statement on `db`'s pool. Prisma sends every statement unnamed, to be
 * parsed and planned again each time, and spends as much in the client turning it into
 * one; for a statement sent on every authorizeTask call (the execution log) that was
 * the API's largest cost after GraphQL itself (docs/benchmarks.md). Only for such hot
 * statements: Prisma stays the one way to everything else.
 */
export async function queryPrepared<R extends pg.QueryResultRow>(
  db: Db,
  statement: PreparedStatement,
  values: unknown[],
): Promise<R[]> {
  const pool = pools.get(db);
  if (!pool) throw new Error("queryPrepared takes a client made by createDb, not a transaction's");
  return (await pool.query<R>({ ...statement, values })).rows;
}

/** Transaction client type: what `db.$transaction(async (tx) => ...)` hands out. */
export type Tx = Parameters<Parameters<Db["$transaction"]>[0]>[0];
