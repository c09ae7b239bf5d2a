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
  return new PrismaClient({ adapter });
}

/** Transaction client type: what `db.$transaction(async (tx) => ...)` hands out. */
export type Tx = Parameters<Parameters<Db["$transaction"]>[0]>[0];
