import { describe, expect, it } from "vitest";
import { parseOtlpHeaders, spanIdForEvent, spanIdForRun, traceIdForRun } from "./otel";

describe("OTLP settings and ids", () => {
  it("reads OTEL_EXPORTER_OTLP_HEADERS as comma-separated key=value pairs with URL-encoded values", () => {
    expect(parseOtlpHeaders("api-key=abc%3D1, x-team = ops ,broken")).toEqual({ "api-key": "abc=1", "x-team": "ops" });
    expect(parseOtlpHeaders(undefined)).toEqual({});
  });

  it("derives the same valid ids for the same run every time, and different ones for different runs", () => {
    expect(traceIdForRun("run1")).toMatch(/^[0-9a-f]{32}$/);
    expect(spanIdForRun("run1")).toMatch(/^[0-9a-f]{16}$/);
    expect(traceIdForRun("run1")).toBe(traceIdForRun("run1"));
    expect(traceIdForRun("run1")).not.toBe(traceIdForRun("run2"));
    expect(spanIdForRun("x")).not.toBe(spanIdForEvent("x"));
  });
});
