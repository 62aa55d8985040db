"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Badge, Button, EmptyState, IconPlus, PageHeader, Spinner, Table, TBody, TD, TH, THead, TR, useToast } from "@/components/ui";
import { cn } from "@/lib/cn";
import { formatUsd } from "@/lib/format";
import { hasScope } from "@/lib/scopes";
import { messageOf, useTRPC } from "@/lib/trpc";
import { SpendLimitDialog } from "./SpendLimitDialog";
import {
  formatPercent,
  MODE_LABELS,
  PERIOD_LABELS,
  resetsIn,
  SCOPE_LABELS,
  StateBadge,
  stateTextClass,
  UsageBar,
  type SpendLimitRow,
  type SpendSummaryData,
} from "./shared";

export function SpendAdmin() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { toast } = useToast();
  const me = useQuery(trpc.me.get.queryOptions());
  const limits = useQuery(trpc.spend.limits.queryOptions());
  const summary = useQuery(trpc.spend.summary.queryOptions());
  const canManage = hasScope(me.data, "spend:manage");
  // The dialog stays mounted (the Dialog primitive expects `open` to toggle); `session` resets the form on each opening.
  const [editing, setEditing] = useState<{ limit: SpendLimitRow | null; session: number } | null>(null);
  const [sessions, setSessions] = useState(0);
  const open = (limit: SpendLimitRow | null) => {
    setSessions((n) => n + 1);
    setEditing({ limit, session: sessions + 1 });
  };
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.spend.pathKey() });

  const remove = useMutation(
    trpc.spend.deleteLimit.mutationOptions({
      onSuccess: async (deleted) => {
        toast({ title: `Deleted the limit “${deleted.label}”`, tone: "success" });
        await refresh();
      },
      onError: (error) => toast({ title: "Could not delete the limit", description: messageOf(error), tone: "danger", duration: 10_000 }),
    }),
  );

  const addButton = canManage ? (
    <Button variant="primary" icon={<IconPlus />} onClick={() => open(null)}>
      Add limit
    </Button>
  ) : null;

  return (
    <div className="space-y-6">
      <PageHeader
        title="Spend"
        description={
          <>
            Budgets for model calls, per organisation, agent or member. A hard limit stops a run before its next model call; a soft
            limit only warns. Days and months follow the organisation’s time zone
            {summary.data ? <> ({summary.data.timeZone})</> : null}.
          </>
        }
        actions={addButton}
      />

      {summary.isPending ? null : summary.isError ? (
        <p role="alert" className="text-sm text-danger-700">{messageOf(summary.error)}</p>
      ) : (
        <SummaryCards summary={summary.data} />
      )}

      {!canManage && me.data ? (
        <p className="text-sm text-fg-muted">You can see the limits and how much of them is used; owners and admins change them.</p>
      ) : null}

      {limits.isPending ? (
        <Spinner label="Loading spend limits" showLabel />
      ) : limits.isError ? (
        <p role="alert" className="text-sm text-danger-700">{messageOf(limits.error)}</p>
      ) : limits.data.length === 0 ? (
        <EmptyState
          title="No spend limits yet"
          description={
            canManage
              ? "Without limits, agents can spend without bound. Add a daily or monthly limit for the organisation, an agent or a member."
              : "Nobody has set a spend limit yet. Owners and admins can."
          }
          action={addButton}
        />
      ) : (
        <Table containerClassName="rounded-lg border border-border bg-surface shadow-card" caption="Spend limits">
          <THead>
            <TR>
              <TH>Applies to</TH>
              <TH>Period</TH>
              <TH>Mode</TH>
              <TH className="w-[34%]">Used</TH>
              <TH numeric>Warn at</TH>
              <TH>Status</TH>
              {canManage ? <TH><span className="sr-only">Actions</span></TH> : null}
            </TR>
          </THead>
          <TBody>
            {limits.data.map((limit) => (
              <LimitRow
                key={limit.id}
                limit={limit}
                canManage={canManage}
                deleting={remove.isPending && remove.variables.id === limit.id}
                onEdit={() => open(limit)}
                onDelete={() => {
                  if (window.confirm(`Delete the ${PERIOD_LABELS[limit.period].toLowerCase()} limit of ${formatUsd(limit.limitMicros)} for ${limit.target}?`)) {
                    remove.mutate({ id: limit.id });
                  }
                }}
              />
            ))}
          </TBody>
        </Table>
      )}

      {canManage ? (
        <SpendLimitDialog
          open={editing !== null}
          limit={editing?.limit ?? null}
          session={editing?.session ?? 0}
          onClose={() => setEditing(null)}
          onSaved={async (saved, created) => {
            toast({ title: created ? `Added the limit “${saved.label}”` : `Saved the limit “${saved.label}”`, tone: "success" });
            setEditing(null);
            await refresh();
          }}
        />
      ) : null}
    </div>
  );
}

