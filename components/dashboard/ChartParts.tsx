"use client";

import type { TooltipContentProps } from "recharts";
import { cn } from "@/lib/cn";
import { formatBucketTitle, type BucketUnit } from "./shared";

/** Axis and grid styling shared by the dashboard's charts (recharts sets SVG attributes: plain colour values). */
export const AXIS_TICK = { fontSize: 11, fill: "#6b7280" } as const;
export const GRID_STROKE = "#e5e7eb";
export const CHART_HEIGHT = 240;

/** The tooltip of a stacked bar: the bucket, each non-zero series with its value, and their total. */
export function StackTooltip({
  active,
  payload,
  label,
  unit,
  timeZone,
  format,
}: Pick<TooltipContentProps<number, string>, "active" | "payload" | "label"> & { unit: BucketUnit; timeZone: string; format: (value: number) => string }) {
  if (!active || payload.length === 0 || typeof label !== "number") return null;
  const entries = payload
    .map((entry) => ({ name: String(entry.name ?? ""), value: typeof entry.value === "number" ? entry.value : 0, colour: entry.color ?? entry.fill ?? "#9ca3af" }))
    .filter((entry) => entry.value > 0)
    .reverse();
  const total = entries.reduce((sum, entry) => sum + entry.value, 0);
  return (
    <div className="min-w-44 rounded-md border border-border bg-surface px-3 py-2 text-xs shadow-overlay">
      <p className="mb-1.5 font-medium text-fg">{formatBucketTitle(new Date(label), unit, timeZone)}</p>
      {entries.length === 0 ? (
        <p className="text-fg-subtle">Nothing in this {unit}.</p>
      ) : (
        <ul className="space-y-1">
          {entries.map((entry) => (
            <li key={entry.name} className="flex items-center justify-between gap-4">
              <span className="flex min-w-0 items-center gap-1.5 text-fg-muted">
                <span aria-hidden="true" className="size-2 shrink-0 rounded-sm" style={{ backgroundColor: entry.colour }} />
                <span className="truncate">{entry.name}</span>
              </span>
              <span className="tabular-nums text-fg">{format(entry.value)}</span>
            </li>
          ))}
          {entries.length > 1 ? (
            <li className="flex justify-between gap-4 border-t border-border pt-1 font-medium text-fg">
              <span>Total</span>
              <span className="tabular-nums">{format(total)}</span>
            </li>
          ) : null}
        </ul>
      )}
    </div>
  );
}

/** A legend entry: colour swatch, label and (optionally) a figure. */
export function LegendItem({ colour, label, value, className }: { colour: string; label: string; value?: string; className?: string }) {
  return (
    <span className={cn("inline-flex items-center gap-1.5 text-xs text-fg-muted", className)}>
      <span aria-hidden="true" className="size-2.5 shrink-0 rounded-sm" style={{ backgroundColor: colour }} />
      <span className="truncate">{label}</span>
      {value ? <span className="tabular-nums text-fg">{value}</span> : null}
    </span>
  );
}

/** What a chart shows when the range has nothing to plot. */
export function ChartEmpty({ children }: { children: string }) {
  return (
    <div className="flex items-center justify-center rounded-md border border-dashed border-border bg-gray-50/60 text-sm text-fg-subtle" style={{ height: CHART_HEIGHT }}>
      {children}
    </div>
  );
}

/** A compact two-to-three-way switch (range, metric, grouping). */
export function Segmented<T extends string>({
  label,
  options,
  value,
  onChange,
}: {
  label: string;
  options: readonly { value: T; label: string }[];
  value: T;
  onChange: (value: T) => void;
}) {
  return (
    <div role="group" aria-label={label} className="inline-flex shrink-0 rounded-md bg-gray-100 p-0.5 ring-1 ring-inset ring-gray-200/80">
      {options.map((option) => (
        <button
          key={option.value}
          type="button"
          aria-pressed={option.value === value}
          onClick={() => onChange(option.value)}
          className={cn(
            "h-6 rounded-[5px] px-2 text-xs whitespace-nowrap transition-colors",
            option.value === value ? "bg-surface font-medium text-fg shadow-xs ring-1 ring-gray-200" : "text-fg-muted hover:text-fg",
          )}
        >
          {option.label}
        </button>
      ))}
    </div>
  );
}
