import { withDatabase } from "../../src/db/database.ts";

/** The PostgreSQL server tests run against; TEST_DATABASE_URL overrides it. */
export const serverUrl = process.env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
export const redisUrl = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
export const templateDatabase = "elevate_test_template";

export function workerDatabase(): string {
  return `elevate_test_w${process.env.VITEST_POOL_ID ?? "0"}`;
}

export function workerDatabaseUrl(): string {
  return withDatabase(serverUrl, workerDatabase());
}
