import { describe, expect, it } from "vitest";
import { argErrorsOf, canonicalJson, diffLines, formatSpan, prettyJson, schemaFields, wasEdited } from "./shared";

describe("approval helpers", () => {
  it("diffs pretty-printed arguments line by line", () => {
    const lines = diffLines(prettyJson({ orderId: "1001", amountUsd: 250 }), prettyJson({ orderId: "1001", amountUsd: 200 }));
    expect(lines.filter((l) => l.op !== "equal").map((l) => `${l.op} ${l.text.trim()}`)).toEqual(['remove "amountUsd": 250', 'add "amountUsd": 200']);
    expect(diffLines("a\nb", "a\nb").every((l) => l.op === "equal")).toBe(true);
  });

  it("compares arguments by content, not key order", () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: 3 } })).toBe(canonicalJson({ a: { c: 3, d: 2 }, b: 1 }));
    expect(wasEdited({ status: "APPROVED", args: { a: 1, b: 2 }, decidedArgs: { b: 2, a: 1 } })).toBe(false);
    expect(wasEdited({ status: "APPROVED", args: { a: 1 }, decidedArgs: { a: 2 } })).toBe(true);
    expect(wasEdited({ status: "REJECTED", args: { a: 1 }, decidedArgs: null })).toBe(false);
  });

  it("reads a tool's JSON Schema into parameters with types, descriptions and constraints", () => {
    const fields = schemaFields({
      type: "object",
      properties: {
        orderId: { type: "string", minLength: 1, description: "The order number" },
        amountUsd: { type: "number", exclusiveMinimum: 0 },
        tags: { type: "array", items: { type: "string" } },
      },
      required: ["orderId", "amountUsd"],
    });
    expect(fields).toEqual([
      { name: "orderId", type: "string", required: true, description: "The order number", constraints: ["not empty"] },
      { name: "amountUsd", type: "number", required: true, description: null, constraints: ["> 0"] },
      { name: "tags", type: "string[]", required: false, description: null, constraints: [] },
    ]);
    expect(schemaFields(null)).toEqual([]);
  });

  it("words spans and picks argument errors out of a server's field errors", () => {
    expect(formatSpan(5_000)).toBe("a few seconds");
    expect(formatSpan(3 * 60_000 + 20_000)).toBe("3 min");
    expect(formatSpan(125 * 60_000)).toBe("2 h 5 min");
    expect(argErrorsOf({ "args.amountUsd": ["Must be more than 0."], comment: ["x"], args: ["Must be an object."] })).toEqual([
      { field: "amountUsd", messages: ["Must be more than 0."] },
      { field: "", messages: ["Must be an object."] },
    ]);
  });
});
