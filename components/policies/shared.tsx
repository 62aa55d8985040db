import type { inferRouterOutputs } from "@trpc/server";
import { Badge, type BadgeTone } from "@/components/ui";
import { cn } from "@/lib/cn";
import type { ConditionOp, PolicyCondition, PolicyEffect } from "@/server/domain/policy/engine";
import type { AppRouter } from "@/server/trpc/root";

export type RouterOutputs = inferRouterOutputs<AppRouter>;
export type PolicyRow = RouterOutputs["policies"]["list"][number];
export type PolicyTargets = RouterOutputs["policies"]["targets"];
export type PolicyTestResult = RouterOutputs["policies"]["test"];
export type GovernanceSettingsView = RouterOutputs["policies"]["governance"]["get"];
export type { ConditionOp, PolicyCondition, PolicyEffect };

export const EFFECTS: readonly PolicyEffect[] = ["ALLOW", "REQUIRE_APPROVAL", "DENY"];

export const EFFECT_LABELS: Record<PolicyEffect, string> = { ALLOW: "Allow", REQUIRE_APPROVAL: "Require approval", DENY: "Deny" };
export const EFFECT_HINTS: Record<PolicyEffect, string> = {
  ALLOW: "The call runs without asking anyone.",
  REQUIRE_APPROVAL: "The run waits until a person approves, edits or rejects the call.",
  DENY: "The call is refused; the agent is told why.",
};
const EFFECT_TONES: Record<PolicyEffect, BadgeTone> = { ALLOW: "success", REQUIRE_APPROVAL: "warning", DENY: "danger" };

export function EffectBadge({ effect, className }: { effect: PolicyEffect; className?: string }) {
  return (
    <Badge tone={EFFECT_TONES[effect]} dot title={EFFECT_HINTS[effect]} className={className}>
      {EFFECT_LABELS[effect].toLowerCase()}
    </Badge>
  );
}

/** The comparisons offered by the condition builder, in the order people look for them. */
export const OPS: readonly {
  op: ConditionOp;
  label: string;
  symbol: string;
  kind: "number" | "text" | "value" | "list" | "regex" | "exists";
}[] = [
  { op: "eq", label: "equals", symbol: "=", kind: "value" },
  { op: "neq", label: "does not equal", symbol: "≠", kind: "value" },
  { op: "gt", label: "is more than (>)", symbol: ">", kind: "number" },
  { op: "gte", label: "is at least (≥)", symbol: "≥", kind: "number" },
  { op: "lt", label: "is less than (<)", symbol: "<", kind: "number" },
  { op: "lte", label: "is at most (≤)", symbol: "≤", kind: "number" },
  { op: "contains", label: "contains", symbol: "contains", kind: "text" },
  { op: "not_contains", label: "does not contain", symbol: "does not contain", kind: "text" },
  { op: "starts_with", label: "starts with", symbol: "starts with", kind: "text" },
  { op: "ends_with", label: "ends with", symbol: "ends with", kind: "text" },
  { op: "not_ends_with", label: "does not end with", symbol: "does not end with", kind: "text" },
  { op: "matches", label: "matches the pattern", symbol: "matches", kind: "regex" },
  { op: "in", label: "is one of", symbol: "is one of", kind: "list" },
  { op: "not_in", label: "is not one of", symbol: "is not one of", kind: "list" },
  { op: "exists", label: "is present / missing", symbol: "is present", kind: "exists" },
];

export function opInfo(op: string) {
  return OPS.find((o) => o.op === op) ?? { op: op as ConditionOp, label: op, symbol: op, kind: "value" as const };
}

function valueWords(value: unknown): string {
  if (typeof value === "string") return `“${value}”`;
  if (value === undefined) return "…";
  return JSON.stringify(value) ?? "…";
}

