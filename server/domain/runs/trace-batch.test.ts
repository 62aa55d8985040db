import { describe, expect, it } from "vitest";
import { WriteBatcher } from "./trace-batch";

interface Write {
  run: string;
  value: number;
}

/** A batcher over a fake statement that records each batch and answers when told to. */
function setup(options: { maxItems?: number; maxInFlight?: number; failWhen?: (items: Write[]) => Error | null } = {}) {
  const batches: Write[][] = [];
  const release: (() => void)[] = [];
  const batcher = new WriteBatcher<Write, number>(
    async (items) => {
      batches.push(items);
      await new Promise<void>((resolve) => release.push(resolve));
      const failure = options.failWhen?.(items) ?? null;
      if (failure) throw failure;
      return items.map((item) => (item.value < 0 ? new Error(`refused ${item.run}`) : item.value * 2));
    },
    { maxItems: options.maxItems ?? 10, maxInFlight: options.maxInFlight ?? 1, retryAlone: (error) => (error as { code?: string }).code === "22P05", keyOf: (item) => item.run },
  );
  const releaseAll = async () => {
    while (release.length > 0) release.shift()!();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { batcher, batches, releaseAll };
}

describe("WriteBatcher", () => {
  it("sends a lone write at once, and the writes made while it is out together when it returns", async () => {
    const { batcher, batches, releaseAll } = setup();
    const first = batcher.write({ run: "a", value: 1 });
    expect(batches).toEqual([[{ run: "a", value: 1 }]]);
    const later = [batcher.write({ run: "b", value: 2 }), batcher.write({ run: "c", value: 3 })];
    expect(batches).toHaveLength(1);
    await releaseAll();
    expect(await first).toBe(2);
    expect(batches[1]).toEqual([{ run: "b", value: 2 }, { run: "c", value: 3 }]);
    await releaseAll();
    expect(await Promise.all(later)).toEqual([4, 6]);
  });

  it("never puts two writes of one run in the same batch, and keeps each run's order", async () => {
    const { batcher, batches, releaseAll } = setup();
    void batcher.write({ run: "x", value: 0 });
    const pending = [batcher.write({ run: "a", value: 1 }), batcher.write({ run: "a", value: 2 }), batcher.write({ run: "b", value: 3 })];
    for (let i = 0; i < 4; i += 1) await releaseAll();
    await Promise.all(pending);
    expect(batches.slice(1).map((batch) => batch.map((item) => `${item.run}${item.value}`))).toEqual([["a1", "b3"], ["a2"]]);
  });

  it("rejects only the write its statement refused, and re-sends a rejected batch write by write", async () => {
    const bad = Object.assign(new Error("invalid input"), { code: "22P05" });
    const { batcher, batches, releaseAll } = setup({ failWhen: (items) => (items.length > 1 && items.some((item) => item.value === 99) ? bad : null) });
    void batcher.write({ run: "x", value: 0 });
    const results = Promise.allSettled([batcher.write({ run: "a", value: 1 }), batcher.write({ run: "b", value: -1 }), batcher.write({ run: "c", value: 99 })]);
    for (let i = 0; i < 4; i += 1) await releaseAll();
    const settled = await results;
    expect(settled.map((result) => result.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(batches.map((batch) => batch.length)).toEqual([1, 3, 1, 1, 1]);
  });

  it("gives every writer of a batch the error when its failure may have committed (no retry)", async () => {
    const lost = new Error("Connection terminated unexpectedly");
    const { batcher, batches, releaseAll } = setup({ failWhen: (items) => (items.length > 1 ? lost : null) });
    void batcher.write({ run: "x", value: 0 });
    const results = Promise.allSettled([batcher.write({ run: "a", value: 1 }), batcher.write({ run: "b", value: 2 })]);
    for (let i = 0; i < 3; i += 1) await releaseAll();
    expect((await results).map((result) => (result.status === "rejected" ? (result.reason as Error).message : "ok"))).toEqual([lost.message, lost.message]);
    expect(batches.map((batch) => batch.length)).toEqual([1, 2]);
  });
});
