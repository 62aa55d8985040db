"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { Fragment, useEffect, useRef, useState } from "react";
import { Badge, Button, Card, CardBody, EmptyState, PageHeader, Spinner, useToast } from "@/components/ui";
import { cn } from "@/lib/cn";
import { formatDateTime, formatUsd } from "@/lib/format";
import { hasScope } from "@/lib/scopes";
import { messageOf, useTRPC } from "@/lib/trpc";
import { EventSummary, GovernanceDetail, GOVERNANCE_TYPES, governanceBadgeTone, governanceBarColour, governanceRowText, summaryShowsError } from "./GovernanceEvents";
import { JsonView } from "./JsonView";
import { isResumableHalt, ResumeBanner, WaitingApprovalBanner } from "./RunBanners";
import { RunStatusBadge } from "./RunStatusBadge";
import { citationsOf, CitedText, MEMORY_TYPES, MemoryDetail, MemoryEventSummary } from "./MemoryEvents";
import { RunTree, SUPERVISOR_TYPES, SupervisorDetail, SupervisorEventSummary } from "./SupervisorEvents";
import { formatDuration, isLive } from "./runStatus";
import { runTriggerLabel } from "./runTrigger";

type JsonRecord = Record<string, unknown>;
const asRecord = (value: unknown): JsonRecord => (value && typeof value === "object" ? (value as JsonRecord) : {});

const TYPE_LABELS: Record<string, string> = {
  RUN_STARTED: "Run started",
  RUN_RESUMED: "Run resumed",
  MODEL_CALL: "Model",
  TOOL_CALL: "Tool",
  POLICY_DECISION: "Policy",
  APPROVAL: "Approval",
  MEMORY_READ: "Memory read",
  MEMORY_WRITE: "Memory write",
  CONTEXT_SUMMARY: "Context summary",
  DRAFT: "Draft",
  DELEGATION: "Delegation",
  GUARD: "Guard",
  ERROR: "Error",
  RUN_FINISHED: "Run finished",
};

const BAR_COLOURS: Record<string, string> = {
  MODEL_CALL: "bg-accent-500",
  TOOL_CALL: "bg-info-500",
  ERROR: "bg-danger-500",
  RUN_RESUMED: "bg-warning-500",
  DRAFT: "bg-warning-300",
  DELEGATION: "bg-accent-300",
  MEMORY_READ: "bg-success-300",
  MEMORY_WRITE: "bg-success-600",
  CONTEXT_SUMMARY: "bg-gray-500",
};

const MARKERS = new Set(["RUN_STARTED", "RUN_RESUMED", "RUN_FINISHED"]);

function Stat({ label, value }: { label: string; value: string }) {
  return (
    <div>
      <dt className="text-xs text-fg-subtle">{label}</dt>
      <dd className="mt-0.5 text-sm font-medium text-fg tabular-nums">{value}</dd>
    </div>
  );
}

