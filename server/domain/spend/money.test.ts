import { describe, expect, it } from "vitest";
import { microsToUsdText, parseUsdToMicros } from "./money";

const micros = (value: number | string) => {
  const result = parseUsdToMicros(value);
  if (!result.ok) throw new Error(`expected ${String(value)} to parse, got: ${result.message}`);
  return result.micros;
};
const refusal = (value: number | string) => {
  const result = parseUsdToMicros(value);
  if (result.ok) throw new Error(`expected ${String(value)} to be refused, got ${result.micros}`);
  return result.message;
};

describe("parseUsdToMicros", () => {
  it("converts dollars to micro-dollars exactly", () => {
    expect(micros(5)).toBe(5_000_000);
    expect(micros("5")).toBe(5_000_000);
    expect(micros("25.50")).toBe(25_500_000);
    expect(micros(0.000001)).toBe(1);
    expect(micros("0.000001")).toBe(1);
    expect(micros(1e-6)).toBe(1);
    expect(micros("1e-6")).toBe(1);
    expect(micros(" $12.34 ")).toBe(12_340_000);
    expect(micros(".5")).toBe(500_000);
    expect(micros("7.")).toBe(7_000_000);
    // Floating point would round these; decimal parsing does not.
    expect(micros(1.005)).toBe(1_005_000);
    expect(micros(4.35)).toBe(4_350_000);
    expect(micros("0.29")).toBe(290_000);
    expect(micros(123456.789012)).toBe(123_456_789_012);
    expect(micros("1000000000")).toBe(1_000_000_000_000_000);
  });

  it("accepts trailing zeros beyond six decimals, since they change nothing", () => {
    expect(micros("2.500000000")).toBe(2_500_000);
  });

  it("refuses more than six decimals instead of rounding", () => {
    expect(refusal(0.0000001)).toMatch(/at most 6 decimal places/);
    expect(refusal("0.0000015")).toMatch(/at most 6 decimal places/);
    expect(refusal(0.1 + 0.2)).toMatch(/at most 6 decimal places/);
  });

  it("refuses zero, negatives, junk and absurd amounts with messages people understand", () => {
    expect(refusal(0)).toBe("The limit must be more than $0.");
    expect(refusal("0.000000")).toBe("The limit must be more than $0.");
    expect(refusal(-5)).toBe("The limit must be more than $0.");
    expect(refusal("")).toMatch(/Enter an amount in dollars/);
    expect(refusal("ten")).toMatch(/Enter an amount in dollars/);
    expect(refusal(Number.NaN)).toMatch(/Enter an amount in dollars/);
    expect(refusal(Number.POSITIVE_INFINITY)).toMatch(/Enter an amount in dollars/);
    expect(refusal("1,50")).toMatch(/Use a dot for cents/);
    expect(refusal("1000000000.000001")).toMatch(/at most \$1,000,000,000/);
    expect(refusal("1e999999")).toMatch(/at most \$1,000,000,000/);
  });
});

describe("microsToUsdText", () => {
  it("prints the exact amount without trailing zeros", () => {
    expect(microsToUsdText(5_000_000)).toBe("5");
    expect(microsToUsdText(1)).toBe("0.000001");
    expect(microsToUsdText(25_500_000)).toBe("25.5");
    expect(microsToUsdText(1_000_000_000_000_000n)).toBe("1000000000");
    expect(microsToUsdText(0)).toBe("0");
  });

  it("round-trips through parseUsdToMicros", () => {
    for (const value of [1, 7, 999_999, 1_000_000, 1_234_567, 98_765_432_101]) {
      expect(micros(microsToUsdText(value))).toBe(value);
    }
  });
});
