import pg from "pg";

export interface SentStatement {
  text: string;
  values: unknown[];
}

/**
 * The SQL statements any pg client of this process (Prisma's adapter included) sends while
 * `work` runs: how many, and each one's text and values (the bench EXPLAINs them).
 */
export async function statementsDuring<T>(
  work: () => Promise<T>,
): Promise<{ result: T; statements: number; sent: SentStatement[] }> {
  const query = pg.Client.prototype.query;
  const sent: SentStatement[] = [];
  pg.Client.prototype.query = function (this: unknown, ...args: unknown[]) {
    const [first, values] = args as [unknown, unknown];
    if (typeof first === "string") sent.push({ text: first, values: (values as unknown[] | undefined) ?? [] });
    else {
      const config = first as { text?: string; values?: unknown[] };
      sent.push({ text: String(config.text), values: config.values ?? [] });
    }
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query;
  try {
    const result = await work();
    return { result, statements: sent.length, sent };
  } finally {
    pg.Client.prototype.query = query;
  }
}
