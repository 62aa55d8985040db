"use client";

import Link from "next/link";
import { useState } from "react";
import { Bar, BarChart, CartesianGrid, Tooltip, XAxis, YAxis } from "recharts";
import { Card, CardBody, CardHeader } from "@/components/ui";
import { formatUsd } from "@/lib/format";
import { AXIS_TICK, CHART_HEIGHT, ChartEmpty, GRID_STROKE, Segmented, StackTooltip } from "./ChartParts";
import { formatBucketTick, formatTokens, formatUsdCompact, niceTicks, rangeLabel, stackUsage, type DashboardData, type UsageMetric } from "./shared";

type Grouping = "model" | "agent";

const METRICS = [
  { value: "cost", label: "Cost" },
  { value: "tokens", label: "Tokens" },
] as const satisfies readonly { value: UsageMetric; label: string }[];

const GROUPINGS = [
  { value: "model", label: "By model" },
  { value: "agent", label: "By agent" },
] as const satisfies readonly { value: Grouping; label: string }[];

/** Tokens or cost per bucket, stacked by model or by agent, with the range's totals per series beside it. */
export function UsageChart({ data }: { data: DashboardData }) {
  const [metric, setMetric] = useState<UsageMetric>("cost");
  const [grouping, setGrouping] = useState<Grouping>("model");
  const { usage, range, timeZone } = data;
  const series = grouping === "model" ? usage.byModel : usage.byAgent;
  const { keys, rows, max } = stackUsage(data.buckets, series, metric);
  const ticks = niceTicks(max);
  const step = ticks[1] ?? 1;
  const format = metric === "cost" ? formatUsd : (value: number) => `${formatTokens(value)} tokens`;
  const tokensOf = (item: (typeof series)[number]) => item.inputTokens + item.outputTokens;
  // The list follows the chart: ranked by the measure shown, in the colours of the stack.
  const listed = metric === "cost" ? series : [...series].sort((a, b) => tokensOf(b) - tokensOf(a) || a.label.localeCompare(b.label));
  const tokens = usage.inputTokens + usage.outputTokens;

  return (
    <Card>
      <CardHeader
        title="Tokens and cost"
        description={
          <span className="tabular-nums">
            {formatUsd(usage.costMicros)} · {formatTokens(tokens)} tokens · {usage.modelCalls.toLocaleString("en-US")} model calls
          </span>
        }
        actions={
          <div className="flex flex-wrap justify-end gap-2">
            <Segmented label="Measure" options={METRICS} value={metric} onChange={setMetric} />
            <Segmented label="Group" options={GROUPINGS} value={grouping} onChange={setGrouping} />
          </div>
        }
      />
      <CardBody className="grid gap-4 lg:grid-cols-[minmax(0,1fr)_15rem]">
        <figure className="min-w-0" aria-label={`${metric === "cost" ? "Cost" : "Tokens"} ${grouping === "model" ? "by model" : "by agent"}, ${rangeLabel(range.key).toLowerCase()}`}>
          {keys.length === 0 ? (
            <ChartEmpty>
              {usage.modelCalls === 0
                ? `No model calls in the ${rangeLabel(range.key).toLowerCase()}.`
                : `The model calls of the ${rangeLabel(range.key).toLowerCase()} ${metric === "cost" ? "cost nothing" : "counted no tokens"}.`}
            </ChartEmpty>
          ) : (
            <BarChart data={rows} responsive style={{ width: "100%", height: CHART_HEIGHT }} margin={{ top: 4, right: 4, bottom: 0, left: 0 }} barCategoryGap="18%">
              <CartesianGrid vertical={false} stroke={GRID_STROKE} strokeDasharray="3 3" />
              <XAxis
                dataKey="start"
                tickFormatter={(start: number) => formatBucketTick(new Date(start), range.unit, timeZone)}
                tick={AXIS_TICK}
                tickLine={false}
                axisLine={{ stroke: GRID_STROKE }}
                minTickGap={14}
              />
              <YAxis
                ticks={ticks}
                domain={[0, ticks[ticks.length - 1] ?? "auto"]}
                tickFormatter={(value: number) => (metric === "cost" ? formatUsdCompact(value, step) : formatTokens(value))}
                tick={AXIS_TICK}
                tickLine={false}
                axisLine={false}
                width={52}
              />
              <Tooltip
                cursor={{ fill: "rgba(99, 102, 241, 0.06)" }}
                content={(props) => <StackTooltip {...props} unit={range.unit} timeZone={timeZone} format={format} />}
              />
              {keys.map((key, index) => (
                <Bar
                  key={key.key}
                  dataKey={key.key}
                  name={key.label}
                  stackId="usage"
                  fill={key.colour}
                  radius={index === keys.length - 1 ? [3, 3, 0, 0] : 0}
                  isAnimationActive={false}
                />
              ))}
            </BarChart>
          )}
        </figure>
        <div className="min-w-0">
          <h3 className="text-xs font-medium text-fg-muted">
            {grouping === "model" ? "Models" : "Agents"} · {rangeLabel(range.key).toLowerCase()}
          </h3>
          {series.length === 0 ? (
            <p className="mt-2 text-sm text-fg-subtle">Nothing spent yet.</p>
          ) : (
            <ul className="mt-2 space-y-2">
              {listed.slice(0, 8).map((item) => {
                const key = keys.find((k) => k.seriesIds.includes(item.id));
                return (
                  <li key={item.id} className="text-xs">
                    <div className="flex items-center justify-between gap-3">
                      <span className="flex min-w-0 items-center gap-1.5">
                        <span aria-hidden="true" className="size-2.5 shrink-0 rounded-sm" style={{ backgroundColor: key?.colour ?? "#d1d5db" }} />
                        {grouping === "agent" && item.id !== "deleted" ? (
                          <Link href={`/runs?agent=${encodeURIComponent(item.id)}`} className="truncate font-medium text-fg hover:text-accent-700 hover:underline" title={`Runs of ${item.label}`}>
                            {item.label}
                          </Link>
                        ) : (
                          <span className="truncate font-medium text-fg" title={item.label}>{item.label}</span>
                        )}
                      </span>
                      <span className="shrink-0 tabular-nums text-fg">{metric === "cost" ? formatUsd(item.costMicros) : `${formatTokens(tokensOf(item))} tokens`}</span>
                    </div>
                    <p className="mt-0.5 pl-4 text-fg-subtle tabular-nums">
                      {metric === "cost" ? `${formatTokens(item.inputTokens)} in · ${formatTokens(item.outputTokens)} out` : formatUsd(item.costMicros)} ·{" "}
                      {item.modelCalls.toLocaleString("en-US")} calls
                    </p>
                  </li>
                );
              })}
              {series.length > 8 ? <li className="text-xs text-fg-subtle">and {series.length - 8} more</li> : null}
            </ul>
          )}
        </div>
      </CardBody>
    </Card>
  );
}
