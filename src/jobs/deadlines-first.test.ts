import { afterEach, describe, expect, it, vi } from "vitest";
import { DeadlinesFirst } from "./deadlines-first.ts";

/** Work that finishes when the test says so. */
function controlled() {
  let finish = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  return { work: () => done, finish };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("deadlines first", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("lets follow-up work start at once when no deadline job runs", async () => {
    const lanes = new DeadlinesFirst(10_000);
    let started = false;
    const followUp = lanes.followUp().then(() => {
      started = true;
    });
    await settle();
    expect(started).toBe(true);
    await followUp;
  });

  it("holds follow-up work until every running deadline job has finished", async () => {
    const lanes = new DeadlinesFirst(10_000);
    const first = controlled();
    const second = controlled();
    const deadlines = [lanes.deadline(first.work), lanes.deadline(second.work)];
    let started = false;
    const followUp = lanes.followUp().then(() => {
      started = true;
    });
    first.finish();
    await settle();
    expect(started).toBe(false);
    second.finish();
    await settle();
    expect(started).toBe(true);
    await Promise.all([...deadlines, followUp]);
  });

  it("lets follow-up work go after its longest wait though deadline jobs keep running", async () => {
    vi.useFakeTimers();
    const lanes = new DeadlinesFirst(10_000);
    const endless = controlled();
    const deadline = lanes.deadline(endless.work);
    let started = false;
    const followUp = lanes.followUp().then(() => {
      started = true;
    });
    await vi.advanceTimersByTimeAsync(9_999);
    expect(started).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(started).toBe(true);
    endless.finish();
    await Promise.all([deadline, followUp]);
  });

  it("answers a deadline job's result and error as its own, and opens the lane after a failure", async () => {
    const lanes = new DeadlinesFirst(10_000);
    expect(await lanes.deadline(async () => "done")).toBe("done");
    await expect(
      lanes.deadline(async () => {
        throw new Error("database gone");
      }),
    ).rejects.toThrow("database gone");
    let started = false;
    await lanes.followUp().then(() => {
      started = true;
    });
    expect(started).toBe(true);
  });
});
