import Link from "next/link";
import { formatDuration } from "@/components/runs/runStatus";
import { formatPercent, MODE_LABELS, resetsIn, stateTextClass, UsageBar } from "@/components/spend/shared";
import { cn } from "@/lib/cn";
import { formatUsd } from "@/lib/format";
import { formatRate, rangeLabel, type DashboardData } from "./shared";

type SpendPeriod = NonNullable<DashboardData["spend"]>["today"];

/** Spend of the current day or month in the org's time zone, against the org-wide limit when there is one. */
function SpendCard({ title, period, adjective }: { title: string; period: SpendPeriod; adjective: string }) {
  const limit = period.limit;
  return (
    <section
      aria-label={`Spend ${title.toLowerCase()}`}
      className={cn(
        "rounded-lg border bg-surface px-4 py-3 shadow-card",
        limit?.state === "exceeded" ? "border-danger-200" : limit?.state === "warning" ? "border-warning-300" : "border-border",
      )}
    >
      <h2 className="flex items-baseline justify-between gap-2 text-xs font-medium text-fg-muted">
        Spend {title.toLowerCase()}
        <Link href="/admin/spend" className="font-normal text-fg-subtle hover:text-accent-700 hover:underline">Limits</Link>
      </h2>
      <p className="mt-1 flex flex-wrap items-baseline gap-x-2">
        <span className="text-2xl leading-8 font-semibold tabular-nums text-gray-950">{formatUsd(period.spentMicros)}</span>
        {limit ? <span className="text-xs whitespace-nowrap text-fg-subtle">of {formatUsd(limit.limitMicros)}</span> : null}
      </p>
      {limit ? (
        <>
          <UsageBar className="mt-2" percent={limit.percent} state={limit.state} label={`Organisation ${adjective} limit: used`} />
          <p className={cn("mt-1.5 text-xs", stateTextClass(limit.state))}>
            {formatPercent(limit.percent)} of the {adjective} {MODE_LABELS[limit.mode].toLowerCase()} limit · resets {resetsIn(period.end)}
          </p>
        </>
      ) : (
        <p className="mt-2 text-xs text-fg-subtle">No organisation-wide {adjective} limit · resets {resetsIn(period.end)}</p>
      )}
    </section>
  );
}

function Metric({ label, value, detail }: { label: string; value: string; detail?: string }) {
  return (
    <div className="min-w-0">
      <dt className="text-xs text-fg-muted">{label}</dt>
      <dd className="mt-0.5 text-lg leading-7 font-semibold tabular-nums text-gray-950">{value}</dd>
      {detail ? <dd className="truncate text-xs text-fg-subtle">{detail}</dd> : null}
    </div>
  );
}

/** How the runs created in the range went: how many, how often they failed, how long they took. */
function PerformanceCard({ data, wide }: { data: DashboardData; wide: boolean }) {
  const { runs } = data;
  return (
    <section aria-labelledby="run-performance" className={cn("rounded-lg border border-border bg-surface px-4 py-3 shadow-card", wide && "lg:col-span-3")}>
      <h2 id="run-performance" className="text-xs font-medium text-fg-muted">
        Runs · {rangeLabel(data.range.key).toLowerCase()}
      </h2>
      <dl className={cn("mt-2 grid grid-cols-2 gap-x-4 gap-y-3", wide && "sm:grid-cols-4")}>
        <Metric label="Created" value={runs.total.toLocaleString("en-US")} detail={`${runs.inProgress.toLocaleString("en-US")} still going`} />
        <Metric
          label="Failure rate"
          value={formatRate(runs.failureRate)}
          detail={runs.ended > 0 ? `${runs.failed.toLocaleString("en-US")} of ${runs.ended.toLocaleString("en-US")} ended` : "None ended yet"}
        />
        <Metric label="p50 duration" value={formatDuration(runs.durationMs?.p50)} detail={runs.durationMs ? `${runs.durationMs.samples.toLocaleString("en-US")} ${runs.durationMs.samples === 1 ? "run" : "runs"}, start to end` : undefined} />
        <Metric label="p95 duration" value={formatDuration(runs.durationMs?.p95)} />
      </dl>
    </section>
  );
}

/** Spend today and this month (when the viewer may see spend) beside the range's run performance. */
export function SummaryCards({ data }: { data: DashboardData }) {
  return (
    <div className="grid gap-3 sm:grid-cols-2 lg:grid-cols-3">
      {data.spend ? (
        <>
          <SpendCard title="Today" period={data.spend.today} adjective="daily" />
          <SpendCard title="This month" period={data.spend.month} adjective="monthly" />
        </>
      ) : null}
      <div className={cn(data.spend ? "sm:col-span-2 lg:col-span-1" : "sm:col-span-2 lg:col-span-3")}>
        <PerformanceCard data={data} wide={!data.spend} />
      </div>
    </div>
  );
}
