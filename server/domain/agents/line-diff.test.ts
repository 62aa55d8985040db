import { describe, expect, it } from "vitest";
import { diffLines, diffStats, splitLines, type DiffLine } from "./line-diff";

/** Compact rendering: " x" equal, "-x" removed, "+x" added. */
const render = (lines: DiffLine[]) => lines.map((l) => (l.op === "equal" ? " " : l.op === "add" ? "+" : "-") + l.text);

/** Applying the diff must give back both texts exactly. */
function reconstruct(lines: DiffLine[]) {
  return {
    before: lines.filter((l) => l.op !== "add").map((l) => l.text).join("\n"),
    after: lines.filter((l) => l.op !== "remove").map((l) => l.text).join("\n"),
  };
}

describe("diffLines", () => {
  it("reports identical texts as all-equal lines", () => {
    expect(render(diffLines("a\nb", "a\nb"))).toEqual([" a", " b"]);
    expect(diffLines("", "")).toEqual([]);
  });

  it("shows a changed line as removed then added, in place", () => {
    expect(render(diffLines("a\nb\nc", "a\nB\nc"))).toEqual([" a", "-b", "+B", " c"]);
  });

  it("finds insertions and deletions in the middle without disturbing common lines", () => {
    expect(render(diffLines("one\ntwo\nthree\nfour", "one\nthree\nthree and a half\nfour"))).toEqual([
      " one",
      "-two",
      " three",
      "+three and a half",
      " four",
    ]);
  });

  it("handles texts that start or end empty", () => {
    expect(render(diffLines("", "x\ny"))).toEqual(["+x", "+y"]);
    expect(render(diffLines("x\ny", ""))).toEqual(["-x", "-y"]);
  });

  it("numbers old and new lines independently", () => {
    const lines = diffLines("a\nb\nc", "z\na\nc");
    expect(lines).toEqual([
      { op: "add", text: "z", newLine: 1 },
      { op: "equal", text: "a", oldLine: 1, newLine: 2 },
      { op: "remove", text: "b", oldLine: 2 },
      { op: "equal", text: "c", oldLine: 3, newLine: 3 },
    ]);
  });

  it("treats CRLF and LF line endings alike", () => {
    expect(render(diffLines("a\r\nb", "a\nb"))).toEqual([" a", " b"]);
    expect(splitLines("a\r\nb\rc")).toEqual(["a", "b", "c"]);
  });

  it("keeps a minimal diff on repeated lines and always reconstructs both sides", () => {
    const before = "x\ny\nx\ny\nx";
    const after = "y\nx\ny\nx\ny";
    const lines = diffLines(before, after);
    expect(reconstruct(lines)).toEqual({ before, after });
    expect(diffStats(lines)).toEqual({ added: 1, removed: 1 });
  });

  it("falls back to remove-all/add-all for huge rewrites instead of exhausting memory", () => {
    const before = Array.from({ length: 3000 }, (_, i) => `old ${i}`).join("\n");
    const after = Array.from({ length: 3000 }, (_, i) => `new ${i}`).join("\n");
    const lines = diffLines(`head\n${before}\ntail`, `head\n${after}\ntail`);
    expect(diffStats(lines)).toEqual({ added: 3000, removed: 3000 });
    expect(lines[0]).toMatchObject({ op: "equal", text: "head" });
    expect(lines.at(-1)).toEqual({ op: "equal", text: "tail", oldLine: 3002, newLine: 3002 });
  });

  it("reconstructs both sides of random edits", () => {
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let round = 0; round < 200; round += 1) {
      const a = Array.from({ length: rand(12) }, () => "abcd"[rand(4)]!).join("\n");
      const b = Array.from({ length: rand(12) }, () => "abcd"[rand(4)]!).join("\n");
      expect(reconstruct(diffLines(a, b))).toEqual({ before: a, after: b });
    }
  });
});
