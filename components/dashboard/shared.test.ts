import { describe, expect, it } from "vitest";
import { formatAge, formatBucketTick, formatBucketTitle, formatRate, formatTokens, formatUsdCompact, niceTicks, OTHER_COLOUR, outcomeRows, stackUsage, type UsageSeries } from "./shared";

const buckets = [new Date("2026-03-15T10:00:00Z"), new Date("2026-03-15T11:00:00Z")];

function series(label: string, costs: [number, number], tokens: [number, number] = [0, 0]): UsageSeries {
  return {
    id: label,
    label,
    detail: null,
    inputTokens: tokens[0] + tokens[1],
    outputTokens: 0,
    costMicros: costs[0] + costs[1],
    modelCalls: 1,
    points: [
      { costMicros: costs[0], tokens: tokens[0] },
      { costMicros: costs[1], tokens: tokens[1] },
    ],
  };
}

describe("stackUsage", () => {
  it("stacks each series by bucket, largest first, and drops series with nothing to show", () => {
    const { keys, rows, max } = stackUsage(buckets, [series("small", [1, 2]), series("big", [10, 20]), series("free", [0, 0], [5, 5])], "cost");
    expect(max).toBe(22);
    expect(keys.map((k) => [k.key, k.label, k.total])).toEqual([
      ["s0", "big", 30],
      ["s1", "small", 3],
    ]);
    expect(rows).toEqual([
      { start: buckets[0]!.getTime(), s0: 10, s1: 1 },
      { start: buckets[1]!.getTime(), s0: 20, s1: 2 },
    ]);
  });

  it("charts tokens with the same series when asked", () => {
    const { keys, rows } = stackUsage(buckets, [series("free", [0, 0], [5, 7])], "tokens");
    expect(keys).toEqual([{ key: "s0", label: "free", colour: "#6366f1", total: 12, seriesIds: ["free"] }]);
    expect(rows.map((row) => row.s0)).toEqual([5, 7]);
  });

  it("sums everything past the limit into Other, but never a single series", () => {
    const many = [series("a", [50, 0]), series("b", [40, 0]), series("c", [30, 0]), series("d", [2, 1])];
    const limited = stackUsage(buckets, many, "cost", 2);
    expect(limited.keys.map((k) => [k.label, k.total])).toEqual([
      ["a", 50],
      ["b", 40],
      ["Other (2)", 33],
    ]);
    expect(limited.keys[2]).toMatchObject({ colour: OTHER_COLOUR, seriesIds: ["c", "d"] });
    expect(limited.rows.map((row) => row.other)).toEqual([32, 1]);
    expect(stackUsage(buckets, many, "cost", 3).keys.map((k) => k.label)).toEqual(["a", "b", "c", "d"]);
  });
});

describe("outcomeRows", () => {
  it("makes one row per bucket, with zeros where a bucket has no outcomes", () => {
    const rows = outcomeRows(buckets, [{ succeeded: 3, failed: 1, halted: 0, cancelled: 0, inProgress: 2 }]);
    expect(rows).toEqual([
      { start: buckets[0]!.getTime(), succeeded: 3, failed: 1, halted: 0, cancelled: 0, inProgress: 2 },
      { start: buckets[1]!.getTime(), succeeded: 0, failed: 0, halted: 0, cancelled: 0, inProgress: 0 },
    ]);
  });
});

describe("formatting", () => {
  it("formats bucket ticks and titles in the org's time zone", () => {
    const start = new Date("2026-03-15T12:30:00Z");
    expect(formatBucketTick(start, "hour", "Asia/Kolkata")).toBe("18:00");
    expect(formatBucketTick(new Date("2026-03-14T23:00:00Z"), "day", "Europe/Berlin")).toBe("15 Mar");
    expect(formatBucketTitle(start, "hour", "UTC")).toBe("Sun 15 Mar, 12:30");
    expect(formatBucketTitle(start, "day", "UTC")).toBe("Sunday 15 March");
  });

  it("shortens tokens and dollars for axes", () => {
    expect([950, 12_345, 4_200_000, 1_000].map(formatTokens)).toEqual(["950", "12k", "4.2M", "1k"]);
    expect([0, 50_000, 1_500_000, 12_400_000, 1_234_000_000].map((micros) => formatUsdCompact(micros))).toEqual(["$0", "$0.05", "$1.50", "$12", "$1.2k"]);
    // Ticks half a cent apart need a third decimal, or $0.005 and $0.010 would both print as a cent.
    expect([0, 5_000, 10_000].map((micros) => formatUsdCompact(micros, 5_000))).toEqual(["$0", "$0.005", "$0.010"]);
    expect([20_000_000, 40_000_000].map((micros) => formatUsdCompact(micros, 20_000_000))).toEqual(["$20", "$40"]);
  });

  it("picks axis ticks in steps of 1, 2 or 5", () => {
    expect(niceTicks(260_000)).toEqual([0, 100_000, 200_000, 300_000]);
    expect(niceTicks(0.26)).toEqual([0, 0.1, 0.2, 0.3]);
    expect(niceTicks(12)).toEqual([0, 5, 10, 15]);
    expect(niceTicks(40)).toEqual([0, 10, 20, 30, 40]);
    expect(niceTicks(0)).toEqual([0, 1]);
  });

  it("formats rates and waiting times", () => {
    expect([null, 0, 1 / 12, 0.5, 2 / 3].map(formatRate)).toEqual(["—", "0 %", "8.3 %", "50 %", "67 %"]);
    const now = Date.parse("2026-03-15T12:00:00Z");
    const ago = (ms: number) => formatAge(new Date(now - ms), now);
    expect([ago(45_000), ago(12 * 60_000), ago(3 * 3_600_000 + 5 * 60_000), ago(3_600_000), ago(52 * 3_600_000)]).toEqual(["45 s", "12 min", "3 h 5 min", "1 h", "2 d 4 h"]);
  });
});
