import pg from "pg";

/** The SQL statements any pg client of this process (Prisma's adapter included) sends while `work` runs. */
export async function statementsDuring<T>(work: () => Promise<T>): Promise<{ result: T; statements: number }> {
  const query = pg.Client.prototype.query;
  let statements = 0;
  pg.Client.prototype.query = function (this: unknown, ...args: unknown[]) {
    statements++;
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query;
  try {
    const result = await work();
    return { result, statements };
  } finally {
    pg.Client.prototype.query = query;
  }
}