export function RunDetail({ runId }: { runId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { toast } = useToast();
  const me = useQuery(trpc.me.get.queryOptions());
  const run = useQuery({
    ...trpc.runs.byId.queryOptions({ id: runId }),
    refetchInterval: (query) => (query.state.data && isLive(query.state.data.status) ? 1000 : false),
  });
  const live = run.data ? isLive(run.data.status) : false;
  const trace = useQuery({ ...trpc.runs.trace.queryOptions({ id: runId }), refetchInterval: live ? 1000 : false, enabled: run.isSuccess });
  // The two queries poll separately: when the run ends, read the trace once more so its last steps are not missed.
  const wasLive = useRef(live);
  const refetchTrace = trace.refetch;
  useEffect(() => {
    if (wasLive.current && !live) void refetchTrace();
    wasLive.current = live;
  }, [live, refetchTrace]);
  const waiting = run.data?.status === "WAITING_APPROVAL";
  // Which approval the run waits for (the trace's PENDING event does not know the approval's id yet).
  const pendingApprovals = useQuery({
    ...trpc.approvals.list.queryOptions({ runId, status: "PENDING", limit: 10 }),
    enabled: waiting,
    refetchInterval: waiting ? 2_000 : false,
  });
  const [open, setOpen] = useState<Set<number>>(new Set());
  // A link to one step (#event-<id>, e.g. a memory's provenance) arrives before the steps do: once they are here,
  // bring that step into view and mark it (the browser's own :target jump happened while the list was empty).
  const [targetEventId, setTargetEventId] = useState<string | null>(null);
  const traceLoaded = trace.isSuccess;
  useEffect(() => {
    if (!traceLoaded) return;
    const match = /^#event-(.+)$/.exec(window.location.hash);
    if (!match) return;
    setTargetEventId(match[1]!);
    document.getElementById(`event-${match[1]!}`)?.scrollIntoView({ block: "center" });
  }, [traceLoaded]);
  const cancel = useMutation(
    trpc.runs.cancel.mutationOptions({
      onSuccess: () => {
        toast({ title: "Cancellation requested", description: "The run stops at its next step.", tone: "info" });
        void queryClient.invalidateQueries({ queryKey: trpc.runs.byId.queryKey({ id: runId }) });
      },
      onError: (error) => toast({ title: "Could not cancel", description: messageOf(error), tone: "danger" }),
    }),
  );
  const resume = useMutation(
    trpc.runs.resume.mutationOptions({
      onSuccess: () => {
        toast({ title: "Resuming", description: "The run is queued again and continues where it stopped.", tone: "success" });
        void queryClient.invalidateQueries({ queryKey: trpc.runs.byId.queryKey({ id: runId }) });
        void queryClient.invalidateQueries({ queryKey: trpc.runs.trace.queryKey({ id: runId }) });
      },
      onError: (error) => toast({ title: "Could not resume", description: messageOf(error), tone: "danger", duration: 10_000 }),
    }),
  );

  if (run.isPending) return <Spinner label="Loading the run" showLabel />;
  if (run.isError) {
    return (
      <EmptyState
        title="Run not found"
        description={messageOf(run.error)}
        action={<Link href="/runs" className="text-sm font-medium text-accent-700 hover:underline">Back to runs</Link>}
      />
    );
  }
  const data = run.data;
  const events = trace.data ?? [];
  const now = Date.now();
  const origin = events[0]?.startedAt.getTime() ?? data.startedAt?.getTime() ?? now;
  const end = Math.max(data.endedAt?.getTime() ?? now, ...events.map((e) => (e.endedAt ?? new Date(now)).getTime()));
  const span = Math.max(end - origin, 1);
  const waitingFor = waiting ? (pendingApprovals.data?.items ?? []) : [];
  const approvalHrefFor = (toolName: string) => {
    const match = waitingFor.find((a) => a.toolName === toolName) ?? waitingFor[0];
    return match ? `/approvals#approval-${match.id}` : "/approvals";
  };
  const toggle = (seq: number) => setOpen((current) => { const next = new Set(current); if (next.has(seq)) next.delete(seq); else next.add(seq); return next; });

  return (
    <div className="space-y-6">
      <PageHeader
        eyebrow={<Link href="/runs" className="hover:underline">Runs</Link>}
        title={<span className="flex items-center gap-3">{data.agent.name}<RunStatusBadge status={data.status} />{live ? <Spinner size="sm" label="The run is in progress" /> : null}</span>}
        description={
          <>
            <span className="font-mono text-xs">{data.id}</span>
            <span className="text-xs text-fg-subtle"> · started via {runTriggerLabel(data.trigger)}</span>
          </>
        }
        actions={live && hasScope(me.data, "runs:cancel") ? <Button variant="danger" loading={cancel.isPending} onClick={() => cancel.mutate({ id: runId })}>Cancel run</Button> : null}
      />

      {waiting ? <WaitingApprovalBanner approvals={waitingFor} canDecide={hasScope(me.data, "approvals:decide")} now={now} /> : null}
      {isResumableHalt(data.status, data.haltReason) && data.haltReason ? (
        <ResumeBanner haltReason={data.haltReason} canResume={hasScope(me.data, "runs:write")} resuming={resume.isPending} onResume={() => resume.mutate({ id: runId })} />
      ) : null}

      <Card>
        <CardBody>
          <dl className="grid grid-cols-2 gap-4 sm:grid-cols-3 lg:grid-cols-6">
            <Stat label="Duration" value={formatDuration(data.startedAt ? (data.endedAt ?? new Date()).getTime() - data.startedAt.getTime() : null)} />
            <Stat label="Steps" value={String(data.events.filter((e) => !MARKERS.has(e.type)).length)} />
            <Stat label="Input tokens" value={data.inputTokens.toLocaleString()} />
            <Stat label="Output tokens" value={data.outputTokens.toLocaleString()} />
            <Stat label="Cost" value={formatUsd(data.costMicros)} />
            <Stat label="On behalf of" value={data.onBehalfOf.email} />
          </dl>
          <div className="mt-5 grid gap-4 lg:grid-cols-2">
            <div>
              <p className="mb-1 text-xs font-medium text-fg-subtle uppercase">Input</p>
              <p className="rounded-md border border-border bg-gray-50 p-3 text-sm whitespace-pre-wrap">{data.input}</p>
            </div>
            <div>
              <p className="mb-1 text-xs font-medium text-fg-subtle uppercase">{data.error ? "Why it stopped" : "Output"}</p>
              {data.error ? (
                <p role="alert" className="rounded-md border border-danger-200 bg-danger-50 p-3 text-sm whitespace-pre-wrap text-danger-800">{data.error}</p>
              ) : (
                <p className="rounded-md border border-border bg-gray-50 p-3 text-sm whitespace-pre-wrap">{data.output ? <CitedText text={data.output} passages={citationsOf(events)} /> : live ? "Working on it…" : "—"}</p>
              )}
            </div>
          </div>
        </CardBody>
      </Card>

      <RunTree runId={runId} live={live} />

      <section aria-label="Timeline" className="overflow-hidden rounded-lg border border-border bg-surface shadow-card">
        <div className="grid grid-cols-[3rem_minmax(10rem,1.2fr)_minmax(12rem,2fr)_6rem_6rem_6rem] items-center gap-3 border-b border-border bg-gray-50/80 px-4 py-2 text-xs font-medium text-fg-subtle">
          <span>#</span><span>Step</span><span>Timeline</span><span className="text-right">Duration</span><span className="text-right">Tokens</span><span className="text-right">Cost</span>
        </div>
        {events.length === 0 ? (
          <p className="px-4 py-6 text-sm text-fg-muted">{live ? "Waiting for a worker to pick the run up…" : "No events."}</p>
        ) : (
          <ol>
            {events.map((event) => {
              const startedAt = event.startedAt.getTime();
              const endedAt = (event.endedAt ?? new Date(now)).getTime();
              const left = ((startedAt - origin) / span) * 100;
              const width = Math.max(((endedAt - startedAt) / span) * 100, 0.6);
              const payload = asRecord(event.payload);
              const expandable = event.type === "MODEL_CALL" || event.type === "TOOL_CALL" || MARKERS.has(event.type) || GOVERNANCE_TYPES.has(event.type) || SUPERVISOR_TYPES.has(event.type) || MEMORY_TYPES.has(event.type);
              const isOpen = open.has(event.seq);
              const governanceTone = governanceBadgeTone(event.type, event.status, payload);
              const rowText = governanceRowText(event.type, event.name, payload);
              return (
                <Fragment key={event.id}>
                  <li
                    id={`event-${event.id}`}
                    aria-current={targetEventId === event.id ? "step" : undefined}
                    className={cn("scroll-mt-4 border-b border-border last:border-b-0 target:bg-accent-50/60", targetEventId === event.id && "bg-accent-50/60 ring-2 ring-accent-200 ring-inset")}
                  >
                    <button
                      type="button"
                      onClick={() => expandable && toggle(event.seq)}
                      aria-expanded={expandable ? isOpen : undefined}
                      className="grid w-full grid-cols-[3rem_minmax(10rem,1.2fr)_minmax(12rem,2fr)_6rem_6rem_6rem] items-center gap-3 px-4 py-2 text-left text-sm hover:bg-gray-50"
                    >
                      <span className="text-xs text-fg-subtle tabular-nums">{event.seq}</span>
                      <span className="flex min-w-0 items-center gap-2">
                        <Badge tone={governanceTone ?? (event.status === "ERROR" ? "danger" : event.status === "PENDING" ? "info" : event.type === "MODEL_CALL" ? "accent" : event.type === "RUN_RESUMED" ? "warning" : "neutral")}>
                          {TYPE_LABELS[event.type] ?? event.type}
                        </Badge>
                        {/* Only the step itself carries the tool's name as a title: policy and approval rows about the same tool do not. */}
                        {rowText ?? <span className="truncate font-medium text-fg" title={event.name}>{event.name}</span>}
                        {event.status === "PENDING" ? <Spinner size="sm" label={event.type === "APPROVAL" || event.type === "DRAFT" ? "Waiting for a person's decision" : `Waiting for ${event.name}`} /> : null}
                      </span>
                      <span className="relative h-2.5 rounded-full bg-gray-100" aria-hidden="true">
                        <span
                          className={cn("absolute top-0 h-2.5 rounded-full", governanceBarColour(event.type, event.status, payload) ?? BAR_COLOURS[event.type] ?? "bg-gray-400", event.status === "PENDING" && "animate-pulse", event.status === "ERROR" && "bg-danger-500")}
                          style={{ left: `${Math.min(left, 99.4)}%`, width: `${Math.min(width, 100 - left)}%` }}
                        />
                      </span>
                      <span className="text-right text-xs text-fg-muted tabular-nums">{event.endedAt ? formatDuration(endedAt - startedAt) : "…"}</span>
                      <span className="text-right text-xs text-fg-muted tabular-nums">{event.inputTokens + event.outputTokens > 0 ? `${event.inputTokens} / ${event.outputTokens}` : "—"}</span>
                      <span className="text-right text-xs text-fg-muted tabular-nums">{event.costMicros > 0 ? formatUsd(event.costMicros) : "—"}</span>
                    </button>
                    <EventSummary type={event.type} status={event.status} payload={payload} approvalHref={approvalHrefFor(event.name)} now={now} />
                    <SupervisorEventSummary type={event.type} status={event.status} payload={payload} />
                    <MemoryEventSummary type={event.type} status={event.status} payload={payload} />
                    {isOpen ? <EventDetail type={event.type} payload={payload} startedAt={event.startedAt} /> : null}
                  </li>
                </Fragment>
              );
            })}
          </ol>
        )}
        <div className="grid grid-cols-[3rem_minmax(10rem,1.2fr)_minmax(12rem,2fr)_6rem_6rem_6rem] items-center gap-3 border-t border-border bg-gray-50/80 px-4 py-2 text-xs font-medium text-fg">
          <span />
          <span>Total</span>
          <span />
          <span className="text-right tabular-nums">{formatDuration(span)}</span>
          <span className="text-right tabular-nums">{data.inputTokens} / {data.outputTokens}</span>
          <span className="text-right tabular-nums">{formatUsd(data.costMicros)}</span>
        </div>
      </section>
    </div>
  );
}

function textOf(value: unknown): string {
  return typeof value === "string" || typeof value === "number" ? String(value) : "";
}

function EventDetail({ type, payload, startedAt }: { type: string; payload: JsonRecord; startedAt: Date }) {
  const error = asRecord(payload.error);
  const errorText = summaryShowsError(type, payload) ? null : typeof payload.error === "string" ? payload.error : typeof error.message === "string" ? error.message : null;
  return (
    <div className="space-y-3 border-t border-border bg-gray-50/50 px-4 py-3 pl-16">
      <p className="text-xs text-fg-subtle">Started {formatDateTime(startedAt)}</p>
      {errorText ? <p role="alert" className="rounded-md border border-danger-200 bg-danger-50 p-2 text-sm text-danger-800">{errorText}</p> : null}
      {type === "MODEL_CALL" ? (
        <>
          <p className="text-xs text-fg-muted">
            {textOf(payload.modelConfig)} · {textOf(payload.model)}
            {payload.usedFallback ? " · answered by the fallback model" : ""}
            {typeof payload.attempts === "number" && payload.attempts > 1 ? ` · ${payload.attempts} attempts` : ""}
          </p>
          {payload.response ? <JsonView label="Response" value={payload.response} /> : null}
        </>
      ) : null}
      {type === "TOOL_CALL" ? (
        <>
          <p className="text-xs text-fg-muted">Server {textOf(payload.server) || "—"}</p>
          <JsonView label="Arguments" value={payload.args ?? {}} />
          {payload.result ? <JsonView label="Result" value={asRecord(payload.result).content ?? payload.result} /> : null}
        </>
      ) : null}
      {type === "RUN_RESUMED" ? <p className="text-sm text-fg-muted">{textOf(payload.reason)}</p> : null}
      {MARKERS.has(type) ? <JsonView label="Details" value={payload} /> : null}
      {GOVERNANCE_TYPES.has(type) ? <GovernanceDetail type={type} payload={payload} /> : null}
      {SUPERVISOR_TYPES.has(type) ? <SupervisorDetail type={type} payload={payload} /> : null}
      {MEMORY_TYPES.has(type) ? <MemoryDetail type={type} payload={payload} /> : null}
    </div>
  );
}
