/**
 * Dollars ↔ micro-dollars, exactly. Amounts people type are decimal text; converting them through floating point
 * (`Math.round(usd * 1e6)`) silently rounds, so the digits are parsed as a decimal and scaled with integers.
 * Pure and browser-safe.
 */
export const MICROS_PER_USD = 1_000_000;
/** $1 billion: far above any real budget, and far below 2^53 micro-dollars, so micros stay exact as numbers. */
export const MAX_LIMIT_USD = 1_000_000_000;
const MAX_LIMIT_MICROS = BigInt(MAX_LIMIT_USD) * BigInt(MICROS_PER_USD);
const MAX_INTEGER_DIGITS = String(MAX_LIMIT_USD).length;

export type UsdParseResult = { ok: true; micros: number } | { ok: false; message: string };

const DECIMAL = /^(\d*)(?:\.(\d*))?(?:e([+-]?\d{1,6}))?$/i;

/**
 * Parses a positive amount of dollars ("25", "$0.50", 0.000001, "1e-6") into integer micro-dollars. More than six
 * decimals (after dropping trailing zeros) is refused rather than rounded: $0.0000001 is not an amount we can store.
 */
export function parseUsdToMicros(value: number | string): UsdParseResult {
  let text: string;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return { ok: false, message: "Enter an amount in dollars, e.g. 25 or 0.50." };
    text = String(value);
  } else {
    text = value.trim().replace(/^\$\s*/, "");
  }
  if (text.startsWith("-")) return { ok: false, message: "The limit must be more than $0." };
  if (text.startsWith("+")) text = text.slice(1);
  const match = DECIMAL.exec(text);
  const [, whole = "", fraction = "", exponent = "0"] = match ?? [];
  if (!match || (whole === "" && fraction === "")) {
    return { ok: false, message: text.includes(",") ? "Use a dot for cents and no thousands separators, e.g. 1250.50." : "Enter an amount in dollars, e.g. 25 or 0.50." };
  }
  // value = digits × 10^-scale
  let digits = (whole + fraction).replace(/^0+/, "");
  let scale = fraction.length - Number(exponent);
  if (digits === "") return { ok: false, message: "The limit must be more than $0." };
  while (scale > 6 && digits.endsWith("0")) {
    digits = digits.slice(0, -1);
    scale -= 1;
  }
  if (scale > 6) return { ok: false, message: "Use at most 6 decimal places: the smallest amount is $0.000001." };
  const tooLarge = { ok: false as const, message: `The limit can be at most $${MAX_LIMIT_USD.toLocaleString("en-US")}.` };
  if (digits.length - scale > MAX_INTEGER_DIGITS) return tooLarge;
  const micros = BigInt(digits) * 10n ** BigInt(6 - scale);
  if (micros > MAX_LIMIT_MICROS) return tooLarge;
  return { ok: true, micros: Number(micros) };
}

/** Exact decimal text of an amount of micro-dollars, without trailing zeros: 5_000_000 → "5", 1 → "0.000001". */
export function microsToUsdText(micros: number | bigint): string {
  const value = BigInt(micros);
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const whole = abs / BigInt(MICROS_PER_USD);
  const fraction = (abs % BigInt(MICROS_PER_USD)).toString().padStart(6, "0").replace(/0+$/, "");
  return `${negative ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""}`;
}
