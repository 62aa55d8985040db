import { describe, expect, it } from "vitest";
import { reciprocalRankFusion, RRF_K } from "./retrieval";

describe("reciprocalRankFusion", () => {
  it("scores each id by the sum of 1/(k + rank) over the lists it is in", () => {
    const fused = reciprocalRankFusion([
      ["a", "b", "c"],
      ["c", "d"],
    ]);
    const score = Object.fromEntries(fused.map((entry) => [entry.id, entry.score]));
    expect(score.a).toBeCloseTo(1 / (RRF_K + 1));
    expect(score.b).toBeCloseTo(1 / (RRF_K + 2));
    expect(score.c).toBeCloseTo(1 / (RRF_K + 3) + 1 / (RRF_K + 1));
    expect(score.d).toBeCloseTo(1 / (RRF_K + 2));
    // Found by both lists beats first in only one.
    expect(fused.map((entry) => entry.id)).toEqual(["c", "a", "b", "d"]);
  });

  it("breaks ties by first appearance, earlier lists first", () => {
    expect(reciprocalRankFusion([["x"], ["y"]]).map((entry) => entry.id)).toEqual(["x", "y"]);
    expect(reciprocalRankFusion([["y"], ["x"]]).map((entry) => entry.id)).toEqual(["y", "x"]);
  });

  it("handles empty lists and a custom k", () => {
    expect(reciprocalRankFusion([[], []])).toEqual([]);
    expect(reciprocalRankFusion([["a"], []], 0)).toEqual([{ id: "a", score: 1 }]);
  });
});
