import { describe, expect, it } from "vitest";
import { batched } from "./batch.ts";

/** A statement that finishes when the test says so. */
function controlled() {
  const runs: { items: number[]; finish: (error?: Error) => void }[] = [];
  const run = (items: number[]) =>
    new Promise<string[]>((resolve, reject) => {
      runs.push({ items, finish: (error) => (error ? reject(error) : resolve(items.map((item) => `row ${item}`))) });
    });
  return { runs, run };
}

describe("batched statements", () => {
  it("sends a lone call at once and gathers the calls that arrive while it is on its way", async () => {
    const { runs, run } = controlled();
    const call = batched(run, { maxBatch: 10, inFlight: 1 });
    const first = call(1);
    const rest = [call(2), call(3), call(4)];
    expect(runs.map((r) => r.items)).toEqual([[1]]);
    runs[0]!.finish();
    expect(await first).toBe("row 1");
    await new Promise((resolve) => setImmediate(resolve));
    expect(runs.map((r) => r.items)).toEqual([[1], [2, 3, 4]]);
    runs[1]!.finish();
    expect(await Promise.all(rest)).toEqual(["row 2", "row 3", "row 4"]);
  });

  it("keeps batches within their size and fails only the callers of a failed statement", async () => {
    const { runs, run } = controlled();
    const call = batched(run, { maxBatch: 2, inFlight: 2 });
    const answers = [1, 2, 3, 4, 5].map((item) => call(item).catch((error: Error) => error.message));
    expect(runs.map((r) => r.items)).toEqual([[1], [2]]);
    runs[0]!.finish(new Error("connection lost"));
    await new Promise((resolve) => setImmediate(resolve));
    expect(runs.map((r) => r.items)).toEqual([[1], [2], [3, 4]]);
    runs[1]!.finish();
    await new Promise((resolve) => setImmediate(resolve));
    runs[2]!.finish();
    await new Promise((resolve) => setImmediate(resolve));
    runs[3]!.finish();
    expect(await Promise.all(answers)).toEqual(["connection lost", "row 2", "row 3", "row 4", "row 5"]);
  });

  it("with gatherTurn, sends the calls of one turn together, and those of a later turn in another statement", async () => {
    const { runs, run } = controlled();
    const call = batched(run, { maxBatch: 10, gatherTurn: true });
    const first = [call(1), call(2), call(3)];
    expect(runs).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(runs.map((r) => r.items)).toEqual([[1, 2, 3]]);
    const later = call(4);
    await new Promise((resolve) => setImmediate(resolve));
    expect(runs.map((r) => r.items)).toEqual([[1, 2, 3], [4]]);
    runs[0]!.finish();
    runs[1]!.finish();
    expect(await Promise.all([...first, later])).toEqual(["row 1", "row 2", "row 3", "row 4"]);
  });
});
