import { withDatabase } from "../../src/db/database.ts";

/** The PostgreSQL server tests run against; TEST_DATABASE_URL overrides it. */
export const serverUrl = process.env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
export const redisUrl = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

// Set in the main vitest process by the global setup and inherited by its workers,
// so concurrent test runs on one machine never share databases.
process.env.ELEVATE_TEST_RUN ??= String(process.pid);
const run = process.env.ELEVATE_TEST_RUN;

export const templateDatabase = `elevate_test_${run}_template`;

export function workerDatabase(): string {
  return `elevate_test_${run}_w${process.env.VITEST_POOL_ID ?? "0"}`;
}

export function workerDatabaseUrl(): string {
  return withDatabase(serverUrl, workerDatabase());
}
