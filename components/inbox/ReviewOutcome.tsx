"use client";

import Link from "next/link";
import type { ReactNode } from "react";
import { RunStatusBadge } from "@/components/runs/RunStatusBadge";
import { isLive } from "@/components/runs/runStatus";
import { Button, IconAlertCircle, IconAlertTriangle, IconCheckCircle, IconInfo, Spinner } from "@/components/ui";
import { cn } from "@/lib/cn";
import { formatDateTime } from "@/lib/format";
import { eventHref } from "./ReviewContext";
import { personName, prettyResult, splitSources, type InboxDetail } from "./shared";

type Tone = "success" | "info" | "warning" | "danger" | "neutral";

const TONES: Record<Tone, string> = {
  success: "border-success-200 bg-success-50 text-success-800",
  info: "border-info-200 bg-info-50 text-info-800",
  warning: "border-warning-200 bg-warning-50 text-warning-800",
  danger: "border-danger-200 bg-danger-50 text-danger-800",
  neutral: "border-border bg-gray-50 text-fg",
};

function Banner({ tone, icon, title, children, action }: { tone: Tone; icon: ReactNode; title: ReactNode; children?: ReactNode; action?: ReactNode }) {
  return (
    <div role="status" className={cn("flex items-start gap-3 rounded-lg border px-4 py-3 text-sm", TONES[tone])}>
      <span className="mt-0.5 shrink-0 [&_svg]:size-4">{icon}</span>
      <div className="min-w-0 flex-1 space-y-1">
        <p className="font-medium">{title}</p>
        {children}
      </div>
      {action ? <div className="shrink-0 self-center">{action}</div> : null}
    </div>
  );
}

function NextButton({ onNext }: { onNext: (() => void) | null }) {
  if (!onNext) return null;
  return (
    <Button size="sm" onClick={onNext} title="Next draft (j)">
      Next draft <kbd className="font-mono text-[11px] text-fg-subtle">j</kbd>
    </Button>
  );
}

/** How the run is doing after the decision: working, held by policy, finished. */
function RunAfterDecision({ item, runError, commitVerb }: { item: InboxDetail; runError: string | null; commitVerb: string | null }) {
  const { run } = item;
  const { afterDecision } = splitSources(item.sources, item.draftEvents);
  const commitCall = item.commitAction ? afterDecision.find((source) => source.tool === item.commitAction?.tool) : undefined;
  return (
    <>
      {isLive(run.status) && run.status !== "WAITING_APPROVAL" ? (
        <p className="flex items-center gap-2">
          <Spinner size="sm" label="The run is working" />
          {commitVerb ? `The run is ${commitVerb}…` : "The run is finishing…"}
        </p>
      ) : null}
      {run.status === "WAITING_APPROVAL" ? (
        <p>
          A policy holds <code className="font-mono text-xs font-semibold">{item.commitAction?.tool ?? "the next call"}</code> for an approval before it runs.{" "}
          <Link href="/approvals" className="font-medium underline underline-offset-2 hover:no-underline">Open approvals</Link>
        </p>
      ) : null}
      {commitCall ? (
        <div className="min-w-0">
          <p>
            <code className="font-mono text-xs font-semibold">{commitCall.tool}</code>
            {commitCall.status === "ERROR" ? " failed" : " ran"} ·{" "}
            <Link href={eventHref(run.id, commitCall.eventId)} className="text-xs font-medium underline underline-offset-2 hover:no-underline">step #{commitCall.seq}</Link>
          </p>
          {commitCall.result ? (
            <details className="group mt-1">
              <summary className="cursor-pointer text-xs font-medium opacity-80 hover:opacity-100">{commitCall.status === "ERROR" ? "Error" : "What it returned"}</summary>
              <pre className="mt-1 max-h-48 overflow-auto rounded-md bg-surface/70 p-2 font-mono text-xs leading-relaxed break-words whitespace-pre-wrap text-fg">{prettyResult(commitCall.result)}</pre>
            </details>
          ) : null}
        </div>
      ) : null}
      {!isLive(run.status) ? (
        <div className="space-y-1">
          <p className="flex flex-wrap items-center gap-2">
            The run {run.status === "SUCCEEDED" ? "finished" : "ended"}: <RunStatusBadge status={run.status} />
            <Link href={`/runs/${run.id}`} className="text-xs font-medium underline underline-offset-2 hover:no-underline">Open the run</Link>
          </p>
          {run.output ? <p className="rounded-md bg-surface/70 px-3 py-2 whitespace-pre-wrap text-fg" data-testid="inbox-run-output">{run.output}</p> : null}
          {runError ? <p className="rounded-md bg-surface/70 px-3 py-2 whitespace-pre-wrap text-danger-800">{runError}</p> : null}
        </div>
      ) : null}
    </>
  );
}

