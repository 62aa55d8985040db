import { z } from "zod";

/**
 * The policy engine: decides one tool call from the org's rules and the facts of the call. Pure (no database, no
 * clock), so the kernel, the "test a call" panel and the unit tests all run exactly the same code.
 *
 * What must stay true (DESIGN.md §4):
 * - A tool nobody classified (risk null) is never callable, whatever the rules say.
 * - Only the most specific applying rules decide; among them DENY beats REQUIRE_APPROVAL beats ALLOW.
 * - No applying rule = ALLOW (identity already limited the agent to its granted tools), except that after
 *   untrusted tool output entered a run, a side-effecting call needs a person unless a rule explicitly allows it.
 * - The engine fails closed on what it cannot judge: a value of the wrong kind (an object where a number was
 *   expected, "$250" for `gt 100`, a list whose items disagree) makes DENY and REQUIRE_APPROVAL rules apply and
 *   ALLOW rules not apply. A condition that is itself invalid (bad data in the database) is treated the same way.
 */

export const POLICY_EFFECTS = ["ALLOW", "DENY", "REQUIRE_APPROVAL"] as const;
export type PolicyEffect = (typeof POLICY_EFFECTS)[number];

export const CONDITION_OPS = [
  "eq",
  "neq",
  "gt",
  "gte",
  "lt",
  "lte",
  "contains",
  "not_contains",
  "starts_with",
  "ends_with",
  "not_ends_with",
  "matches",
  "in",
  "not_in",
  "exists",
] as const;
export type ConditionOp = (typeof CONDITION_OPS)[number];

export type PolicyToolRisk = "READ" | "WRITE" | "EXTERNAL";

export interface PolicyCondition {
  /** Dot path into the call's arguments, e.g. "amountUsd" or "customer.email"; a number indexes a list ("items.0.sku"). */
  path: string;
  op: ConditionOp;
  value?: unknown;
}

export interface PolicyRule {
  id: string;
  name: string;
  effect: PolicyEffect;
  reason: string;
  agentId: string | null;
  toolName: string | null;
  toolRisk: PolicyToolRisk | null;
  onBehalfOfUserId: string | null;
  conditions: PolicyCondition[];
  enabled: boolean;
}

export interface ToolCallFacts {
  agentId: string;
  /** The name the MCP server knows, e.g. "issue_refund". */
  toolName: string;
  toolRisk: PolicyToolRisk | null;
  onBehalfOfUserId: string;
  args: Record<string, unknown>;
  /** Tool output (untrusted) has entered this run before this call. */
  untrustedContentSeen: boolean;
}

export interface PolicyDecision {
  effect: PolicyEffect;
  reason: string;
  policyId: string | null;
  policyName: string | null;
  /** Plain-language steps of how the decision was reached, for the "test a call" panel and the trace. */
  explanation: string[];
  /** Every applying rule, most specific first (then deny, require approval, allow; then by name). */
  matched: { id: string; name: string; effect: PolicyEffect; specificity: number }[];
}

export const DEFAULT_ALLOW_REASON = "No policy matched; granted and classified tools are allowed.";
export const UNTRUSTED_CONTENT_REASON =
  "Untrusted tool output entered this run; side-effecting calls need a person's approval unless a policy explicitly allows them.";
export function unclassifiedToolReason(toolName: string): string {
  return `The tool "${toolName}" has not been classified yet; an admin must classify it before agents can call it.`;
}

// ───────────────────────────── condition validation (shared by the save path and the engine) ─────────────────────────────

export const MAX_CONDITIONS = 20;
const MAX_PATH = 200;
const MAX_TEXT = 500;
const MAX_LIST = 100;

const NUMERIC_OPS: ReadonlySet<ConditionOp> = new Set(["gt", "gte", "lt", "lte"]);
const TEXT_OPS: ReadonlySet<ConditionOp> = new Set(["contains", "not_contains", "starts_with", "ends_with", "not_ends_with"]);
const LIST_OPS: ReadonlySet<ConditionOp> = new Set(["in", "not_in"]);
/**
 * Negated comparisons hold for a missing value: "to does not end with @acme.test" is true when there is no `to`.
 * That is the safer reading for the way rules come in pairs ("allow ends_with X" + "require approval
 * not_ends_with X"): every call falls under one of the two, so a call that leaves the field out cannot slip
 * through to the default allow.
 */
const NEGATED_OPS: ReadonlySet<ConditionOp> = new Set(["neq", "not_contains", "not_ends_with", "not_in"]);

