"use client";

import Link from "next/link";
import type { ReactNode } from "react";
import { ToolRiskBadge } from "@/components/tools/shared";
import { Badge, Button, Card, IconCheck, type BadgeTone } from "@/components/ui";
import { cn } from "@/lib/cn";
import { formatDateTime } from "@/lib/format";
import { ArgsDiff } from "./ArgsDiff";
import { ArgsWithSchema } from "./ArgsWithSchema";
import { formatSpan, STATUS_LABELS, wasEdited, type ApprovalItem } from "./shared";

function ToolHeading({ approval }: { approval: ApprovalItem }) {
  return (
    <span className="flex min-w-0 flex-wrap items-center gap-2">
      <span className="font-mono text-sm">
        {approval.tool ? <span className="text-fg-subtle">{approval.tool.server}/</span> : null}
        <span className="font-semibold text-gray-950">{approval.toolName}</span>
      </span>
      <ToolRiskBadge risk={approval.tool?.risk ?? null} />
    </span>
  );
}

function Meta({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="min-w-0">
      <dt className="text-xs text-fg-subtle">{label}</dt>
      <dd className="mt-0.5 truncate text-sm text-fg">{children}</dd>
    </div>
  );
}

function RunMeta({ approval }: { approval: ApprovalItem }) {
  return (
    <dl className="grid grid-cols-2 gap-x-6 gap-y-3 sm:grid-cols-4">
      <Meta label="Agent">
        <span className="font-medium">{approval.run.agent.name}</span> <span className="font-mono text-xs text-fg-subtle">{approval.run.agent.slug}</span>
      </Meta>
      <Meta label="On behalf of">
        <span title={approval.run.onBehalfOf.name ?? undefined}>{approval.run.onBehalfOf.email}</span>
      </Meta>
      <Meta label="Run">
        <Link href={`/runs/${approval.runId}`} className="font-mono text-xs text-accent-700 hover:underline" aria-label={`Open run ${approval.runId}`}>
          {approval.runId.slice(-8)} →
        </Link>
      </Meta>
      <Meta label="Asked">
        <span title={formatDateTime(approval.createdAt)}>{formatDateTime(approval.createdAt)}</span>
      </Meta>
    </dl>
  );
}

function RuleBox({ approval }: { approval: ApprovalItem }) {
  return (
    <div className="rounded-md border border-warning-200 bg-warning-50 px-3 py-2 text-sm">
      <p className="text-warning-800">
        <span className="font-medium">{approval.policy ? `Rule: ${approval.policy.name}` : "Held by the untrusted-content guard"}</span>
      </p>
      <p className="mt-0.5 text-warning-800">{approval.reason}</p>
    </div>
  );
}

export function PendingApprovalCard({ approval, now, canDecide, approving, onApprove, onEdit, onReject }: {
  approval: ApprovalItem;
  now: number;
  canDecide: boolean;
  approving: boolean;
  onApprove: () => void;
  onEdit: () => void;
  onReject: () => void;
}) {
  const waited = now - approval.createdAt.getTime();
  const left = approval.expiresAt.getTime() - now;
  const toolLabel = approval.tool ? `${approval.tool.server}/${approval.tool.name}` : approval.toolName;
  return (
    <li>
      <Card id={`approval-${approval.id}`} aria-label={`Approval for ${approval.toolName} by ${approval.run.agent.name}`} role="article" className="scroll-mt-6 target:ring-2 target:ring-accent-500">
        <div className="flex flex-wrap items-start justify-between gap-3 border-b border-border px-4 py-3">
          <ToolHeading approval={approval} />
          <p className="flex items-center gap-2 text-xs text-fg-muted tabular-nums">
            <span className={cn(waited > 15 * 60_000 && "font-medium text-warning-700")}>waiting {formatSpan(waited)}</span>
            <span aria-hidden="true">·</span>
            <span title={`Expires ${formatDateTime(approval.expiresAt)}`} className={cn(left < 5 * 60_000 && "font-medium text-danger-700")}>
              {left > 0 ? `expires in ${formatSpan(left)}` : "expiring now"}
            </span>
          </p>
        </div>
        <div className="space-y-4 px-4 py-4">
          <RunMeta approval={approval} />
          <p className="line-clamp-2 text-sm text-fg-muted" title={approval.run.input}>
            <span className="text-xs font-medium text-fg-subtle uppercase">Request </span>
            {approval.run.input}
          </p>
          <RuleBox approval={approval} />
          <ArgsWithSchema args={approval.args} schema={approval.tool?.inputSchema} toolLabel={toolLabel} />
          {approval.tool?.description ? <p className="text-xs text-fg-muted"><span className="font-medium text-fg-subtle">What the tool does: </span>{approval.tool.description}</p> : null}
        </div>
        {canDecide ? (
          <div className="flex flex-wrap items-center justify-end gap-2 border-t border-border bg-gray-50/70 px-4 py-2.5">
            <Button variant="ghost" onClick={onReject} disabled={approving}><span className="text-danger-700">Reject…</span></Button>
            <Button onClick={onEdit} disabled={approving}>Edit & approve…</Button>
            <Button variant="primary" icon={<IconCheck />} loading={approving} onClick={onApprove}>Approve</Button>
          </div>
        ) : null}
      </Card>
    </li>
  );
}

