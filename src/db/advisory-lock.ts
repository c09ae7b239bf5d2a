import type { Db } from "./client.ts";

/**
 * Runs `work` only if no other process is running it under the same name: a
 * transaction-scoped advisory lock, released on commit, rollback or a dead connection.
 * Returns `skipped` when another holder has it.
 */
export async function exclusively<T>(
  db: Db,
  name: string,
  maxMillis: number,
  work: () => Promise<T>,
): Promise<{ skipped: true } | { skipped: false; value: T }> {
  return db.$transaction(
    async (tx) => {
      const [lock] = await tx.$queryRaw<{ locked: boolean }[]>`
        SELECT pg_try_advisory_xact_lock(hashtext('elevate:exclusive'), hashtext(${name})) AS locked`;
      if (!lock?.locked) return { skipped: true as const };
      return { skipped: false as const, value: await work() };
    },
    { maxWait: 10_000, timeout: maxMillis },
  );
}