/** e.g. `amountUsd > 100`, `to ends with “@acme.test”`. */
export function conditionWords(condition: { path: string; op: string; value?: unknown }): string {
  const info = opInfo(condition.op);
  if (info.kind === "exists") return `${condition.path || "…"} ${condition.value === false ? "is missing" : "is present"}`;
  if (info.kind === "regex") return `${condition.path || "…"} matches /${typeof condition.value === "string" ? condition.value : ""}/`;
  const value = Array.isArray(condition.value) ? condition.value.map(valueWords).join(", ") : valueWords(condition.value);
  return `${condition.path || "…"} ${info.symbol} ${value}`;
}

export const RISK_WORDS: Record<string, string> = { READ: "read tools", WRITE: "write tools", EXTERNAL: "external tools" };

/** What a policy applies to, in words: "issue_refund · amountUsd > 100", "refund-agent · write tools", "every tool call". */
export function matchWords(
  policy: Pick<PolicyRow, "toolName" | "toolRisk" | "conditions"> & {
    agent: { slug: string } | null;
    onBehalfOf: { name: string | null; email: string } | null;
  },
): string[] {
  const parts: string[] = [];
  if (policy.agent) parts.push(`agent ${policy.agent.slug}`);
  if (policy.toolName) parts.push(policy.toolName);
  if (policy.toolRisk) parts.push(RISK_WORDS[policy.toolRisk] ?? policy.toolRisk);
  if (policy.onBehalfOf) parts.push(`for ${policy.onBehalfOf.name ?? policy.onBehalfOf.email}`);
  for (const condition of policy.conditions) parts.push(conditionWords(condition));
  return parts;
}

export function specificityOf(policy: Pick<PolicyRow, "agentId" | "toolName" | "toolRisk" | "onBehalfOfUserId" | "conditions">): number {
  return (
    [policy.agentId, policy.toolName, policy.toolRisk, policy.onBehalfOfUserId].filter((field) => field !== null).length +
    policy.conditions.length
  );
}

/** An accessible on/off switch (role="switch"); the label is for screen readers when no visible text sits beside it. */
export function Switch({
  checked,
  onChange,
  label,
  disabled,
  busy,
}: {
  checked: boolean;
  onChange: (next: boolean) => void;
  label: string;
  disabled?: boolean;
  busy?: boolean;
}) {
  return (
    <button
      type="button"
      role="switch"
      aria-checked={checked}
      aria-label={label}
      aria-busy={busy || undefined}
      disabled={disabled || busy}
      onClick={() => onChange(!checked)}
      className={cn(
        "relative inline-flex h-5 w-9 shrink-0 items-center rounded-full transition-colors duration-150",
        "focus-visible:ring-3 focus-visible:ring-accent-500/30 focus-visible:outline-none disabled:cursor-not-allowed disabled:opacity-55",
        checked ? "bg-accent-600" : "bg-gray-300",
      )}
    >
      <span
        aria-hidden="true"
        className={cn(
          "inline-block size-4 rounded-full bg-white shadow-xs transition-transform duration-150",
          checked ? "translate-x-4.5" : "translate-x-0.5",
        )}
      />
    </button>
  );
}

/** Reads a typed value as the server expects it: decimal text becomes a number, true/false a boolean. */
export function parseScalar(text: string): string | number | boolean {
  const trimmed = text.trim();
  if (/^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/.test(trimmed)) return Number(trimmed);
  if (trimmed.toLowerCase() === "true") return true;
  if (trimmed.toLowerCase() === "false") return false;
  return trimmed;
}

/** "open, paid" → ["open", "paid"]; an empty text → []. */
export function parseList(text: string): (string | number | boolean)[] {
  return text
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "")
    .map(parseScalar);
}

function scalarText(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value) ?? "";
}

/** A stored condition value as the builder's text box shows it; lists are comma-separated. */
export function valueText(value: unknown): string {
  return Array.isArray(value) ? value.map(scalarText).join(", ") : scalarText(value);
}
