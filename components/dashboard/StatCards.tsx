import Link from "next/link";
import type { ReactNode } from "react";
import { cn } from "@/lib/cn";
import { formatAge, formatRate, rangeLabel, type DashboardData } from "./shared";

type Tone = "neutral" | "warning" | "danger";

const VALUE_TONES: Record<Tone, string> = {
  neutral: "text-gray-950",
  warning: "text-warning-700",
  danger: "text-danger-700",
};

/** A headline count whose number opens the list it counts. */
function StatCard({ label, value, href, tone = "neutral", children }: { label: string; value: number; href: string; tone?: Tone; children?: ReactNode }) {
  const id = `stat-${label.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
  return (
    <section aria-labelledby={id} className="rounded-lg border border-border bg-surface px-4 py-3 shadow-card">
      <h2 id={id} className="text-xs font-medium text-fg-muted">{label}</h2>
      <Link
        href={href}
        data-testid={id}
        className={cn("mt-1 inline-block text-2xl leading-8 font-semibold tabular-nums decoration-2 underline-offset-4 hover:underline", value > 0 ? VALUE_TONES[tone] : VALUE_TONES.neutral)}
        title={`Open the list: ${label.toLowerCase()}`}
      >
        {value.toLocaleString("en-US")}
      </Link>
      <div className="mt-0.5 min-h-4 text-xs text-fg-subtle">{children}</div>
    </section>
  );
}

const subLink = "text-fg-muted hover:text-accent-700 hover:underline";

/** "3 pending · oldest 2 h 5 min", measured at the moment the server read the data. */
function Oldest({ work, href, noun, empty, now }: { work: DashboardData["pendingApprovals"]; href: string; noun: (count: number) => string; empty: string; now: Date }) {
  if (!work) return null;
  if (work.count === 0 || !work.oldest) return <>{empty}</>;
  return (
    <Link href={href} className={subLink} title={work.oldest.label}>
      {work.count.toLocaleString("en-US")} {noun(work.count)} · oldest <span className="font-medium text-fg">{formatAge(work.oldest.createdAt, now.getTime())}</span>
    </Link>
  );
}

/** Runs by the state that needs attention now, and the oldest thing waiting for a person. */
export function StatCards({ data }: { data: DashboardData }) {
  const { live, runs } = data;
  return (
    <div className="grid gap-3 sm:grid-cols-2 xl:grid-cols-4">
      <StatCard label="Running now" value={live.running} href="/runs?status=RUNNING">
        <Link href="/runs?status=QUEUED" className={subLink}>{live.queued.toLocaleString("en-US")} queued</Link>
        {live.waitingChildren > 0 ? (
          <>
            {" · "}
            <Link href="/runs?status=WAITING_CHILDREN" className={subLink}>{live.waitingChildren.toLocaleString("en-US")} waiting on sub-runs</Link>
          </>
        ) : null}
      </StatCard>
      <StatCard label="Waiting for approval" value={live.waitingApproval} href="/runs?status=WAITING_APPROVAL" tone="warning">
        <Oldest work={data.pendingApprovals} href="/approvals" noun={() => "pending"} empty="No approval pending" now={data.generatedAt} />
      </StatCard>
      <StatCard label="Waiting for review" value={live.waitingReview} href="/runs?status=WAITING_REVIEW" tone="warning">
        <Oldest work={data.pendingDrafts} href="/inbox" noun={(count) => (count === 1 ? "draft" : "drafts")} empty="No draft to review" now={data.generatedAt} />
      </StatCard>
      <StatCard label="Failed in the last 24 h" value={live.failedLast24h} href="/runs?status=FAILED&period=24h" tone="danger">
        Failure rate {formatRate(runs.failureRate)} · {rangeLabel(data.range.key).toLowerCase()}
      </StatCard>
    </div>
  );
}
