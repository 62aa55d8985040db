"use client";

import Link from "next/link";
import type { ReactNode } from "react";
import { ArgsDiff } from "@/components/approvals/ArgsDiff";
import { canonicalJson, formatSpan } from "@/components/approvals/shared";
import { Badge, IconAlertCircle, IconAlertTriangle, type BadgeTone } from "@/components/ui";
import { cn } from "@/lib/cn";
import { formatDateTime, formatUsd } from "@/lib/format";
import { JsonView } from "./JsonView";

/**
 * How the trace events written by the governance layer (DESIGN.md §4) read on the run page: policy decisions,
 * approvals, guards, and the notes tool and model calls carry about redaction and refusals.
 */

type JsonRecord = Record<string, unknown>;
const asRecord = (value: unknown): JsonRecord => (value && typeof value === "object" && !Array.isArray(value) ? (value as JsonRecord) : {});
const text = (value: unknown): string | null => (typeof value === "string" && value.trim() ? value : null);
const str = (value: unknown): string => (typeof value === "string" ? value : "");

export const GOVERNANCE_TYPES = new Set(["POLICY_DECISION", "APPROVAL", "GUARD"]);

const EFFECT_WORDS: Record<string, string> = { ALLOW: "allow", DENY: "deny", REQUIRE_APPROVAL: "require approval" };
const EFFECT_TONES: Record<string, BadgeTone> = { ALLOW: "success", DENY: "danger", REQUIRE_APPROVAL: "warning" };
const OUTCOME_TONES: Record<string, BadgeTone> = { APPROVED: "success", REJECTED: "danger", EXPIRED: "warning", VOID: "neutral" };

function guardTone(payload: JsonRecord): BadgeTone {
  return payload.kind === "budget_warning" ? "warning" : "danger";
}

/** Badge tone for a timeline row; undefined leaves the row's default. */
export function governanceBadgeTone(type: string, status: string, payload: JsonRecord): BadgeTone | undefined {
  if (type === "POLICY_DECISION") return EFFECT_TONES[str(payload.effect)] ?? "neutral";
  if (type === "APPROVAL") return status === "PENDING" ? "warning" : (OUTCOME_TONES[str(payload.outcome)] ?? (status === "ERROR" ? "danger" : "success"));
  if (type === "GUARD") return guardTone(payload);
  return undefined;
}

export function governanceBarColour(type: string, status: string, payload: JsonRecord): string | undefined {
  const tone = governanceBadgeTone(type, status, payload);
  if (!tone) return undefined;
  return { success: "bg-success-500", danger: "bg-danger-500", warning: "bg-warning-500", neutral: "bg-gray-400", accent: "bg-accent-500", info: "bg-info-500" }[tone];
}

const GUARD_NAMES: Record<string, string> = { loop: "Loop stopped", budget: "Spend limit reached", budget_warning: "Spend limit warning" };

/**
 * What the row's step cell says. Policy decisions name their effect and rule rather than the tool (the tool call's
 * own row, right after, carries the tool's name).
 */
export function governanceRowText(type: string, name: string, payload: JsonRecord): ReactNode | undefined {
  if (type === "POLICY_DECISION") {
    const effect = EFFECT_WORDS[str(payload.effect)] ?? str(payload.effect).toLowerCase();
    const rule = text(payload.policyName) ?? (payload.effect === "ALLOW" ? "no policy applies" : "built-in rule");
    return (
      <span className="truncate text-fg" title={`${effect} · ${rule}`}>
        <span className="font-medium">{effect}</span>
        <span className="text-fg-muted"> · {rule}</span>
      </span>
    );
  }
  if (type === "GUARD") return <span className="truncate font-medium text-fg">{GUARD_NAMES[str(payload.kind)] ?? name}</span>;
  if (type === "APPROVAL") return <span className="truncate font-medium text-fg">{name}</span>;
  return undefined;
}

interface Redaction {
  kind: string;
  count: number;
}

function redactionsOf(payload: JsonRecord): Redaction[] {
  const list = Array.isArray(payload.redactions) ? payload.redactions : [];
  return list.map(asRecord).flatMap((r) => (typeof r.kind === "string" && typeof r.count === "number" && r.count > 0 ? [{ kind: r.kind, count: r.count }] : []));
}

