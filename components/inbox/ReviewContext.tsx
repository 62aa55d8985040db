"use client";

import Link from "next/link";
import type { ReactNode } from "react";
import { Badge, Card, IconChevronRight, Spinner } from "@/components/ui";
import { cn } from "@/lib/cn";
import { formatDateTime } from "@/lib/format";
import { authorLabel, type DraftMode } from "./DraftPanel";
import { argsSummary, personName, prettyResult, splitSources, type InboxDetail, type InboxSource } from "./shared";

function SectionTitle({ children, aside }: { children: ReactNode; aside?: ReactNode }) {
  return (
    <div className="flex items-center justify-between gap-3 border-b border-border px-4 py-2.5">
      <h3 className="text-sm font-semibold text-gray-950">{children}</h3>
      {aside}
    </div>
  );
}

/** Every revision in order, the feedback each one got, and how the item ended. */
export function RevisionHistory({ item, shownRevision, onShow, meId }: {
  item: InboxDetail;
  shownRevision: number;
  onShow: (revision: number, mode: DraftMode) => void;
  meId: string | null;
}) {
  const decider = personName(item.decidedBy, meId);
  return (
    <Card role="region" aria-label="Revisions">
      <SectionTitle aside={<span className="text-xs text-fg-subtle tabular-nums">{item.revisions.length} revision{item.revisions.length === 1 ? "" : "s"}</span>}>Revisions</SectionTitle>
      <ol className="px-4 py-3">
        {item.revisions.map((revision, index) => {
          const shown = revision.revision === shownRevision;
          const last = index === item.revisions.length - 1;
          return (
            <li key={revision.revision} className="relative flex gap-3 pb-4 last:pb-0">
              {!last || item.status !== "PENDING" ? <span aria-hidden="true" className="absolute top-6 bottom-0 left-[11px] w-px bg-border" /> : null}
              <span
                aria-hidden="true"
                className={cn(
                  "relative z-10 flex size-6 shrink-0 items-center justify-center rounded-full text-xs font-semibold tabular-nums ring-4 ring-surface",
                  shown ? "bg-accent-600 text-white" : revision.author === "HUMAN" ? "bg-info-100 text-info-800" : "bg-gray-100 text-gray-700",
                )}
              >
                {revision.revision}
              </span>
              <div className="min-w-0 flex-1">
                <div className="flex flex-wrap items-baseline justify-between gap-x-3 gap-y-1">
                  <p className="text-sm">
                    <span className={cn("font-medium", shown ? "text-accent-700" : "text-fg")}>Revision {revision.revision}</span>{" "}
                    <span className="text-fg-muted">{authorLabel(revision, item.agent.name, meId)}</span>
                    <span className="block text-xs text-fg-subtle">{formatDateTime(revision.createdAt)}</span>
                  </p>
                  <span className="flex gap-3 text-xs font-medium">
                    <button type="button" onClick={() => onShow(revision.revision, "preview")} className="text-accent-700 hover:underline" aria-label={`Show revision ${revision.revision}`}>
                      View
                    </button>
                    {index > 0 ? (
                      <button type="button" onClick={() => onShow(revision.revision, "changes")} className="text-accent-700 hover:underline" aria-label={`Compare revision ${revision.revision} with revision ${revision.revision - 1}`}>
                        Compare with {revision.revision - 1}
                      </button>
                    ) : null}
                  </span>
                </div>
                {revision.feedback ? (
                  <div className="mt-2">
                    <p className="text-xs font-medium text-fg-subtle">Changes requested</p>
                    <blockquote className="mt-1 rounded-md border-l-4 border-warning-300 bg-warning-50 px-3 py-2 text-sm whitespace-pre-wrap text-warning-800">{revision.feedback}</blockquote>
                  </div>
                ) : null}
              </div>
            </li>
          );
        })}
        {item.status === "CHANGES_REQUESTED" ? (
          <li className="relative flex gap-3 pt-0">
            <span aria-hidden="true" className="relative z-10 flex size-6 shrink-0 items-center justify-center rounded-full border border-dashed border-border-strong bg-surface">
              <Spinner size="sm" label="Waiting for the next revision" />
            </span>
            <p className="pt-0.5 text-sm text-fg-muted">Revision {item.currentRevision + 1}: {item.agent.name} is working on it…</p>
          </li>
        ) : item.status === "ACCEPTED" || item.status === "DISCARDED" ? (
          <li className="relative flex gap-3">
            <span
              aria-hidden="true"
              className={cn("relative z-10 flex size-6 shrink-0 items-center justify-center rounded-full ring-4 ring-surface", item.status === "ACCEPTED" ? "bg-success-100 text-success-700" : "bg-gray-100 text-gray-600")}
            >
              <span className={cn("size-2 rounded-full", item.status === "ACCEPTED" ? "bg-success-500" : "bg-gray-400")} />
            </span>
            <p className="pt-0.5 text-sm">
              <span className="font-medium">{item.status === "ACCEPTED" ? `Revision ${item.currentRevision} accepted` : "Discarded"}</span>
              <span className="text-fg-muted"> {item.decidedBy ? `by ${decider}` : "automatically (the run ended first)"}</span>
              {item.decidedAt ? <span className="block text-xs text-fg-subtle">{formatDateTime(item.decidedAt)}</span> : null}
            </p>
          </li>
        ) : null}
      </ol>
    </Card>
  );
}

