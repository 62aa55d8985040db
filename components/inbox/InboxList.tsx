"use client";

import Link from "next/link";
import { Badge } from "@/components/ui";
import { formatSpan } from "@/components/approvals/shared";
import { cn } from "@/lib/cn";
import { formatDateTime, formatRelative } from "@/lib/format";
import { KindIcon } from "./KindIcon";
import { AssigneeChip } from "./People";
import { isOpen, itemHref, KIND_LABELS, STATUS_BADGES, type InboxSummary } from "./shared";

/** Waiting longer than this reads as overdue. */
const LATE_MS = 60 * 60_000;

function Age({ item, now }: { item: InboxSummary; now: number }) {
  if (isOpen(item.status)) {
    const waited = now - item.createdAt.getTime();
    return (
      <span title={`Submitted ${formatDateTime(item.createdAt)}`} className={cn("tabular-nums", waited > LATE_MS && "font-medium text-warning-700")}>
        waiting {formatSpan(waited)}
      </span>
    );
  }
  const at = item.decidedAt ?? item.updatedAt;
  return <span title={formatDateTime(at)}>{formatRelative(at, now)}</span>;
}

function Row({ item, selected, search, now, meId }: { item: InboxSummary; selected: boolean; search: string; now: number; meId: string | null }) {
  const unread = item.readAt === null && item.status === "PENDING";
  const status = item.status === "PENDING" ? null : STATUS_BADGES[item.status];
  return (
    <li>
      <Link
        id={`inbox-row-${item.id}`}
        href={itemHref(item.id, search)}
        scroll={false}
        aria-current={selected ? "true" : undefined}
        data-unread={unread || undefined}
        aria-label={`${unread ? "Unread: " : ""}${item.title}, ${KIND_LABELS[item.kind].toLowerCase()} by ${item.agent.name}, revision ${item.currentRevision}`}
        className={cn(
          "relative grid scroll-my-2 grid-cols-[auto_minmax(0,1fr)_auto] items-start gap-x-3 px-4 py-3 transition-colors",
          "@2xl:grid-cols-[auto_minmax(0,1fr)_10rem_4rem_10rem_8rem] @2xl:items-center @2xl:py-2.5",
          selected ? "bg-accent-50/80" : "hover:bg-gray-50",
        )}
      >
        {selected ? <span aria-hidden="true" className="absolute inset-y-0 left-0 w-0.5 bg-accent-600" /> : null}
        <span
          aria-hidden="true"
          className={cn(
            "row-span-2 mt-0.5 flex size-7 items-center justify-center rounded-md border bg-surface @2xl:row-span-1 @2xl:mt-0",
            unread ? "border-accent-200 text-accent-600" : "border-border text-fg-subtle",
          )}
        >
          <KindIcon kind={item.kind} size={14} />
        </span>
        <span className="flex min-w-0 items-center gap-1.5">
          {unread ? <span aria-hidden="true" className="size-2 shrink-0 rounded-full bg-accent-600" /> : null}
          <span className={cn("line-clamp-2 text-sm @2xl:line-clamp-1", unread ? "font-semibold text-gray-950" : "text-fg")} title={item.title}>{item.title}</span>
          {status ? <Badge tone={status.tone} className="hidden @md:inline-flex">{status.label}</Badge> : null}
        </span>
        {/* Compact: one meta line under the title. */}
        <span className="col-start-2 col-end-4 mt-0.5 flex min-w-0 items-center gap-1.5 text-xs text-fg-muted @2xl:hidden">
          <span className="truncate">{item.agent.name}</span>
          <span aria-hidden="true">·</span>
          <span className="shrink-0 tabular-nums">rev {item.currentRevision}</span>
          {item.assignee ? (
            <>
              <span aria-hidden="true">·</span>
              <AssigneeChip person={item.assignee} meId={meId} />
            </>
          ) : null}
          {status ? <Badge tone={status.tone} className="ml-auto @md:hidden">{status.label}</Badge> : null}
        </span>
        {/* Wide: columns. */}
        <span className="hidden truncate text-sm text-fg-muted @2xl:block">{item.agent.name}</span>
        <span className="hidden text-sm text-fg-muted tabular-nums @2xl:block">rev {item.currentRevision}</span>
        <span className="hidden min-w-0 text-sm @2xl:block">
          {item.assignee ? <AssigneeChip person={item.assignee} meId={meId} /> : <span className="text-fg-subtle">—</span>}
        </span>
        <span className="col-start-3 row-start-1 text-right text-xs whitespace-nowrap text-fg-muted @2xl:col-start-auto @2xl:row-start-auto @2xl:text-sm">
          <Age item={item} now={now} />
        </span>
      </Link>
    </li>
  );
}

export function InboxList({ items, selectedId, search, now, meId, label }: {
  items: InboxSummary[];
  selectedId: string | null;
  search: string;
  now: number;
  meId: string | null;
  label: string;
}) {
  return (
    <div className="@container overflow-hidden rounded-lg border border-border bg-surface shadow-card">
      <div aria-hidden="true" className="hidden h-8 grid-cols-[1.75rem_minmax(0,1fr)_10rem_4rem_10rem_8rem] items-center gap-x-3 border-b border-border bg-gray-50/80 px-4 text-xs font-medium text-fg-muted @2xl:grid">
        <span />
        <span>Draft</span>
        <span>Agent</span>
        <span>Revision</span>
        <span>Assignee</span>
        <span className="text-right">Age</span>
      </div>
      <ul aria-label={label} className="divide-y divide-border/70">
        {items.map((item) => (
          <Row key={item.id} item={item} selected={item.id === selectedId} search={search} now={now} meId={meId} />
        ))}
      </ul>
    </div>
  );
}