const KIND_WORDS: Record<string, string> = { secret: "stored secret", api_key: "API key", card: "card number", email: "email address" };

export function RedactionNote({ payload }: { payload: JsonRecord }) {
  const redactions = redactionsOf(payload);
  const total = redactions.reduce((sum, r) => sum + r.count, 0);
  if (total === 0) return null;
  const detail = redactions.map((r) => `${r.count} ${KIND_WORDS[r.kind] ?? r.kind}${r.count === 1 ? "" : "s"}`).join(", ");
  return (
    <p className="inline-flex items-center gap-1.5 rounded bg-gray-100 px-1.5 py-0.5 text-xs text-fg-muted" title={`Replaced before anything was stored or sent on: ${detail}`}>
      {total} secret{total === 1 ? "" : "s"} redacted
      <span className="text-fg-subtle">({detail})</span>
    </p>
  );
}

const REFUSALS: Record<string, string> = {
  denied: "Denied by policy",
  rejected: "Not approved",
  forbidden: "Not permitted for the person this run acts for",
};

export function Callout({ tone, icon, children }: { tone: "warning" | "danger" | "info" | "neutral" | "success"; icon?: ReactNode; children: ReactNode }) {
  const styles = {
    warning: "border-warning-200 bg-warning-50 text-warning-800",
    danger: "border-danger-200 bg-danger-50 text-danger-800",
    info: "border-info-200 bg-info-50 text-info-800",
    success: "border-success-200 bg-success-50 text-success-800",
    neutral: "border-border bg-gray-50 text-fg",
  }[tone];
  return (
    <div className={cn("flex items-start gap-2 rounded-md border px-3 py-2 text-sm", styles)}>
      {icon ? <span className="mt-0.5 shrink-0 [&_svg]:size-4">{icon}</span> : null}
      <div className="min-w-0 flex-1 space-y-1">{children}</div>
    </div>
  );
}

function decidedByText(payload: JsonRecord): string {
  const by = text(payload.decidedBy);
  return by ? ` by ${by}` : "";
}

/**
 * The always-visible line under a row: why a call waits, what a person decided, what a guard stopped, what was
 * redacted or refused. Null when the row says it all.
 */
export function EventSummary({ type, status, payload, approvalHref, now }: {
  type: string;
  status: string;
  payload: JsonRecord;
  /** Where the pending approval of this run can be decided. */
  approvalHref: string;
  now: number;
}) {
  const parts: ReactNode[] = [];
  if (type === "APPROVAL") {
    const policy = text(payload.policyName);
    if (status === "PENDING") {
      const expiresAt = text(payload.expiresAt);
      const left = expiresAt ? new Date(expiresAt).getTime() - now : null;
      parts.push(
        <Callout key="approval" tone="warning" icon={<IconAlertTriangle />}>
          <p className="font-medium">
            Waiting for approval
            {left !== null ? <span className="font-normal"> · {left > 0 ? `expires in ${formatSpan(left)}` : "expiring now"}</span> : null}
          </p>
          <p>
            {text(payload.reason) ?? "A policy holds this call for a person."}
            {policy ? <span className="text-warning-700"> (rule: {policy})</span> : null}
          </p>
          <p>
            <Link href={approvalHref} className="font-medium text-accent-700 underline-offset-2 hover:underline">Review it in Approvals →</Link>
          </p>
        </Callout>,
      );
    } else {
      const outcome = str(payload.outcome) || (status === "OK" ? "APPROVED" : "REJECTED");
      const edited = outcome === "APPROVED" && payload.decidedArgs !== undefined && canonicalJson(payload.decidedArgs) !== canonicalJson(payload.args);
      const comment = text(payload.comment);
      const headline: Record<string, string> = {
        APPROVED: edited ? `Approved with edited arguments${decidedByText(payload)}` : `Approved${decidedByText(payload)}`,
        REJECTED: `Rejected${decidedByText(payload)}`,
        EXPIRED: "Expired: nobody decided in time",
        VOID: "Voided: the run stopped before anyone decided",
      };
      const tone = outcome === "APPROVED" ? "success" : outcome === "REJECTED" ? "danger" : "neutral";
      parts.push(
        <Callout key="approval" tone={tone}>
          <p className="font-medium">{headline[outcome] ?? outcome.toLowerCase()}</p>
          {comment ? <p className="whitespace-pre-wrap">{outcome === "REJECTED" ? "Comment for the agent: " : ""}“{comment}”</p> : null}
          {edited ? (
            <div className="pt-1 text-fg">
              <ArgsDiff before={payload.args} after={payload.decidedArgs} label="Requested vs approved" />
            </div>
          ) : null}
        </Callout>,
      );
    }
  }
  if (type === "GUARD") {
    const limit = asRecord(payload.limit);
    const message = text(payload.message) ?? text(limit.message) ?? "A guard stopped the run.";
    const warning = payload.kind === "budget_warning";
    parts.push(
      <Callout key="guard" tone={warning ? "warning" : "danger"} icon={warning ? <IconAlertTriangle /> : <IconAlertCircle />}>
        <p>{message}</p>
        {typeof limit.spentMicros === "number" && typeof limit.limitMicros === "number" ? (
          <p className="text-xs opacity-80">
            {text(limit.label) ?? "Limit"}: {formatUsd(limit.spentMicros)} of {formatUsd(limit.limitMicros)} spent
          </p>
        ) : null}
      </Callout>,
    );
  }
  if (type === "TOOL_CALL" && status === "ERROR") {
    const error = asRecord(payload.error);
    const refusal = REFUSALS[str(error.kind)];
    if (refusal) {
      parts.push(
        <Callout key="refusal" tone="danger" icon={<IconAlertCircle />}>
          <p>
            <span className="font-medium">{refusal}.</span> {text(error.message)}
          </p>
        </Callout>,
      );
    }
  }
  if (redactionsOf(payload).length > 0) parts.push(<RedactionNote key="redactions" payload={payload} />);
  if (parts.length === 0) return null;
  return <div className="space-y-2 px-4 pb-2.5 pl-16">{parts}</div>;
}