/** Dot-separated segments; no empty segments and no whitespace. */
const PATH_PATTERN = /^[^.\s]+(?:\.[^.\s]+)*$/;
/** Decimal numbers only: "250", "-1.5", "1e3". Hex, "1,000", "$250" and "Infinity" are not numbers here. */
const DECIMAL_PATTERN = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

type Primitive = string | number | boolean;

function isPrimitive(value: unknown): value is Primitive {
  return typeof value === "string" || (typeof value === "number" && Number.isFinite(value)) || typeof value === "boolean";
}

/** A finite number, or a decimal string read as one (so "250" cannot slip past `amountUsd <= 100`); otherwise null. */
export function numberOf(value: unknown): number | null {
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value === "string" && DECIMAL_PATTERN.test(value.trim())) {
    const n = Number(value.trim());
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

function compileRegex(source: string): RegExp | null {
  try {
    return new RegExp(source, "i");
  } catch {
    return null;
  }
}

export interface ConditionIssue {
  field: "path" | "op" | "value";
  message: string;
}

/** What is wrong with one condition, in words for the form; empty when it is valid. */
export function conditionIssues(raw: unknown): ConditionIssue[] {
  if (!raw || typeof raw !== "object" || Array.isArray(raw))
    return [{ field: "op", message: "A condition needs a path, a comparison and a value." }];
  const { path, op, value } = raw as Record<string, unknown>;
  const issues: ConditionIssue[] = [];
  if (typeof path !== "string" || path.trim() === "")
    issues.push({ field: "path", message: "Enter a path into the arguments, e.g. amountUsd or customer.email." });
  else if (path.trim().length > MAX_PATH) issues.push({ field: "path", message: `Keep the path under ${MAX_PATH} characters.` });
  else if (!PATH_PATTERN.test(path.trim()))
    issues.push({ field: "path", message: "Use argument names joined by dots, without spaces, e.g. customer.email." });
  if (typeof op !== "string" || !(CONDITION_OPS as readonly string[]).includes(op)) {
    issues.push({ field: "op", message: "Pick a comparison." });
    return issues;
  }
  const problem = valueProblem(op as ConditionOp, value);
  if (problem) issues.push({ field: "value", message: problem });
  return issues;
}

function valueProblem(op: ConditionOp, value: unknown): string | null {
  if (NUMERIC_OPS.has(op)) return numberOf(value) === null ? `${op} needs a number` : null;
  if (TEXT_OPS.has(op)) {
    if (typeof value !== "string" || value.trim() === "") return `${op} needs some text, e.g. @acme.test`;
    return value.length > MAX_TEXT ? `Keep the text under ${MAX_TEXT} characters.` : null;
  }
  switch (op) {
    case "eq":
    case "neq":
      if (!isPrimitive(value) || (typeof value === "string" && value.trim() === ""))
        return `${op} needs a value: text, a number, true or false`;
      return typeof value === "string" && value.length > MAX_TEXT ? `Keep the text under ${MAX_TEXT} characters.` : null;
    case "matches":
      if (typeof value !== "string" || value === "") return "matches needs a regular expression";
      if (value.length > MAX_TEXT) return `Keep the expression under ${MAX_TEXT} characters.`;
      return compileRegex(value) ? null : "Not a valid regular expression.";
    case "in":
    case "not_in":
      if (!Array.isArray(value) || value.length === 0) return `${op} needs a list of values`;
      if (value.length > MAX_LIST) return `At most ${MAX_LIST} values.`;
      return value.every((item) => isPrimitive(item) && !(typeof item === "string" && item.trim() === ""))
        ? null
        : `${op} needs a list of values: text, numbers, true or false`;
    case "exists":
      return value === undefined || value === null || typeof value === "boolean" ? null : "exists takes true, false or nothing";
    default:
      return null;
  }
}

/** The stored form of a valid condition: paths and texts trimmed, numeric strings turned into numbers. */
function normalizeCondition(raw: Record<string, unknown>): PolicyCondition {
  const op = raw.op as ConditionOp;
  const path = (raw.path as string).trim();
  const value = raw.value;
  if (NUMERIC_OPS.has(op)) return { path, op, value: numberOf(value) };
  if (TEXT_OPS.has(op) || op === "eq" || op === "neq") return { path, op, value: typeof value === "string" ? value.trim() : value };
  if (LIST_OPS.has(op)) return { path, op, value: (value as Primitive[]).map((item) => (typeof item === "string" ? item.trim() : item)) };
  if (op === "exists") return typeof value === "boolean" ? { path, op, value } : { path, op };
  return { path, op, value };
}

/** One condition, validated and normalized; errors sit on `path`, `op` or `value` with messages for the form. */
export const PolicyCondition = z
  .object({ path: z.unknown(), op: z.unknown(), value: z.unknown().optional() })
  .superRefine((raw, ctx) => {
    for (const issue of conditionIssues(raw)) ctx.addIssue({ code: "custom", path: [issue.field], message: issue.message });
  })
  .transform((raw) => normalizeCondition(raw));

export const PolicyConditions = z.array(PolicyCondition).max(MAX_CONDITIONS, `At most ${MAX_CONDITIONS} conditions.`);

/** An input condition as forms and API callers send it (the value's kind depends on the comparison). */
export interface PolicyConditionInput {
  path: string;
  op: ConditionOp;
  value?: unknown;
}

export type ValidateConditionsResult =
  | { ok: true; conditions: PolicyCondition[] }
  | { ok: false; issues: { index: number | null; field: ConditionIssue["field"] | null; message: string }[] };

/** Validates a list of conditions; each issue names the row (`index`) and the field it belongs to. */
export function validateConditions(raw: unknown): ValidateConditionsResult {
  if (raw === undefined || raw === null) return { ok: true, conditions: [] };
  if (!Array.isArray(raw)) return { ok: false, issues: [{ index: null, field: null, message: "Conditions must be a list." }] };
  if (raw.length > MAX_CONDITIONS)
    return { ok: false, issues: [{ index: null, field: null, message: `At most ${MAX_CONDITIONS} conditions.` }] };
  const issues = raw.flatMap((condition, index) => conditionIssues(condition).map((issue) => ({ index, ...issue })));
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, conditions: raw.map((condition) => normalizeCondition(condition as Record<string, unknown>)) };
}

