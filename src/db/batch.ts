/**
 * Gathers concurrent calls into one database statement. While one statement is on its
 * way the next calls gather, so under load a batch holds what arrived during one round
 * trip, and a lone call goes at once. Each caller gets its own result, or the batch's
 * error; nothing is answered before the statement it rode in has finished.
 */
export function batched<I, O>(run: (items: I[]) => Promise<O[]>, maxBatch: number): (item: I) => Promise<O> {
  let waiting: { item: I; resolve: (value: O) => void; reject: (error: unknown) => void }[] = [];
  let running = false;
  const next = (): void => {
    const batch = waiting.slice(0, maxBatch);
    waiting = waiting.slice(batch.length);
    if (batch.length === 0) {
      running = false;
      return;
    }
    running = true;
    run(batch.map((entry) => entry.item)).then(
      (results) => {
        batch.forEach((entry, index) => entry.resolve(results[index]!));
        next();
      },
      (error: unknown) => {
        for (const entry of batch) entry.reject(error);
        next();
      },
    );
  };
  return (item) =>
    new Promise<O>((resolve, reject) => {
      waiting.push({ item, resolve, reject });
      if (!running) next();
    });
}
