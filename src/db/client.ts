import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/prisma/client.ts";

export type Db = PrismaClient;
export * from "./generated/prisma/client.ts";

/** The one way to build a PrismaClient: driver adapter over node-postgres, no native engine. */
export function createDb(databaseUrl: string, options: { max?: number } = {}): Db {
  const adapter = new PrismaPg({
    connectionString: databaseUrl,
    max: options.max ?? 10,
  });
  // A burst (approvals of one organization queue on its audit-chain head) waits for a
  // connection instead of failing at Prisma's default 2 s wait; a stuck transaction is
  // still cut off.
  return new PrismaClient({ adapter, transactionOptions: { maxWait: 10_000, timeout: 15_000 } });
}

/** Transaction client type: what `db.$transaction(async (tx) => ...)` hands out. */
export type Tx = Parameters<Parameters<Db["$transaction"]>[0]>[0];
