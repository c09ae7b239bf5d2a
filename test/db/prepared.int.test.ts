import pg from "pg";
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

  it("opens another connection when its idle one was cut, even before Prisma used the pool", async () => {
    const db = createDb(workerDatabaseUrl(), { max: 1 });
    const admin = new pg.Client({ connectionString: workerDatabaseUrl() });
    await admin.connect();
    try {
      const pid = { name: "elevate_test_pid", text: "SELECT pg_backend_pid() AS pid" };
      const [first] = await queryPrepared<{ pid: number }>(db, pid, []);
      await admin.query("SELECT pg_terminate_backend($1)", [first!.pid]);
      // The idle connection hears that it was cut; the process must outlive that.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const [second] = await queryPrepared<{ pid: number }>(db, pid, []);
      expect(second!.pid).not.toBe(first!.pid);
      expect(await queryPrepared(db, sum, [2, 2])).toEqual([{ n: 4 }]);
    } finally {
      await admin.end();
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
