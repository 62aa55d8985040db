"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import ReactMarkdown from "react-markdown";
import { Card, CardBody, CardHeader, IconAlertTriangle } from "@/components/ui";
import { cn } from "@/lib/cn";
import { formatUsd } from "@/lib/format";
import { useTRPC } from "@/lib/trpc";
import { Callout } from "./GovernanceEvents";
import { RunStatusBadge } from "./RunStatusBadge";

/**
 * How the supervisor's trace events read on the run page: drafts handed to the inbox (DRAFT) and tasks delegated
 * to other agents (DELEGATION), plus the tree of runs a delegating run belongs to, with costs rolled up.
 */

type JsonRecord = Record<string, unknown>;
const asRecord = (value: unknown): JsonRecord => (value && typeof value === "object" && !Array.isArray(value) ? (value as JsonRecord) : {});
const text = (value: unknown): string | null => (typeof value === "string" && value.trim() ? value : null);
const str = (value: unknown): string => (typeof value === "string" ? value : "");

export const SUPERVISOR_TYPES = new Set(["DRAFT", "DELEGATION"]);

const DRAFT_OUTCOMES: Record<string, { words: string; tone: "success" | "warning" | "neutral" }> = {
  ACCEPTED: { words: "Accepted", tone: "success" },
  CHANGES_REQUESTED: { words: "Changes requested", tone: "warning" },
  DISCARDED: { words: "Discarded", tone: "neutral" },
};

/** The line under a DRAFT or DELEGATION row: what waits for whom, or how it ended. */
export function SupervisorEventSummary({ type, status, payload }: { type: string; status: string; payload: JsonRecord }) {
  if (type === "DRAFT") {
    const itemHref = text(payload.itemId) ? `/inbox/${String(payload.itemId)}` : "/inbox";
    const revision = typeof payload.revision === "number" ? ` (revision ${payload.revision})` : "";
    if (status === "PENDING") {
      return (
        <div className="px-4 pb-2.5 pl-16">
          <Callout tone="warning" icon={<IconAlertTriangle />}>
            <p className="font-medium">Waiting for review{revision}</p>
            <p>
              <Link href={itemHref} className="font-medium text-accent-700 underline-offset-2 hover:underline">Review it in the Inbox →</Link>
            </p>
          </Callout>
        </div>
      );
    }
    const outcome = DRAFT_OUTCOMES[String(payload.outcome)] ?? { words: (str(payload.outcome) || "Decided").toLowerCase(), tone: "neutral" as const };
    const by = asRecord(payload.decidedBy);
    return (
      <div className="px-4 pb-2.5 pl-16">
        <Callout tone={outcome.tone}>
          <p className="font-medium">
            {outcome.words}
            {text(by.email) ? ` by ${String(by.email)}` : ""}
            {revision}
          </p>
          {text(payload.feedback) ? <p className="whitespace-pre-wrap">Feedback: “{String(payload.feedback)}”</p> : null}
          <p>
            <Link href={itemHref} className="font-medium text-accent-700 underline-offset-2 hover:underline">Open the draft →</Link>
          </p>
        </Callout>
      </div>
    );
  }
  if (type === "DELEGATION") {
    const child = text(payload.childRunId);
    const outcome = asRecord(payload.outcome);
    return (
      <div className="px-4 pb-2.5 pl-16">
        <Callout tone={status === "PENDING" ? "info" : status === "OK" ? "success" : "danger"}>
          <p>
            <span className="font-medium">
              {status === "PENDING" ? "Delegated to" : status === "OK" ? "Answered by" : "Not finished by"} {text(payload.agentSlug) ?? "another agent"}
            </span>
            {typeof outcome.costMicros === "number" && outcome.costMicros > 0 ? <span> · {formatUsd(outcome.costMicros)}</span> : null}
          </p>
          {text(outcome.error) ? <p>{String(outcome.error)}</p> : null}
          {child && outcome.status !== "REFUSED" ? (
            <p>
              <Link href={`/runs/${child}`} className="font-medium text-accent-700 underline-offset-2 hover:underline">Open the delegated run →</Link>
            </p>
          ) : null}
        </Callout>
      </div>
    );
  }
  return null;
}

