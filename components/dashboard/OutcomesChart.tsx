"use client";

import { Bar, BarChart, CartesianGrid, Tooltip, XAxis, YAxis } from "recharts";
import { Card, CardBody, CardHeader } from "@/components/ui";
import { AXIS_TICK, CHART_HEIGHT, ChartEmpty, GRID_STROKE, LegendItem, StackTooltip } from "./ChartParts";
import { formatBucketTick, OUTCOME_SERIES, outcomeRows, rangeLabel, type DashboardData } from "./shared";

const runsLabel = (value: number) => `${value.toLocaleString("en-US")} ${value === 1 ? "run" : "runs"}`;

/** Runs created per bucket, stacked by how they ended (or that they are still going). */
export function OutcomesChart({ data }: { data: DashboardData }) {
  const { range, timeZone, runs } = data;
  const rows = outcomeRows(data.buckets, data.outcomes);
  return (
    <Card>
      <CardHeader title="Runs over time" description={`${runsLabel(runs.total)} created, by outcome`} />
      <CardBody>
        <figure aria-label={`Runs by outcome, ${rangeLabel(range.key).toLowerCase()}`}>
          {runs.total === 0 ? (
            <ChartEmpty>{`No runs in the ${rangeLabel(range.key).toLowerCase()}.`}</ChartEmpty>
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
              <YAxis allowDecimals={false} tick={AXIS_TICK} tickLine={false} axisLine={false} width={36} />
              <Tooltip
                cursor={{ fill: "rgba(99, 102, 241, 0.06)" }}
                content={(props) => <StackTooltip {...props} unit={range.unit} timeZone={timeZone} format={runsLabel} />}
              />
              {OUTCOME_SERIES.map((series, index) => (
                <Bar
                  key={series.key}
                  dataKey={series.key}
                  name={series.label}
                  stackId="outcomes"
                  fill={series.colour}
                  radius={index === OUTCOME_SERIES.length - 1 ? [3, 3, 0, 0] : 0}
                  isAnimationActive={false}
                />
              ))}
            </BarChart>
          )}
          <figcaption className="mt-3 flex flex-wrap gap-x-4 gap-y-1">
            {OUTCOME_SERIES.map((series) => (
              <LegendItem key={series.key} colour={series.colour} label={series.label} value={runs[series.key].toLocaleString("en-US")} />
            ))}
          </figcaption>
        </figure>
      </CardBody>
    </Card>
  );
}