/** True when EventSummary already shows the event's error, so the expanded detail need not repeat it. */
export function summaryShowsError(type: string, payload: JsonRecord): boolean {
  return type === "TOOL_CALL" && Boolean(REFUSALS[str(asRecord(payload.error).kind)]);
}

/** The expanded part of a governance row. */
export function GovernanceDetail({ type, payload }: { type: string; payload: JsonRecord }) {
  if (type === "POLICY_DECISION") {
    const explanation = Array.isArray(payload.explanation) ? payload.explanation.filter((line): line is string => typeof line === "string") : [];
    return (
      <div className="space-y-2">
        <p className="flex flex-wrap items-center gap-2 text-sm">
          <Badge tone={EFFECT_TONES[str(payload.effect)] ?? "neutral"}>{EFFECT_WORDS[str(payload.effect)] ?? str(payload.effect)}</Badge>
          <span className="font-mono text-xs">{text(payload.tool)}</span>
          <span className="text-fg-muted">{text(payload.policyName) ? `Policy “${text(payload.policyName)}”` : "No policy decided: the default applies"}</span>
        </p>
        {text(payload.reason) ? <p className="text-sm text-fg">{text(payload.reason)}</p> : null}
        {explanation.length > 0 ? (
          <div>
            <p className="mb-1 text-xs font-medium text-fg-subtle uppercase">How it was decided</p>
            <ol className="list-decimal space-y-0.5 pl-5 text-sm text-fg-muted">
              {explanation.map((line, index) => <li key={index}>{line}</li>)}
            </ol>
          </div>
        ) : null}
        {payload.untrustedContentSeen === true ? (
          <p className="text-xs text-fg-muted">Untrusted tool output had entered the run before this call.</p>
        ) : null}
      </div>
    );
  }
  if (type === "APPROVAL") {
    return (
      <div className="space-y-2">
        <p className="text-xs text-fg-muted">
          {text(payload.policyName) ? `Rule “${text(payload.policyName)}” · ` : ""}
          {text(payload.expiresAt) ? `expires ${formatDateTime(text(payload.expiresAt))}` : ""}
        </p>
        <JsonView label="Requested call" value={payload.args ?? {}} />
      </div>
    );
  }
  return <JsonView label="Details" value={payload} />;
}
