import { describe, expect, it } from "vitest";
import { createDb, type Db, queryPrepared } from "../../src/db/client.ts";
import { workerDatabaseUrl } from "../setup/test-env.ts";

const sum = { name: "elevate_test_sum", text: "SELECT $1::int + $2::int AS n" };

describe("queryPrepared", () => {
  it("prepares a statement once per connection, on the client's own pool, and answers each call", async () => {
    // One connection, so that Prisma's next statement sees the session the statement was prepared in.
    const db = createDb(workerDatabaseUrl(), { max: 1 });
    try {
      expect(await queryPrepared(db, sum, [1, 2])).toEqual([{ n: 3 }]);
      const prepared = () =>
        db.$queryRaw<{ name: string; calls: bigint }[]>`
          SELECT name, generic_plans + custom_plans AS calls FROM pg_prepared_statements WHERE name = ${sum.name}`;
      expect(await prepared()).toEqual([{ name: sum.name, calls: 1n }]);
      expect(await queryPrepared(db, sum, [40, 2])).toEqual([{ n: 42 }]);
      expect(await prepared()).toEqual([{ name: sum.name, calls: 2n }]);
    } finally {
      await db.$disconnect();
    }
  });

  it("refuses a client it did not make (a transaction's), rather than run outside the transaction", async () => {
    const db = createDb(workerDatabaseUrl(), { max: 2 });
    try {
      await expect(db.$transaction((tx) => queryPrepared(tx as unknown as Db, sum, [1, 1]))).rejects.toThrow(
        "queryPrepared takes a client made by createDb",
      );
    } finally {
      await db.$disconnect();
    }
  });
});
