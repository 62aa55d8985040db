import { describe, expect, it } from "vitest";
import { formatScript, prettyJson, readStoredConfig, storableConfig } from "./stored-config";

describe("stored agent configs", () => {
  it("prints a script one turn per line, keeping newlines inside strings escaped", () => {
    expect(formatScript([{ tool: "search", args: { q: "a\nb" } }, { final: "Done." }])).toBe(
      '[\n  { "tool": "search", "args": { "q": "a\\nb" } },\n  { "final": "Done." }\n]',
    );
    expect(formatScript([])).toBe("");
    expect(formatScript(undefined)).toBe("");
  });

  it("reads configs written before a field existed with its default, and unreadable ones as defaults", () => {
    expect(readStoredConfig({})).toEqual({
      readable: true,
      config: { limits: { maxSteps: 20, maxCostMicros: 0, timeoutMs: 600_000 }, memory: { recallEnabled: true, recallTopK: 5, remember: false, knowledge: false }, toolNames: [], submitDrafts: false, delegateAgentIds: [] },
    });
    expect(readStoredConfig({ limits: { maxSteps: "many" } }).readable).toBe(false);
  });

  it("stores no empty script and prints JSON with sorted keys", () => {
    const { config } = readStoredConfig({ script: [] });
    expect(storableConfig(config)).not.toHaveProperty("script");
    expect(prettyJson({ b: 1, a: { d: 2, c: 3 } })).toBe('{\n  "a": {\n    "c": 3,\n    "d": 2\n  },\n  "b": 1\n}');
  });
});
