import { describe, expect, it } from "vitest";
import { parseScript } from "./agent-input";

function check(raw: Parameters<typeof parseScript>[0]) {
  const errors: string[] = [];
  const turns = parseScript(raw, errors);
  return { turns, errors };
}

describe("parseScript", () => {
  it("accepts JSON text and arrays of tool and final turns", () => {
    const text = '[{ "tool": "search", "args": { "q": "refund" }, "say": "Looking" }, { "final": "Done." }]';
    expect(check(text)).toEqual({
      turns: [{ tool: "search", args: { q: "refund" }, say: "Looking" }, { final: "Done." }],
      errors: [],
    });
    expect(check([{ tool: "noop" }]).turns).toEqual([{ tool: "noop", args: {} }]);
  });

  it("treats an empty script as none", () => {
    expect(check("  ")).toEqual({ turns: undefined, errors: [] });
    expect(check([])).toEqual({ turns: undefined, errors: [] });
    expect(check(undefined)).toEqual({ turns: undefined, errors: [] });
  });

  it("reports JSON syntax errors", () => {
    const { errors } = check("[{ tool: 1 }]");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^The script is not valid JSON/);
  });

  it("names the turn that is wrong and what is wrong with it", () => {
    const { turns, errors } = check([
      { final: "ok" },
      { tool: "x", final: "y" },
      { nothing: true },
      { tool: "", arg: {} },
      { final: 42 },
      "hello",
    ]);
    expect(turns).toBeUndefined();
    expect(errors).toEqual([
      'Turn 2: has both "tool" and "final"; a turn either calls a tool or answers.',
      'Turn 3: needs "tool" (a tool call) or "final" (the answer); found "nothing".',
      expect.stringMatching(/^Turn 4: /),
      expect.stringMatching(/^Turn 4: /),
      expect.stringMatching(/^Turn 5: "final" /),
      'Turn 6: must be an object with "tool" (a tool call) or "final" (the answer).',
    ]);
    expect(errors.join("\n")).toContain('unknown key "arg"');
  });

  it("refuses something that is not an array", () => {
    expect(check('{ "final": "x" }').errors[0]).toMatch(/must be a JSON array/);
  });
});
