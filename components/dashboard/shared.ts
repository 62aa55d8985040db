import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@/server/trpc/root";

/** The dashboard's data as the console receives it, and pure helpers that shape it for cards and charts. */
export type DashboardData = inferRouterOutputs<AppRouter>["dashboard"]["get"];
export type DashboardRange = DashboardData["range"]["key"];
export type BucketUnit = DashboardData["range"]["unit"];
export type UsageSeries = DashboardData["usage"]["byModel"][number];
export type RunOutcomes = DashboardData["outcomes"][number];

export const RANGES: readonly { key: DashboardRange; label: string; short: string }[] = [
  { key: "24h", label: "Last 24 hours", short: "24 h" },
  { key: "7d", label: "Last 7 days", short: "7 days" },
  { key: "30d", label: "Last 30 days", short: "30 days" },
];

export function rangeLabel(key: DashboardRange): string {
  return RANGES.find((range) => range.key === key)?.label ?? key;
}

/** Series colours, distinct on white and for the common colour-vision deficiencies; the last is for "Other". */
export const SERIES_COLOURS = ["#6366f1", "#0ea5e9", "#f59e0b", "#10b981", "#ec4899", "#8b5cf6"] as const;
export const OTHER_COLOUR = "#9ca3af";

export const OUTCOME_SERIES: readonly { key: keyof RunOutcomes; label: string; colour: string }[] = [
  { key: "succeeded", label: "Succeeded", colour: "#10b981" },
  { key: "failed", label: "Failed", colour: "#ef4444" },
  { key: "halted", label: "Halted", colour: "#f59e0b" },
  { key: "cancelled", label: "Cancelled", colour: "#9ca3af" },
  { key: "inProgress", label: "In progress", colour: "#38bdf8" },
];