/** The expanded part of a DRAFT or DELEGATION row. */
export function SupervisorDetail({ type, payload }: { type: string; payload: JsonRecord }) {
  if (type === "DRAFT") {
    const commit = asRecord(payload.commit);
    const accepted = asRecord(payload.accepted);
    return (
      <div className="space-y-2">
        <p className="text-xs text-fg-muted">
          {str(payload.kind).toLowerCase().replace("_", " ")} · “{str(payload.title)}”
          {text(commit.tool) ? ` · accepting runs ${String(commit.tool)}` : ""}
        </p>
        <div className="max-w-none space-y-2 rounded-md border border-border bg-surface p-3 text-sm [&_a]:text-accent-700 [&_a]:underline [&_li]:ml-5 [&_ol]:list-decimal [&_strong]:font-semibold [&_ul]:list-disc">
          <ReactMarkdown>{text(accepted.body) ?? str(payload.body)}</ReactMarkdown>
        </div>
      </div>
    );
  }
  if (type === "DELEGATION") {
    return (
      <div className="space-y-1">
        <p className="text-xs font-medium text-fg-subtle uppercase">Task</p>
        <p className="rounded-md border border-border bg-surface p-2 text-sm whitespace-pre-wrap">{str(payload.task)}</p>
        {text(asRecord(payload.outcome).output) ? (
          <>
            <p className="text-xs font-medium text-fg-subtle uppercase">Answer</p>
            <p className="rounded-md border border-border bg-surface p-2 text-sm whitespace-pre-wrap">{String(asRecord(payload.outcome).output)}</p>
          </>
        ) : null}
      </div>
    );
  }
  return null;
}

/** Parent and child runs of a delegation, with each run's own cost and the cost of its whole subtree. */
export function RunTree({ runId, live }: { runId: string; live: boolean }) {
  const trpc = useTRPC();
  const tree = useQuery({ ...trpc.runs.tree.queryOptions({ id: runId }), refetchInterval: live ? 2_000 : false });
  const nodes = tree.data?.nodes ?? [];
  if (nodes.length < 2) return null;
  const root = nodes[0]!;
  return (
    <Card>
      <CardHeader
        title="Run tree"
        description={`${nodes.length} runs · ${formatUsd(root.treeCostMicros)} in total, delegated runs included`}
      />
      <CardBody className="p-0">
        <ol aria-label="Runs in this tree">
          {nodes.map((node) => (
            <li key={node.id} className={cn("flex items-center gap-3 border-b border-border px-4 py-2 text-sm last:border-b-0", node.id === runId && "bg-accent-50/60")}>
              <span style={{ paddingLeft: `${node.depth * 1.25}rem` }} className="flex min-w-0 flex-1 items-center gap-2">
                {node.depth > 0 ? <span aria-hidden="true" className="text-fg-subtle">└</span> : null}
                {node.id === runId ? (
                  <span className="truncate font-medium text-fg">{node.agent.name} <span className="font-normal text-fg-subtle">(this run)</span></span>
                ) : (
                  <Link href={`/runs/${node.id}`} className="truncate font-medium text-accent-700 hover:underline">{node.agent.name}</Link>
                )}
                <RunStatusBadge status={node.status} />
              </span>
              <span className="text-xs text-fg-muted tabular-nums" title="This run's own cost">{formatUsd(node.costMicros)}</span>
              <span className="w-24 text-right text-xs font-medium text-fg tabular-nums" title="This run and everything it delegated">{formatUsd(node.treeCostMicros)}</span>
            </li>
          ))}
        </ol>
        <p className="border-t border-border px-4 py-2 text-xs text-fg-subtle">Left: each run&apos;s own cost. Right: the run with everything it delegated.</p>
      </CardBody>
    </Card>
  );
}