/** What has happened to a draft that is no longer waiting for a decision. */
export function ReviewOutcome({ item, meId, runError, onNext }: { item: InboxDetail; meId: string | null; runError: string | null; onNext: (() => void) | null }) {
  const who = item.decidedBy ? personName(item.decidedBy, meId) : null;
  const when = item.decidedAt ? formatDateTime(item.decidedAt) : null;
  const runFailed = !isLive(item.run.status) && item.run.status !== "SUCCEEDED";

  if (item.status === "CHANGES_REQUESTED") {
    const stopped = !isLive(item.run.status);
    return (
      <Banner
        tone={stopped ? "warning" : "info"}
        icon={stopped ? <IconAlertTriangle /> : <Spinner size="sm" label="Waiting for the agent's revision" />}
        title={stopped ? "The run ended before the agent revised the draft" : `Sent back for changes${who ? ` by ${who}` : ""}`}
        action={<NextButton onNext={onNext} />}
      >
        {stopped ? (
          <p className="flex flex-wrap items-center gap-2">The run is <RunStatusBadge status={item.run.status} />; no new revision will come.</p>
        ) : (
          <p>{item.agent.name} is revising the draft from the feedback. Revision {item.currentRevision + 1} appears here as soon as it is submitted.</p>
        )}
      </Banner>
    );
  }

  if (item.status === "ACCEPTED") {
    const latest = item.revisions[item.revisions.length - 1];
    const edited = latest?.author === "HUMAN";
    const to = item.commitAction && typeof item.commitAction.args.to === "string" ? item.commitAction.args.to : null;
    const commitVerb = item.commitAction ? (to ? `sending it to ${to} with ${item.commitAction.tool}` : `running ${item.commitAction.tool} with it`) : null;
    return (
      <Banner
        tone={runFailed ? "danger" : item.run.status === "WAITING_APPROVAL" ? "warning" : "success"}
        icon={runFailed ? <IconAlertCircle /> : <IconCheckCircle />}
        title={
          <>
            {edited ? `Revision ${item.currentRevision} (${who === "you" ? "your edit" : "edited"}) accepted` : `Revision ${item.currentRevision} accepted`}
            {who ? ` by ${who}` : ""}
            {when ? <span className="font-normal opacity-80"> · {when}</span> : null}
          </>
        }
        action={<NextButton onNext={onNext} />}
      >
        <RunAfterDecision item={item} runError={runError} commitVerb={commitVerb} />
      </Banner>
    );
  }

  if (item.status === "DISCARDED") {
    return (
      <Banner
        tone="neutral"
        icon={<IconInfo />}
        title={
          <>
            Discarded{who ? ` by ${who}` : " automatically: the run ended before anyone decided"}
            {when ? <span className="font-normal text-fg-muted"> · {when}</span> : null}
          </>
        }
        action={<NextButton onNext={onNext} />}
      >
        <p className="text-fg-muted">Nothing was {item.commitAction ? "sent" : "done with it"}. The agent is told the draft was discarded.</p>
        <RunAfterDecision item={item} runError={runError} commitVerb={null} />
      </Banner>
    );
  }
  return null;
}
