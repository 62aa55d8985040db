/**
 * Conversions between what people type (dollars, seconds) and what the server stores (integer micro-dollars,
 * milliseconds). Browser-safe. A blank amount means 0; anything unparsable becomes NaN, which the server refuses
 * with a field error.
 */
const MICROS_PER_USD = 1_000_000;

function parseNumber(text: string): number {
  const trimmed = text.trim();
  if (trimmed === "") return Number.NaN;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : Number.NaN;
}

export function usdToMicros(text: string): number {
  if (text.trim() === "") return 0;
  const usd = parseNumber(text.replace(/^\$/, ""));
  return Number.isNaN(usd) ? usd : Math.round(usd * MICROS_PER_USD);
}

export function microsToUsdText(micros: number): string {
  return String(micros / MICROS_PER_USD);
}

export function secondsToMs(text: string): number {
  const seconds = parseNumber(text);
  return Number.isNaN(seconds) ? seconds : Math.round(seconds * 1000);
}

export function msToSecondsText(ms: number): string {
  return String(ms / 1000);
}

/** A whole number typed into a field; blank is NaN (or null when the field is optional). */
export function integerOf(text: string): number {
  return parseNumber(text);
}

export function optionalIntegerOf(text: string): number | null {
  return text.trim() === "" ? null : parseNumber(text);
}

/** "$0.15", "$3.00", "$0.075": prices per million tokens keep their significant digits. */
export function formatPricePerMillion(micros: number): string {
  return `$${(micros / MICROS_PER_USD).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 6 })}`;
}

export function formatTokens(tokens: number): string {
  if (tokens >= 1_000_000 && tokens % 100_000 === 0) return `${tokens / 1_000_000}M`;
  if (tokens >= 1_000 && tokens % 1_000 === 0) return `${tokens / 1_000}k`;
  return tokens.toLocaleString("en-US");
}

/** "45 s", "10 min", "1 h 30 min". */
export function formatDuration(ms: number): string {
  const totalSeconds = Math.round(ms / 1000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  const parts = [hours ? `${hours} h` : "", minutes ? `${minutes} min` : "", seconds ? `${seconds} s` : ""].filter(Boolean);
  return parts.length > 0 ? parts.join(" ") : "0 s";
}