function LimitRow({
  limit,
  canManage,
  deleting,
  onEdit,
  onDelete,
}: {
  limit: SpendLimitRow;
  canManage: boolean;
  deleting: boolean;
  onEdit: () => void;
  onDelete: () => void;
}) {
  const { usage } = limit;
  const name = limit.scope === "AGENT" ? limit.agent?.slug : limit.scope === "USER" ? (limit.user?.name ?? limit.user?.email) : null;
  return (
    <TR className="align-top">
      <TD className="py-3">
        <div className="flex items-center gap-2">
          <Badge tone={limit.scope === "ORG" ? "accent" : limit.scope === "AGENT" ? "info" : "neutral"}>{SCOPE_LABELS[limit.scope]}</Badge>
          <span className="font-medium whitespace-nowrap text-fg">{limit.scope === "ORG" ? "Whole organisation" : (name ?? "(deleted)")}</span>
        </div>
        {limit.scope === "USER" && limit.user?.name ? <p className="mt-1 text-xs text-fg-subtle">{limit.user.email}</p> : null}
        {limit.scope === "AGENT" && limit.agent ? <p className="mt-1 text-xs text-fg-subtle">{limit.agent.name}</p> : null}
      </TD>
      <TD className="py-3">
        {PERIOD_LABELS[limit.period]}
        <p className="mt-1 text-xs whitespace-nowrap text-fg-subtle" title={`${new Date(usage.periodStart).toISOString()} – ${new Date(usage.periodEnd).toISOString()}`}>
          resets {resetsIn(usage.periodEnd)}
        </p>
      </TD>
      <TD className="py-3">
        <span className="font-medium">{MODE_LABELS[limit.mode]}</span>
        <p className="mt-1 text-xs whitespace-nowrap text-fg-subtle">{limit.mode === "HARD" ? "stops runs" : "only warns"}</p>
      </TD>
      <TD className="min-w-52 py-3">
        <div className="flex items-baseline justify-between gap-3 text-sm whitespace-nowrap tabular-nums">
          <span>
            <span className="font-medium text-fg">{formatUsd(usage.spentMicros)}</span>
            <span className="text-fg-muted"> of {formatUsd(limit.limitMicros)}</span>
          </span>
          <span className={cn("text-xs font-medium", stateTextClass(usage.state))}>{formatPercent(usage.percent)}</span>
        </div>
        <UsageBar className="mt-1.5" percent={usage.percent} state={usage.state} label={`${limit.label}: used`} />
      </TD>
      <TD numeric muted className="py-3">{limit.warnAtPercent} %</TD>
      <TD className="py-3"><StateBadge state={usage.state} mode={limit.mode} /></TD>
      {canManage ? (
        <TD className="py-2.5 text-right whitespace-nowrap">
          <Button size="sm" variant="ghost" onClick={onEdit}>Edit</Button>
          <Button size="sm" variant="ghost" onClick={onDelete} loading={deleting}>Delete</Button>
        </TD>
      ) : null}
    </TR>
  );
}

function SummaryCards({ summary }: { summary: SpendSummaryData }) {
  const monthTotal = summary.month.spentMicros;
  return (
    <div className="grid gap-3 sm:grid-cols-2 xl:grid-cols-3">
      <PeriodCard title="Today" period={summary.today} adjective="daily" />
      <PeriodCard title="This month" period={summary.month} adjective="monthly" />
      <section aria-labelledby="top-agents" className="rounded-lg border border-border bg-surface px-4 py-3 shadow-card sm:col-span-2 xl:col-span-1">
        <h2 id="top-agents" className="text-xs font-medium text-fg-muted">Top agents this month</h2>
        {summary.topAgents.length === 0 ? (
          <p className="mt-2 text-sm text-fg-subtle">No model spend this month yet.</p>
        ) : (
          <ul className="mt-2 space-y-1.5">
            {summary.topAgents.map((agent) => {
              const share = monthTotal > 0 ? (agent.spentMicros / monthTotal) * 100 : 0;
              return (
                <li key={agent.agentId}>
                  <div className="flex items-baseline justify-between gap-3 text-xs">
                    <span className="truncate font-medium text-fg" title={agent.name}>{agent.slug ?? agent.name}</span>
                    <span className="shrink-0 tabular-nums text-fg-muted">{formatUsd(agent.spentMicros)}</span>
                  </div>
                  <div className="mt-1 h-1 w-full overflow-hidden rounded-full bg-gray-100">
                    <div className="h-full rounded-full bg-accent-500" style={{ width: `${Math.min(100, share)}%` }} />
                  </div>
                </li>
              );
            })}
          </ul>
        )}
      </section>
    </div>
  );
}

function PeriodCard({ title, period, adjective }: { title: string; period: SpendSummaryData["today"]; adjective: string }) {
  const limit = period.limit;
  return (
    <section
      aria-label={`Spend ${title.toLowerCase()}`}
      className={cn(
        "rounded-lg border bg-surface px-4 py-3 shadow-card",
        limit?.state === "exceeded" ? "border-danger-200" : limit?.state === "warning" ? "border-warning-300" : "border-border",
      )}
    >
      <h2 className="text-xs font-medium text-fg-muted">{title}</h2>
      <p className="mt-1 flex flex-wrap items-baseline gap-x-2">
        <span className="text-xl font-semibold tabular-nums text-gray-950">{formatUsd(period.spentMicros)}</span>
        {limit ? <span className="text-xs whitespace-nowrap text-fg-subtle">of {formatUsd(limit.limitMicros)} {adjective} limit</span> : null}
      </p>
      {limit ? (
        <>
          <UsageBar className="mt-2" percent={limit.percent} state={limit.state} label={`Organisation ${adjective} limit: used`} />
          <p className={cn("mt-1.5 text-xs", stateTextClass(limit.state))}>
            {formatPercent(limit.percent)} used · {MODE_LABELS[limit.mode].toLowerCase()} limit · resets {resetsIn(period.end)}
          </p>
        </>
      ) : (
        <p className="mt-2 text-xs text-fg-subtle">No organisation-wide {adjective} limit · resets {resetsIn(period.end)}</p>
      )}
    </section>
  );
}
