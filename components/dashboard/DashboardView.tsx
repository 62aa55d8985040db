"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { buttonStyles, PageHeader, Spinner } from "@/components/ui";
import { cn } from "@/lib/cn";
import { messageOf, useTRPC } from "@/lib/trpc";
import { Segmented } from "./ChartParts";
import { FailingTools } from "./FailingTools";
import { OutcomesChart } from "./OutcomesChart";
import { StatCards } from "./StatCards";
import { SummaryCards } from "./SummaryCards";
import { UsageChart } from "./UsageChart";
import { formatClock, rangeLabel, RANGES, type DashboardData, type DashboardRange } from "./shared";

/** The page refreshes itself this often while it is open (TanStack Query pauses it while the tab is hidden). */
const REFRESH_MS = 5_000;

const RANGE_OPTIONS = RANGES.map((range) => ({ value: range.key, label: range.short }));

export function DashboardView() {
  const trpc = useTRPC();
  const me = useQuery(trpc.me.get.queryOptions());
  const [range, setRange] = useState<DashboardRange>("24h");
  const dashboard = useQuery({
    ...trpc.dashboard.get.queryOptions({ range }),
    refetchInterval: REFRESH_MS,
    // Switching the range keeps the previous figures on screen until the new ones arrive.
    placeholderData: keepPreviousData,
  });
  const firstName = me.data?.user?.name?.split(" ")[0];

  return (
    <div className="space-y-6">
      <PageHeader
        title={firstName ? `Welcome, ${firstName}` : "Dashboard"}
        description="What your agents are doing, what waits for a person, and what it costs."
      />
      <div className="flex flex-wrap items-center justify-between gap-3">
        <LiveStatus data={dashboard.data} fetching={dashboard.isFetching} failed={dashboard.isError} />
        <Segmented label="Range" options={RANGE_OPTIONS} value={range} onChange={setRange} />
      </div>
      {dashboard.isPending ? (
        <Spinner label="Loading the dashboard" showLabel />
      ) : dashboard.isError && !dashboard.data ? (
        <p role="alert" className="text-sm text-danger-700">{messageOf(dashboard.error)}</p>
      ) : (
        <div className={cn("space-y-6 transition-opacity", dashboard.isPlaceholderData && "opacity-60")} aria-busy={dashboard.isPlaceholderData}>
          {isQuiet(dashboard.data) ? <QuietNotice range={dashboard.data.range.key} /> : null}
          <StatCards data={dashboard.data} />
          <SummaryCards data={dashboard.data} />
          <UsageChart data={dashboard.data} />
          <div className="grid gap-6 lg:grid-cols-2">
            <OutcomesChart data={dashboard.data} />
            <FailingTools data={dashboard.data} />
          </div>
        </div>
      )}
    </div>
  );
}

/** Nothing ran in the range and nothing is going on now: say so once, instead of a page of zeros without a word. */
function isQuiet(data: DashboardData): boolean {
  const { live, runs, usage } = data;
  return runs.total === 0 && usage.modelCalls === 0 && live.running + live.queued + live.waitingApproval + live.waitingReview + live.waitingChildren === 0;
}

function QuietNotice({ range }: { range: DashboardRange }) {
  return (
    <div className="flex flex-wrap items-center justify-between gap-3 rounded-lg border border-dashed border-border-strong bg-surface/60 px-4 py-3">
      <p className="text-sm text-fg-muted">
        <span className="font-medium text-fg">No runs in the {rangeLabel(range).toLowerCase()}.</span> Start one from the runs page, over the
        REST API, or give an agent a schedule; the figures below fill in as they work.
      </p>
      <Link href="/runs" className={buttonStyles({ variant: "secondary", size: "sm" })}>Go to runs</Link>
    </div>
  );
}

/** "Live · updated 14:03:05 · times in Europe/Berlin", pulsing while a refresh is in flight; says so when one fails. */
function LiveStatus({ data, fetching, failed }: { data: DashboardData | undefined; fetching: boolean; failed: boolean }) {
  if (!data) return <span />;
  return (
    <span className="inline-flex items-center gap-1.5 text-xs text-fg-subtle">
      <span aria-hidden="true" className={cn("size-2 rounded-full", failed ? "bg-danger-500" : "bg-success-500", fetching && "animate-pulse")} />
      <span>
        <span className="font-medium text-fg-muted">{failed ? "Refresh failed, retrying" : "Live"}</span> · updated{" "}
        {formatClock(data.generatedAt, data.timeZone)} · times in {data.timeZone}
      </span>
    </span>
  );
}
