import { describe, expect, it } from "vitest";
import { batchPerTurn, coalescePerTurn } from "./coalesce";

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe("coalescePerTurn", () => {
  it("shares one read among equal calls of one turn, reads again in the next, and keeps different arguments apart", async () => {
    const reads: string[] = [];
    const read = coalescePerTurn((org: string, id: string) => {
      reads.push(`${org}/${id}`);
      return Promise.resolve({ org, id });
    });
    const [a, b, c] = await Promise.all([read("o1", "x"), read("o1", "x"), read("o1", "y")]);
    expect(a).toBe(b);
    expect(c).toEqual({ org: "o1", id: "y" });
    expect(reads).toEqual(["o1/x", "o1/y"]);
    await read("o1", "x");
    expect(reads).toEqual(["o1/x", "o1/y", "o1/x"]);
  });

  it("reads only after the turn in which it was asked, so a change made in that turn is seen", async () => {
    let value = "before";
    const read = coalescePerTurn(() => Promise.resolve(value));
    const pending = read();
    value = "after";
    expect(await pending).toBe("after");
  });

  it("gives every caller of the turn the read's error, and the next turn a fresh try", async () => {
    let fail = true;
    const read = coalescePerTurn((key: string) => (fail ? Promise.reject(new Error(`no ${key}`)) : Promise.resolve(key)));
    const results = await Promise.allSettled([read("k"), read("k")]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    fail = false;
    expect(await read("k")).toBe("k");
  });
});

describe("batchPerTurn", () => {
  it("reads the keys asked in one turn with one call, giving each caller its own value", async () => {
    const calls: number[][] = [];
    const read = batchPerTurn((keys: number[]) => {
      calls.push(keys);
      return Promise.resolve(keys.map((key) => key * 10));
    });
    expect(await Promise.all([read(1), read(2), read(3)])).toEqual([10, 20, 30]);
    await nextTurn();
    expect(await read(4)).toBe(40);
    expect(calls).toEqual([[1, 2, 3], [4]]);
  });

  it("rejects every caller of a turn whose read failed", async () => {
    const read = batchPerTurn((): Promise<number[]> => Promise.reject(new Error("database down")));
    const results = await Promise.allSettled([read(1), read(2)]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
  });
});
