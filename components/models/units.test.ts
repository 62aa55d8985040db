import { describe, expect, it } from "vitest";
import { formatDuration, formatPricePerMillion, formatTokens, microsToUsdText, secondsToMs, usdToMicros } from "./units";

describe("units", () => {
  it("turns dollars typed by people into integer micro-dollars and back", () => {
    expect(usdToMicros("0.15")).toBe(150_000);
    expect(usdToMicros("3")).toBe(3_000_000);
    expect(usdToMicros("$0.075")).toBe(75_000);
    expect(usdToMicros(" ")).toBe(0);
    expect(usdToMicros("abc")).toBeNaN();
    expect(microsToUsdText(150_000)).toBe("0.15");
  });

  it("converts seconds to milliseconds and formats durations", () => {
    expect(secondsToMs("1.5")).toBe(1500);
    expect(secondsToMs("")).toBeNaN();
    expect(formatDuration(600_000)).toBe("10 min");
    expect(formatDuration(5_400_000)).toBe("1 h 30 min");
    expect(formatDuration(45_000)).toBe("45 s");
  });

  it("formats prices and token counts for tables", () => {
    expect(formatPricePerMillion(75_000)).toBe("$0.075");
    expect(formatPricePerMillion(3_000_000)).toBe("$3.00");
    expect(formatTokens(128_000)).toBe("128k");
    expect(formatTokens(1_000_000)).toBe("1M");
    expect(formatTokens(8192)).toBe("8,192");
  });
});
