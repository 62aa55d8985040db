"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { useState } from "react";
import { Button, EmptyState, IconPlus, IconRuns, PageHeader, Select, Spinner, Table, TBody, TD, TH, THead, TR } from "@/components/ui";
import { formatRelative, formatUsd } from "@/lib/format";
import { hasScope } from "@/lib/scopes";
import { messageOf, useTRPC } from "@/lib/trpc";
import { RunStatusBadge } from "./RunStatusBadge";
import { runTriggerLabel } from "./runTrigger";
import { formatDuration, isLive } from "./runStatus";
import { StartRunDialog } from "./StartRunDialog";

const STATUSES = ["QUEUED", "RUNNING", "WAITING_APPROVAL", "WAITING_REVIEW", "WAITING_CHILDREN", "SUCCEEDED", "FAILED", "CANCELLED", "HALTED"] as const;
type Status = (typeof STATUSES)[number];
const PERIODS = { "": "Any time", "1h": "Last hour", "24h": "Last 24 hours", "7d": "Last 7 days" } as const;
const PERIOD_MS: Record<string, number> = { "1h": 3_600_000, "24h": 86_400_000, "7d": 7 * 86_400_000 };

/** Filters a link can preset, e.g. the dashboard's /runs?status=FAILED&period=24h or /runs?agent=<id>. */
function filtersFromUrl(params: { get(name: string): string | null }) {
  const status = params.get("status") ?? "";
  const period = params.get("period") ?? "";
  return {
    status: (STATUSES as readonly string[]).includes(status) ? (status as Status) : "",
    agentId: params.get("agent") ?? "",
    period: Object.hasOwn(PERIODS, period) ? (period as keyof typeof PERIODS) : "",
  } as const;
}

export function RunsList() {
  const trpc = useTRPC();
  const me = useQuery(trpc.me.get.queryOptions());
  const agents = useQuery(trpc.agents.list.queryOptions());
  const searchParams = useSearchParams();
  const [initial] = useState(() => filtersFromUrl(searchParams));
  const [status, setStatus] = useState<Status | "">(initial.status);
  const [agentId, setAgentId] = useState(initial.agentId);
  const [period, setPeriod] = useState<keyof typeof PERIODS>(initial.period);
  const [mine, setMine] = useState(false);
  const [cursors, setCursors] = useState<string[]>([]);
  const [starting, setStarting] = useState(false);
  // Rounded to the minute so the query key is stable between polls.
  const createdAfter = period ? new Date(Math.floor((Date.now() - (PERIOD_MS[period] ?? 0)) / 60_000) * 60_000) : undefined;
  const runs = useQuery({
    ...trpc.runs.list.queryOptions({
      limit: 25,
      status: status || undefined,
      agentId: agentId || undefined,
      onBehalfOfUserId: mine ? (me.data?.user?.id ?? undefined) : undefined,
      createdAfter,
      cursor: cursors[cursors.length - 1],
    }),
    placeholderData: keepPreviousData,
    // Live status: poll while anything on the page is still moving.
    refetchInterval: (query) => (query.state.data?.items.some((run) => isLive(run.status)) ? 1500 : 10_000),
  });
  const resetPaging = () => setCursors([]);

  return (
    <div className="space-y-6">
      <PageHeader
        title="Runs"
        description="Every run of every agent, newest first. Live while they work."
        actions={hasScope(me.data, "runs:write") ? <Button variant="primary" icon={<IconPlus />} onClick={() => setStarting(true)}>Start run</Button> : null}
      />
      <div className="flex flex-wrap items-end gap-3">
        <label className="text-xs text-fg-muted">
          Agent
          <Select aria-label="Filter by agent" value={agentId} onChange={(e) => { setAgentId(e.target.value); resetPaging(); }} className="mt-1 w-48">
            <option value="">All agents</option>
            {agents.data?.map((agent) => <option key={agent.id} value={agent.id}>{agent.name}</option>)}
          </Select>
        </label>
        <label className="text-xs text-fg-muted">
          Status
          <Select aria-label="Filter by status" value={status} onChange={(e) => { setStatus(e.target.value as Status | ""); resetPaging(); }} className="mt-1 w-44">
            <option value="">Any status</option>
            {STATUSES.map((s) => <option key={s} value={s}>{s.toLowerCase().replace("_", " ")}</option>)}
          </Select>
        </label>
        <label className="text-xs text-fg-muted">
          Started
          <Select aria-label="Filter by time" value={period} onChange={(e) => { setPeriod(e.target.value as keyof typeof PERIODS); resetPaging(); }} className="mt-1 w-40">
            {Object.entries(PERIODS).map(([value, label]) => <option key={value} value={value}>{label}</option>)}
          </Select>
        </label>
        <label className="flex h-8 items-center gap-2 text-sm text-fg">
          <input type="checkbox" checked={mine} onChange={(e) => { setMine(e.target.checked); resetPaging(); }} className="size-3.5 accent-accent-600" />
          On my behalf
        </label>
      </div>
      {runs.isPending ? (
        <Spinner label="Loading runs" showLabel />
      ) : runs.isError ? (
        <p role="alert" className="text-sm text-danger-700">{messageOf(runs.error)}</p>
      ) : runs.data.items.length === 0 ? (
        <EmptyState icon={<IconRuns />} title="No runs match" description="Runs appear here as soon as an agent is started from the console or the REST API." />
      ) : (
        <>
          <Table containerClassName="rounded-lg border border-border bg-surface shadow-card" caption="Runs">
            <THead>
              <TR>
                <TH>Run</TH>
                <TH>Agent</TH>
                <TH>Status</TH>
                <TH>Input</TH>
                <TH>On behalf of</TH>
                <TH numeric>Steps</TH>
                <TH numeric>Duration</TH>
                <TH numeric>Cost</TH>
                <TH>Started</TH>
              </TR>
            </THead>
            <TBody>
              {runs.data.items.map((run) => (
                <TR key={run.id}>
                  <TD>
                    <Link href={`/runs/${run.id}`} className="font-mono text-xs text-accent-700 hover:underline">{run.id.slice(-8)}</Link>
                    <span className="block text-xs whitespace-nowrap text-fg-subtle">via {runTriggerLabel(run.trigger)}</span>
                  </TD>
                  <TD>{run.agent.name}</TD>
                  <TD><RunStatusBadge status={run.status} /></TD>
                  <TD><span className="line-clamp-1 max-w-56 text-fg-muted" title={run.input}>{run.input}</span></TD>
                  <TD muted>{run.onBehalfOf.email}</TD>
                  <TD numeric>{run.stepCount}</TD>
                  <TD numeric>{formatDuration(run.startedAt ? (run.endedAt ?? new Date()).getTime() - run.startedAt.getTime() : null)}</TD>
                  <TD numeric>{formatUsd(run.costMicros)}</TD>
                  <TD muted>{formatRelative(run.createdAt)}</TD>
                </TR>
              ))}
            </TBody>
          </Table>
          <div className="flex items-center justify-end gap-2">
            <Button size="sm" disabled={cursors.length === 0} onClick={() => setCursors((c) => c.slice(0, -1))}>Newer</Button>
            <Button size="sm" disabled={!runs.data.nextCursor} onClick={() => runs.data.nextCursor && setCursors((c) => [...c, runs.data.nextCursor!])}>Older</Button>
          </div>
        </>
      )}
      <StartRunDialog open={starting} onClose={() => setStarting(false)} />
    </div>
  );
}