// ─── Formatting ────────────────────────────────────────────────────────────────────────────────────────────────

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${timeZone}|${JSON.stringify(options)}`;
  let cached = formatters.get(key);
  if (!cached) {
    cached = new Intl.DateTimeFormat("en-GB", { timeZone, ...options });
    formatters.set(key, cached);
  }
  return cached;
}

/** An axis tick: "14:00" for hours, "15 Mar" for days, in the org's time zone. */
export function formatBucketTick(start: Date, unit: BucketUnit, timeZone: string): string {
  return unit === "hour"
    ? formatter(timeZone, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(start)
    : formatter(timeZone, { day: "numeric", month: "short" }).format(start);
}

/** A tooltip title: "Sun 15 Mar, 14:00" for hours, "Sunday 15 March" for days. */
export function formatBucketTitle(start: Date, unit: BucketUnit, timeZone: string): string {
  return unit === "hour"
    ? formatter(timeZone, { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(start)
    : formatter(timeZone, { weekday: "long", day: "numeric", month: "long" }).format(start);
}

/** "14:03:05" in the org's time zone. */
export function formatClock(instant: Date, timeZone: string): string {
  return formatter(timeZone, { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" }).format(instant);
}

/** 950 → "950", 1_500 → "1.5k", 12_345 → "12k", 4_200_000 → "4.2M". */
export function formatTokens(tokens: number): string {
  if (tokens < 1_000) return String(Math.round(tokens));
  if (tokens < 1_000_000) return `${trimmed(tokens / 1_000)}k`;
  return `${trimmed(tokens / 1_000_000)}M`;
}

/**
 * Dollars for an axis whose ticks are `stepMicros` apart: as many decimals as the step needs (at least cents below
 * $10), so neighbouring ticks never print the same: "$0", "$0.05", "$0.005", "$1.50", "$12", "$1.2k".
 */
export function formatUsdCompact(micros: number, stepMicros = micros): string {
  const usd = micros / 1_000_000;
  if (usd === 0) return "$0";
  if (usd >= 1_000) return `$${trimmed(usd / 1_000)}k`;
  const step = stepMicros / 1_000_000;
  if (usd >= 10 && step >= 1) return `$${Math.round(usd)}`;
  const decimals = step >= 1 ? 2 : Math.min(6, Math.max(2, Math.ceil(-Math.log10(step) - 1e-9)));
  return `$${usd.toFixed(decimals)}`;
}

/** Axis ticks from 0 past `max` in steps of 1, 2 or 5 × 10ⁿ, about `count` of them (recharts' own are 0.065 apart). */
export function niceTicks(max: number, count = 4): number[] {
  if (!(max > 0)) return [0, 1];
  const rough = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((candidate) => candidate >= rough) ?? 10 * magnitude;
  // step >= max / count, so there are at most count + 1 ticks; toPrecision drops float noise (0.30000000000000004).
  return Array.from({ length: Math.ceil(max / step - 1e-9) + 1 }, (_, i) => Number((i * step).toPrecision(12)));
}

function trimmed(value: number): string {
  return (value < 10 ? value.toFixed(1) : String(Math.round(value))).replace(/\.0$/, "");
}

/** 0.0833 → "8.3 %", 0.5 → "50 %", null → "—". */
export function formatRate(rate: number | null): string {
  if (rate === null) return "—";
  const percent = rate * 100;
  const rounded = percent >= 10 || percent === 0 ? Math.round(percent) : Math.round(percent * 10) / 10;
  return `${rounded} %`;
}

/** How long something has waited: "45 s", "12 min", "3 h 5 min", "2 d 4 h". */
export function formatAge(since: Date, now: number): string {
  const seconds = Math.max(0, Math.floor((now - since.getTime()) / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
}

// ─── Chart data ────────────────────────────────────────────────────────────────────────────────────────────────

export type UsageMetric = "cost" | "tokens";

export interface StackKey {
  /** The data key in each row. */
  key: string;
  label: string;
  colour: string;
  /** The series' total over the range, in the chosen metric. */
  total: number;
  /** The ids of the series drawn under this key (several for "Other"). */
  seriesIds: string[];
}

/** One bar of a chart: the bucket's start (ms since the epoch, the x-axis key) and one value per stacked series. */
export interface ChartRow {
  start: number;
  [key: string]: number;
}

/**
 * Rows for a stacked bar chart of one usage metric: the `limit` largest series by their own, the rest summed into
 * "Other" so the chart stays readable with many models or agents. Series with nothing in the metric are dropped.
 */
export function stackUsage(
  buckets: Date[],
  series: UsageSeries[],
  metric: UsageMetric,
  limit: number = SERIES_COLOURS.length - 1,
): { keys: StackKey[]; rows: ChartRow[]; /** The tallest stack. */ max: number } {
  const valueOf = (point: UsageSeries["points"][number]) => (metric === "cost" ? point.costMicros : point.tokens);
  const totalOf = (s: UsageSeries) => (metric === "cost" ? s.costMicros : s.inputTokens + s.outputTokens);
  const ranked = series.filter((s) => totalOf(s) > 0).sort((a, b) => totalOf(b) - totalOf(a) || a.label.localeCompare(b.label));
  // One slot is only worth "Other" when at least two series share it.
  const shown = ranked.length > limit + 1 ? ranked.slice(0, limit) : ranked;
  const rest = ranked.slice(shown.length);

  const keys: StackKey[] = shown.map((s, i) => ({
    key: `s${i}`,
    label: s.label,
    colour: SERIES_COLOURS[i % SERIES_COLOURS.length] ?? OTHER_COLOUR,
    total: totalOf(s),
    seriesIds: [s.id],
  }));
  if (rest.length > 0) {
    keys.push({ key: "other", label: `Other (${rest.length})`, colour: OTHER_COLOUR, total: rest.reduce((sum, s) => sum + totalOf(s), 0), seriesIds: rest.map((s) => s.id) });
  }

  const rows = buckets.map((start, index): ChartRow => {
    const row: ChartRow = { start: start.getTime() };
    shown.forEach((s, i) => {
      const point = s.points[index];
      row[`s${i}`] = point ? valueOf(point) : 0;
    });
    if (rest.length > 0) row.other = rest.reduce((sum, s) => sum + (s.points[index] ? valueOf(s.points[index]) : 0), 0);
    return row;
  });
  const max = Math.max(0, ...rows.map((row) => keys.reduce((sum, key) => sum + (row[key.key] ?? 0), 0)));
  return { keys, rows, max };
}

/** Rows for the run-outcomes chart, one per bucket. */
export function outcomeRows(buckets: Date[], outcomes: RunOutcomes[]): ChartRow[] {
  return buckets.map((start, index) => ({
    start: start.getTime(),
    ...(outcomes[index] ?? { succeeded: 0, failed: 0, halted: 0, cancelled: 0, inProgress: 0 }),
  }));
}