const OUTCOME_TONES: Record<string, BadgeTone> = { APPROVED: "success", REJECTED: "danger", EXPIRED: "warning", VOID: "neutral", PENDING: "info" };

export function OutcomeBadge({ status, edited }: { status: string; edited?: boolean }) {
  return (
    <Badge tone={OUTCOME_TONES[status] ?? "neutral"} dot>
      {edited ? "approved with edits" : (STATUS_LABELS[status] ?? status.toLowerCase())}
    </Badge>
  );
}

export function DecidedApprovalCard({ approval }: { approval: ApprovalItem }) {
  const edited = wasEdited(approval);
  const automatic = approval.status === "EXPIRED" || approval.status === "VOID" || !approval.decidedBy;
  const who = approval.decidedBy ? (approval.decidedBy.name ? `${approval.decidedBy.name} (${approval.decidedBy.email})` : approval.decidedBy.email) : null;
  return (
    <li>
      <Card
        id={`approval-${approval.id}`}
        aria-label={`Decided approval for ${approval.toolName} by ${approval.run.agent.name}`}
        role="article"
        className="scroll-mt-6 target:ring-2 target:ring-accent-500"
      >
        <div className="flex flex-wrap items-center justify-between gap-x-4 gap-y-2 border-b border-border px-4 py-2.5">
          <span className="flex min-w-0 flex-wrap items-center gap-x-3 gap-y-1">
            <OutcomeBadge status={approval.status} edited={edited} />
            <ToolHeading approval={approval} />
            <span className="text-sm text-fg-muted">
              {approval.run.agent.name} for {approval.run.onBehalfOf.email} ·{" "}
              <Link href={`/runs/${approval.runId}`} className="font-mono text-xs text-accent-700 hover:underline" aria-label={`Open run ${approval.runId}`}>
                run {approval.runId.slice(-8)}
              </Link>
            </span>
          </span>
          <p className="text-xs text-fg-muted" title={approval.decidedAt ? formatDateTime(approval.decidedAt) : undefined}>
            {automatic ? "" : `by ${who} · `}
            {formatDateTime(approval.decidedAt)}
            {approval.decidedAt ? ` · after ${formatSpan(approval.decidedAt.getTime() - approval.createdAt.getTime())}` : ""}
          </p>
        </div>
        <div className="space-y-3 px-4 py-3">
          <p className="text-sm text-fg-muted">
            <span className="font-medium text-fg">{approval.policy ? approval.policy.name : "Untrusted-content guard"}:</span> {approval.reason}
          </p>
          {approval.status === "REJECTED" ? (
            <div>
              <p className="mb-1 text-xs font-medium text-fg-subtle uppercase">Comment returned to the agent</p>
              <blockquote className="rounded-md border-l-4 border-danger-300 bg-danger-50 px-3 py-2 text-sm whitespace-pre-wrap text-danger-800">
                {approval.comment ?? <span className="italic">No comment given.</span>}
              </blockquote>
            </div>
          ) : approval.comment ? (
            <p className="rounded-md bg-gray-50 px-3 py-2 text-sm whitespace-pre-wrap text-fg-muted">
              {automatic ? null : <span className="font-medium text-fg">Note: </span>}
              {approval.comment}
            </p>
          ) : null}
          {edited ? (
            <ArgsDiff before={approval.args} after={approval.decidedArgs} label="Requested vs approved arguments" />
          ) : (
            <p className="flex min-w-0 items-baseline gap-2 text-sm">
              <span className="shrink-0 text-xs font-medium text-fg-subtle uppercase">{approval.status === "APPROVED" ? "Approved as requested" : "Requested"}</span>
              <code className="min-w-0 truncate font-mono text-xs text-fg" title={JSON.stringify(approval.args)}>{JSON.stringify(approval.args)}</code>
            </p>
          )}
        </div>
      </Card>
    </li>
  );
}