/** The run's anchor for one event; the run page scrolls to `#event-<eventId>`. */
export function eventHref(runId: string, eventId: string): string {
  return `/runs/${runId}#event-${eventId}`;
}

function SourceItem({ source, runId }: { source: InboxSource; runId: string }) {
  const failed = source.status === "ERROR";
  const summary = argsSummary(source.args);
  return (
    <li>
      <details className="group">
        <summary className="flex cursor-pointer list-none items-center gap-2 px-4 py-2.5 hover:bg-gray-50 [&::-webkit-details-marker]:hidden">
          <IconChevronRight size={14} className="shrink-0 text-fg-subtle transition-transform group-open:rotate-90" />
          <span className="font-mono text-xs font-semibold text-fg">{source.tool}</span>
          {failed ? <Badge tone="danger">failed</Badge> : null}
          <span className="min-w-0 flex-1 truncate font-mono text-xs text-fg-muted" title={summary}>{summary}</span>
          <span className="shrink-0 text-xs text-fg-subtle tabular-nums">#{source.seq}</span>
        </summary>
        <div className="space-y-2 border-t border-border/70 bg-gray-50/50 px-4 py-3 pl-10">
          <p className="text-xs font-medium text-fg-subtle uppercase">{failed ? "Error" : "Result"}</p>
          <pre className={cn("max-h-72 overflow-auto rounded-md border p-3 font-mono text-xs leading-relaxed break-words whitespace-pre-wrap", failed ? "border-danger-200 bg-danger-50 text-danger-800" : "border-border bg-surface text-fg")}>
            {source.result === null ? "No result recorded." : prettyResult(source.result)}
          </pre>
          <Link href={eventHref(runId, source.eventId)} className="inline-block text-xs font-medium text-accent-700 hover:underline">
            Step #{source.seq} in the run →
          </Link>
        </div>
      </details>
    </li>
  );
}

/** What the agent was asked, for whom, and the tool results it drew on. */
export function ContextCard({ item }: { item: InboxDetail }) {
  const { context } = splitSources(item.sources, item.draftEvents);
  return (
    <Card role="region" aria-label="Context">
      <SectionTitle aside={<Link href={`/runs/${item.run.id}`} className="text-xs font-medium text-accent-700 hover:underline">Open the run →</Link>}>Context</SectionTitle>
      <div className="space-y-1 px-4 py-3">
        <p className="text-xs font-medium text-fg-subtle uppercase">Request</p>
        {item.run.input.trim() ? (
          <p className="rounded-md border border-border bg-gray-50 px-3 py-2 text-sm whitespace-pre-wrap">{item.run.input}</p>
        ) : (
          <p className="text-sm text-fg-muted italic">Started without input: the agent worked from its instructions alone.</p>
        )}
      </div>
      <div className="border-t border-border">
        <p className="px-4 pt-3 pb-1 text-xs font-medium text-fg-subtle uppercase">
          Sources <span className="font-normal normal-case">· tool results the agent drew on</span>
        </p>
        {context.length === 0 ? (
          <p className="px-4 pb-3 text-sm text-fg-muted">The agent called no tools before drafting.</p>
        ) : (
          <ul aria-label="Sources" className="divide-y divide-border/70 pb-1">
            {context.map((source) => <SourceItem key={source.eventId} source={source} runId={item.run.id} />)}
          </ul>
        )}
      </div>
    </Card>
  );
}