// ───────────────────────────── words ─────────────────────────────

const OP_WORDS: Record<ConditionOp, string> = {
  eq: "=",
  neq: "≠",
  gt: ">",
  gte: "≥",
  lt: "<",
  lte: "≤",
  contains: "contains",
  not_contains: "does not contain",
  starts_with: "starts with",
  ends_with: "ends with",
  not_ends_with: "does not end with",
  matches: "matches",
  in: "is one of",
  not_in: "is not one of",
  exists: "is present",
};

const EFFECT_WORDS: Record<PolicyEffect, string> = { ALLOW: "allow", DENY: "deny", REQUIRE_APPROVAL: "require approval" };
const RISK_WORDS: Record<PolicyToolRisk, string> = {
  READ: "read (no side effects)",
  WRITE: "write (changes data inside your systems)",
  EXTERNAL: "external (reaches people or systems outside)",
};

export function describeValue(value: unknown): string {
  let text: string;
  if (typeof value === "string") text = JSON.stringify(value);
  else if (value === undefined) text = "missing";
  else {
    try {
      text = JSON.stringify(value) ?? typeof value;
    } catch {
      text = typeof value; // a cycle or a BigInt: args come from JSON, so only hand-made facts get here
    }
  }
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

/** e.g. `amountUsd > 100`, `to ends with "@acme.test"`, `status is one of "open", "paid"`. */
export function describeCondition(condition: PolicyCondition): string {
  const words = OP_WORDS[condition.op] ?? String(condition.op);
  if (condition.op === "exists") return condition.value === false ? `${condition.path} is missing` : `${condition.path} is present`;
  if (Array.isArray(condition.value)) return `${condition.path} ${words} ${condition.value.map(describeValue).join(", ")}`;
  if (condition.op === "matches") return `${condition.path} matches /${String(condition.value)}/i`;
  return `${condition.path} ${words} ${describeValue(condition.value)}`;
}

// ───────────────────────────── evaluation ─────────────────────────────

/** "unknown": the value cannot be judged against the condition; restrictive rules then apply, ALLOW rules do not. */
type Verdict = "yes" | "no" | "unknown";

/** Follows a dot path through own properties only (never the prototype chain); a number segment indexes a list. */
function resolvePath(args: Record<string, unknown>, path: string): unknown {
  let current: unknown = args;
  for (const segment of path.split(".")) {
    if (Array.isArray(current)) {
      if (!/^\d+$/.test(segment)) return undefined;
      current = current[Number(segment)];
    } else if (current !== null && typeof current === "object" && Object.prototype.hasOwnProperty.call(current, segment)) {
      current = (current as Record<string, unknown>)[segment];
    } else {
      return undefined;
    }
  }
  return current;
}

function isMissing(value: unknown): boolean {
  return value === undefined || value === null || (Array.isArray(value) && value.length === 0);
}

function not(verdict: Verdict): Verdict {
  return verdict === "yes" ? "no" : verdict === "no" ? "yes" : "unknown";
}

/** Text comparisons ignore case: "Bob@ACME.test" ends with "@acme.test". */
function equals(expected: unknown, actual: Primitive): Verdict {
  if (typeof expected === "number") {
    const n = numberOf(actual);
    return n !== null && n === expected ? "yes" : "no";
  }
  if (typeof expected === "boolean") {
    const b =
      typeof actual === "boolean"
        ? actual
        : typeof actual === "string"
          ? ({ true: true, false: false } as Record<string, boolean>)[actual.trim().toLowerCase()]
          : undefined;
    return b === expected ? "yes" : "no";
  }
  if (typeof expected === "string") return String(actual).toLowerCase() === expected.toLowerCase() ? "yes" : "no";
  return "unknown";
}

const regexCache = new Map<string, RegExp | null>();
function cachedRegex(source: string): RegExp | null {
  if (!regexCache.has(source)) {
    if (regexCache.size > 500) regexCache.clear();
    regexCache.set(source, compileRegex(source));
  }
  return regexCache.get(source) ?? null;
}

function evaluateScalar(condition: PolicyCondition, actual: unknown): Verdict {
  // Objects and nested lists have no text or number to compare: they cannot be judged.
  if (!isPrimitive(actual)) return "unknown";
  const { op, value } = condition;
  switch (op) {
    case "eq":
      return equals(value, actual);
    case "neq":
      return not(equals(value, actual));
    case "gt":
    case "gte":
    case "lt":
    case "lte": {
      const n = numberOf(actual);
      const limit = numberOf(value);
      if (n === null || limit === null) return "unknown";
      const holds = op === "gt" ? n > limit : op === "gte" ? n >= limit : op === "lt" ? n < limit : n <= limit;
      return holds ? "yes" : "no";
    }
    case "contains":
    case "not_contains":
    case "starts_with":
    case "ends_with":
    case "not_ends_with": {
      const text = String(actual).toLowerCase();
      const needle = String(value).toLowerCase();
      const holds =
        op === "starts_with"
          ? text.startsWith(needle)
          : op === "ends_with" || op === "not_ends_with"
            ? text.endsWith(needle)
            : text.includes(needle);
      return op === "not_contains" || op === "not_ends_with" ? (holds ? "no" : "yes") : holds ? "yes" : "no";
    }
    case "matches": {
      const regex = typeof value === "string" ? cachedRegex(value) : null;
      if (!regex) return "unknown";
      return regex.test(String(actual)) ? "yes" : "no";
    }
    case "in":
    case "not_in": {
      const list = Array.isArray(value) ? value : [];
      const found = list.some((item) => equals(item, actual) === "yes");
      return op === "in" ? (found ? "yes" : "no") : found ? "no" : "yes";
    }
    default:
      return "unknown";
  }
}

interface ConditionResult {
  condition: PolicyCondition;
  verdict: Verdict;
  actual: unknown;
  /** Why the verdict is "unknown", in words. */
  note: string | null;
}

function evaluateCondition(condition: PolicyCondition, args: Record<string, unknown>): ConditionResult {
  if (conditionIssues(condition).length > 0) {
    return { condition, verdict: "unknown", actual: undefined, note: "this condition is not valid" };
  }
  const actual = resolvePath(args, condition.path);
  if (condition.op === "exists") {
    const wanted = condition.value !== false;
    return { condition, verdict: !isMissing(actual) === wanted ? "yes" : "no", actual, note: null };
  }
  if (isMissing(actual)) return { condition, verdict: NEGATED_OPS.has(condition.op) ? "yes" : "no", actual: undefined, note: null };
  if (Array.isArray(actual)) {
    // A list holds when every item holds: one outside address among several must not make "ends with @acme.test" true.
    const verdicts = actual.map((item) => evaluateScalar(condition, item));
    if (verdicts.every((v) => v === "yes")) return { condition, verdict: "yes", actual, note: null };
    if (verdicts.every((v) => v === "no")) return { condition, verdict: "no", actual, note: null };
    return { condition, verdict: "unknown", actual, note: "it holds for some items of the list but not all" };
  }
  const verdict = evaluateScalar(condition, actual);
  return { condition, verdict, actual, note: verdict === "unknown" ? `${describeValue(actual)} cannot be compared that way` : null };
}

interface RuleEvaluation {
  rule: PolicyRule;
  specificity: number;
  /** The match fields (agent, tool, risk, person) all equal the call's facts. */
  inScope: boolean;
  conditions: ConditionResult[];
  applies: boolean;
  /** Applies only because a condition could not be judged (restrictive rules fail closed). */
  appliesToBeSafe: boolean;
}

export function specificityOf(rule: Pick<PolicyRule, "agentId" | "toolName" | "toolRisk" | "onBehalfOfUserId" | "conditions">): number {
  const fields = [rule.agentId, rule.toolName, rule.toolRisk, rule.onBehalfOfUserId].filter((field) => field !== null).length;
  return fields + rule.conditions.length;
}

function evaluateRule(rule: PolicyRule, facts: ToolCallFacts): RuleEvaluation {
  const specificity = specificityOf(rule);
  const inScope =
    (rule.agentId === null || rule.agentId === facts.agentId) &&
    (rule.toolName === null || rule.toolName === facts.toolName) &&
    (rule.toolRisk === null || rule.toolRisk === facts.toolRisk) &&
    (rule.onBehalfOfUserId === null || rule.onBehalfOfUserId === facts.onBehalfOfUserId);
  if (!inScope) return { rule, specificity, inScope, conditions: [], applies: false, appliesToBeSafe: false };
  const conditions = rule.conditions.map((condition) => evaluateCondition(condition, facts.args));
  const anyNo = conditions.some((c) => c.verdict === "no");
  const anyUnknown = conditions.some((c) => c.verdict === "unknown");
  const appliesToBeSafe = !anyNo && anyUnknown && rule.effect !== "ALLOW";
  return { rule, specificity, inScope, conditions, applies: !anyNo && (!anyUnknown || rule.effect !== "ALLOW"), appliesToBeSafe };
}

const EFFECT_RANK: Record<PolicyEffect, number> = { DENY: 0, REQUIRE_APPROVAL: 1, ALLOW: 2 };

function byPrecedence(a: RuleEvaluation, b: RuleEvaluation): number {
  return (
    b.specificity - a.specificity ||
    EFFECT_RANK[a.rule.effect] - EFFECT_RANK[b.rule.effect] ||
    a.rule.name.localeCompare(b.rule.name) ||
    a.rule.id.localeCompare(b.rule.id)
  );
}

function quoted(name: string): string {
  return `“${name}”`;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function specificityWords(rule: PolicyRule): string {
  const fields = [
    rule.agentId !== null ? "agent" : null,
    rule.toolName !== null ? "tool" : null,
    rule.toolRisk !== null ? "risk" : null,
    rule.onBehalfOfUserId !== null ? "person" : null,
  ].filter((field): field is string => field !== null);
  if (rule.conditions.length > 0) fields.push(plural(rule.conditions.length, "condition", "conditions"));
  return `specificity ${specificityOf(rule)}${fields.length > 0 ? `: ${fields.join(", ")}` : ", matches every call"}`;
}

function conditionWords(result: ConditionResult): string {
  const seen =
    result.actual === undefined ? `${result.condition.path} is missing` : `${result.condition.path} is ${describeValue(result.actual)}`;
  const verdict =
    result.verdict === "yes" ? "holds" : result.verdict === "no" ? "does not hold" : `cannot be judged (${result.note ?? "unknown"})`;
  return `${describeCondition(result.condition)} ${verdict}; ${seen}`;
}

function explainRule(evaluation: RuleEvaluation): string {
  const { rule } = evaluation;
  const head = `${quoted(rule.name)} (${EFFECT_WORDS[rule.effect]}, ${specificityWords(rule)})`;
  if (!evaluation.applies) {
    const failing = evaluation.conditions.find((c) => c.verdict === "no");
    if (failing) return `${head} does not apply: ${conditionWords(failing)}.`;
    const unjudged = evaluation.conditions.find((c) => c.verdict === "unknown");
    return `${head} does not apply: ${unjudged ? conditionWords(unjudged) : "a condition cannot be judged"}, and an allow rule needs every condition to hold.`;
  }
  if (evaluation.conditions.length === 0) return `${head} applies.`;
  const details = evaluation.conditions.map(conditionWords).join("; and ");
  return evaluation.appliesToBeSafe
    ? `${head} applies to be safe, because a value cannot be judged: ${details}.`
    : `${head} applies: ${details}.`;
}

function ruleReason(rule: PolicyRule): string {
  const reason = rule.reason.trim();
  if (reason) return reason;
  if (rule.effect === "ALLOW") return `Allowed by the policy ${quoted(rule.name)}.`;
  if (rule.effect === "DENY") return `Denied by the policy ${quoted(rule.name)}.`;
  return `The policy ${quoted(rule.name)} requires a person's approval.`;
}

/** Decides one tool call. See the module comment for the rules; every step is written to `explanation`. */
export function decideToolCall(rules: PolicyRule[], facts: ToolCallFacts): PolicyDecision {
  const explanation: string[] = [];
  if (facts.toolRisk === null) {
    const reason = unclassifiedToolReason(facts.toolName);
    explanation.push(
      `${quoted(facts.toolName)} has no risk classification, so no policy is consulted: unclassified tools are never callable.`,
    );
    explanation.push("Decision: deny.");
    return { effect: "DENY", reason, policyId: null, policyName: null, explanation, matched: [] };
  }
  explanation.push(`${quoted(facts.toolName)} is classified as ${RISK_WORDS[facts.toolRisk]}.`);

  const enabled = rules.filter((rule) => rule.enabled);
  const disabledCount = rules.length - enabled.length;
  const evaluations = enabled.map((rule) => evaluateRule(rule, facts));
  const inScope = evaluations.filter((e) => e.inScope).sort(byPrecedence);
  const outOfScope = evaluations.length - inScope.length;
  if (rules.length === 0) explanation.push("The organisation has no policies.");
  for (const evaluation of inScope) explanation.push(explainRule(evaluation));
  if (outOfScope > 0) {
    explanation.push(
      `${plural(outOfScope, "other enabled policy is", "other enabled policies are")} about other agents, tools, risks or people.`,
    );
  }
  if (disabledCount > 0) explanation.push(`${plural(disabledCount, "disabled policy was", "disabled policies were")} skipped.`);

  const applying = inScope.filter((e) => e.applies);
  const matched = applying.map((e) => ({ id: e.rule.id, name: e.rule.name, effect: e.rule.effect, specificity: e.specificity }));

  let effect: PolicyEffect;
  let reason: string;
  let decidingRule: PolicyRule | null = null;
  const winner = applying[0];
  if (!winner) {
    effect = "ALLOW";
    reason = DEFAULT_ALLOW_REASON;
    explanation.push("No policy applies, so the default decides: allow.");
  } else {
    const top = applying.filter((e) => e.specificity === winner.specificity);
    const setAside = applying.length - top.length;
    decidingRule = winner.rule;
    effect = winner.rule.effect;
    reason = ruleReason(winner.rule);
    if (setAside > 0) {
      explanation.push(
        `Only the most specific applying policies (specificity ${winner.specificity}) decide; ${plural(setAside, "less specific policy is", "less specific policies are")} set aside.`,
      );
    }
    if (top.length > 1) {
      explanation.push(
        `Among equally specific policies, deny beats require approval beats allow: ${quoted(winner.rule.name)} decides (${EFFECT_WORDS[effect]}).`,
      );
    } else {
      explanation.push(`${quoted(winner.rule.name)} decides: ${EFFECT_WORDS[effect]}.`);
    }
  }

  if (facts.untrustedContentSeen) {
    const sideEffects = facts.toolRisk === "WRITE" || facts.toolRisk === "EXTERNAL";
    if (sideEffects && effect === "ALLOW" && decidingRule === null) {
      effect = "REQUIRE_APPROVAL";
      reason = UNTRUSTED_CONTENT_REASON;
      explanation.push(
        `Untrusted tool output entered this run and this call has side effects (${facts.toolRisk.toLowerCase()}); no policy explicitly allows it, so a person must approve it.`,
      );
    } else if (sideEffects && effect === "ALLOW") {
      explanation.push(`Untrusted tool output entered this run, but ${quoted(decidingRule?.name ?? "")} explicitly allows this call.`);
    } else if (!sideEffects) {
      explanation.push("Untrusted tool output entered this run; reading has no side effects, so that changes nothing.");
    } else {
      explanation.push(`Untrusted tool output entered this run; the decision is already ${EFFECT_WORDS[effect]}, so that changes nothing.`);
    }
  }

  explanation.push(`Decision: ${EFFECT_WORDS[effect]}.`);
  return { effect, reason, policyId: decidingRule?.id ?? null, policyName: decidingRule?.name ?? null, explanation, matched };
}
