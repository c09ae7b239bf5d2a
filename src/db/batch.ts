/**
 * Gathers concurrent calls into one database statement. While `inFlight` statements
 * are on their way the next calls gather, so under load a batch holds what arrived
 * during a round trip, and a lone call goes at once. Each caller gets its own result,
 * or the batch's error; nothing is answered before the statement it rode in has finished.
 */
export function batched<I, O>(
  run: (items: I[]) => Promise<O[]>,
  {
    maxBatch,
    inFlight = 2,
    gatherTurn = false,
  }: {
    maxBatch: number;
    inFlight?: number;
    /**
     * Also gather the calls of one turn of the event loop before the first statement:
     * for callers that arrive together (one event fanned out to every open stream),
     * where a lone call going at once would split them into several statements.
     */
    gatherTurn?: boolean;
  },
): (item: I) => Promise<O> {
  let waiting: { item: I; resolve: (value: O) => void; reject: (error: unknown) => void }[] = [];
  let running = 0;
  let gathering = false;
  const next = (): void => {
    if (waiting.length === 0 || running >= inFlight || gathering) return;
    const batch = waiting.slice(0, maxBatch);
    waiting = waiting.slice(batch.length);
    running++;
    run(batch.map((entry) => entry.item))
      .then(
        (results) => {
          for (const [index, entry] of batch.entries()) entry.resolve(results[index]!);
        },
        (error: unknown) => {
          for (const entry of batch) entry.reject(error);
        },
      )
      .finally(() => {
        running--;
        next();
      });
  };
  return (item) =>
    new Promise<O>((resolve, reject) => {
      waiting.push({ item, resolve, reject });
      if (!gatherTurn) return next();
      if (gathering) return;
      gathering = true;
      setImmediate(() => {
        gathering = false;
        next();
      });
    });
}
