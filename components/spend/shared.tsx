import type { inferRouterOutputs } from "@trpc/server";
import { Badge } from "@/components/ui";
import { cn } from "@/lib/cn";
import type { AppRouter } from "@/server/trpc/root";

type SpendOutputs = inferRouterOutputs<AppRouter>["spend"];
export type SpendLimitRow = SpendOutputs["limits"][number];
export type SpendSummaryData = SpendOutputs["summary"];
export type SpendTargets = SpendOutputs["targets"];
export type LimitState = SpendLimitRow["usage"]["state"];
export type LimitScope = SpendLimitRow["scope"];
export type LimitPeriod = SpendLimitRow["period"];
export type LimitMode = SpendLimitRow["mode"];

export const SCOPE_LABELS: Record<LimitScope, string> = { ORG: "Organisation", AGENT: "Agent", USER: "Member" };
export const PERIOD_LABELS: Record<LimitPeriod, string> = { DAY: "Daily", MONTH: "Monthly" };
export const MODE_LABELS: Record<LimitMode, string> = { HARD: "Hard", SOFT: "Soft" };

const BAR_COLOURS: Record<LimitState, string> = {
  ok: "bg-success-500",
  warning: "bg-warning-500",
  exceeded: "bg-danger-500",
};

const STATE_TEXT: Record<LimitState, string> = {
  ok: "text-fg-muted",
  warning: "text-warning-700",
  exceeded: "text-danger-700",
};

/** A horizontal usage bar coloured by state; the fill stops at 100 % even when spend is past the limit. */
export function UsageBar({ percent, state, label, className }: { percent: number; state: LimitState; label: string; className?: string }) {
  const width = Math.max(0, Math.min(100, percent));
  return (
    <div
      role="meter"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.min(100, Math.round(percent))}
      aria-valuetext={`${formatPercent(percent)} used`}
      className={cn("h-1.5 w-full overflow-hidden rounded-full bg-gray-100 ring-1 ring-inset ring-gray-200/70", className)}
    >
      <div className={cn("h-full rounded-full transition-[width] duration-300", BAR_COLOURS[state])} style={{ width: `${width}%` }} />
    </div>
  );
}

export function StateBadge({ state, mode }: { state: LimitState; mode: LimitMode }) {
  if (state === "exceeded") {
    return (
      <Badge tone={mode === "HARD" ? "danger" : "warning"} dot>
        {mode === "HARD" ? "Blocking runs" : "Over limit"}
      </Badge>
    );
  }
  if (state === "warning") return <Badge tone="warning" dot>Near limit</Badge>;
  return <Badge tone="success" dot>OK</Badge>;
}

export function stateTextClass(state: LimitState): string {
  return STATE_TEXT[state];
}

/** "80 %", "4.5 %", "112.5 %": one decimal only when it says something. */
export function formatPercent(percent: number): string {
  const rounded = percent >= 10 ? Math.floor(percent) : Math.floor(percent * 10) / 10;
  return `${rounded.toLocaleString("en-US")} %`;
}

/** "in 5 h", "in 40 min", "in 12 d". */
export function resetsIn(end: Date | string, now = Date.now()): string {
  const minutes = Math.max(1, Math.round((new Date(end).getTime() - now) / 60_000));
  if (minutes < 60) return `in ${minutes} min`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `in ${hours} h`;
  return `in ${Math.round(hours / 24)} d`;
}

/** Exact dollars for an input field: 5_000_000 → "5", 1 → "0.000001". */
export function microsToUsdInput(micros: number): string {
  const whole = Math.floor(micros / 1_000_000);
  const fraction = String(micros % 1_000_000).padStart(6, "0").replace(/0+$/, "");
  return fraction ? `${whole}.${fraction}` : String(whole);
}
