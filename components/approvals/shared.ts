import type { inferRouterOutputs } from "@trpc/server";
import type { DiffLine } from "@/server/domain/agents/line-diff";
import type { AppRouter } from "@/server/trpc/root";

type RouterOutputs = inferRouterOutputs<AppRouter>;
export type ApprovalItem = RouterOutputs["approvals"]["list"]["items"][number];

export const QUEUE_POLL_MS = 2_500;

export type JsonRecord = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonRecord {
  return Boolean(value) && typeof value === "object" && !Array.isArray(value);
}

export function prettyJson(value: unknown): string {
  return JSON.stringify(value ?? {}, null, 2) ?? "";
}

/** JSON with object keys sorted, so two argument objects compare by content, not by key order. */
export function canonicalJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (isRecord(v)) return Object.fromEntries(Object.keys(v).sort().map((key) => [key, sort(v[key])]));
    return v;
  };
  return JSON.stringify(sort(value ?? null));
}

/** True when a person approved different arguments from the ones the agent asked for. */
export function wasEdited(approval: { status: string; args: unknown; decidedArgs: unknown }): boolean {
  return approval.status === "APPROVED" && approval.decidedArgs !== null && approval.decidedArgs !== undefined && canonicalJson(approval.args) !== canonicalJson(approval.decidedArgs);
}

// ─── Line diff ────────────────────────────────────────────────────────────────────────────────────────────────────

function splitLines(text: string): string[] {
  return text === "" ? [] : text.replace(/\r\n?/g, "\n").split("\n");
}

/**
 * Line diff by longest common subsequence, for argument objects (tens of lines). Same shape as the agents' version
 * diff, so DiffView renders it; on ties removals come before additions.
 */
export function diffLines(before: string, after: string): DiffLine[] {
  const a = splitLines(before);
  const b = splitLines(after);
  if (a.length * b.length > 250_000) {
    return [...a.map((text, i): DiffLine => ({ op: "remove", text, oldLine: i + 1 })), ...b.map((text, j): DiffLine => ({ op: "add", text, newLine: j + 1 }))];
  }
  const width = b.length + 1;
  const lcs = new Uint32Array((a.length + 1) * width);
  for (let i = a.length - 1; i >= 0; i -= 1) {
    for (let j = b.length - 1; j >= 0; j -= 1) {
      lcs[i * width + j] = a[i] === b[j] ? lcs[(i + 1) * width + j + 1]! + 1 : Math.max(lcs[(i + 1) * width + j]!, lcs[i * width + j + 1]!);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      out.push({ op: "equal", text: a[i]!, oldLine: i + 1, newLine: j + 1 });
      i += 1;
      j += 1;
    } else if (j >= b.length || (i < a.length && lcs[(i + 1) * width + j]! >= lcs[i * width + j + 1]!)) {
      out.push({ op: "remove", text: a[i]!, oldLine: i + 1 });
      i += 1;
    } else {
      out.push({ op: "add", text: b[j]!, newLine: j + 1 });
      j += 1;
    }
  }
  return out;
}

// ─── Input schema ─────────────────────────────────────────────────────────────────────────────────────────────────

export interface SchemaField {
  name: string;
  type: string;
  required: boolean;
  description: string | null;
  /** Short constraint notes, e.g. "> 0", "1–200 characters", "one of: a, b". */
  constraints: string[];
}

function typeOf(prop: JsonRecord): string {
  if (Array.isArray(prop.type)) return prop.type.filter((t): t is string => typeof t === "string").join(" | ");
  if (typeof prop.type === "string") {
    if (prop.type === "array" && isRecord(prop.items) && typeof prop.items.type === "string") return `${prop.items.type}[]`;
    return prop.type;
  }
  if (Array.isArray(prop.anyOf)) return prop.anyOf.filter(isRecord).map(typeOf).join(" | ") || "any";
  if (Array.isArray(prop.enum)) return "enum";
  return "any";
}

function constraintsOf(prop: JsonRecord): string[] {
  const notes: string[] = [];
  const num = (key: string): number | null => {
    const value = prop[key];
    return typeof value === "number" ? value : null;
  };
  if (num("exclusiveMinimum") !== null) notes.push(`> ${num("exclusiveMinimum")}`);
  if (num("minimum") !== null) notes.push(`≥ ${num("minimum")}`);
  if (num("exclusiveMaximum") !== null) notes.push(`< ${num("exclusiveMaximum")}`);
  if (num("maximum") !== null) notes.push(`≤ ${num("maximum")}`);
  const min = num("minLength");
  const max = num("maxLength");
  if (min !== null && max !== null) notes.push(`${min}–${max} characters`);
  else if (min !== null) notes.push(min === 1 ? "not empty" : `at least ${min} characters`);
  else if (max !== null) notes.push(`at most ${max} characters`);
  if (typeof prop.format === "string") notes.push(prop.format);
  if (typeof prop.pattern === "string") notes.push(`matches ${prop.pattern}`);
  if (Array.isArray(prop.enum)) notes.push(`one of: ${prop.enum.map((v) => JSON.stringify(v)).join(", ")}`);
  return notes;
}

/** The top-level parameters a tool's JSON Schema declares, in declaration order. */
export function schemaFields(schema: unknown): SchemaField[] {
  if (!isRecord(schema) || !isRecord(schema.properties)) return [];
  const required = new Set(Array.isArray(schema.required) ? schema.required.filter((r): r is string => typeof r === "string") : []);
  return Object.entries(schema.properties).map(([name, raw]) => {
    const prop = isRecord(raw) ? raw : {};
    return {
      name,
      type: typeOf(prop),
      required: required.has(name),
      description: typeof prop.description === "string" && prop.description.trim() ? prop.description : null,
      constraints: constraintsOf(prop),
    };
  });
}

// ─── Time ─────────────────────────────────────────────────────────────────────────────────────────────────────────

/** A span in words for "waiting 3 min" / "expires in 2 h 5 min". */
export function formatSpan(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return seconds < 10 ? "a few seconds" : `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
}

export const STATUS_LABELS: Record<string, string> = {
  PENDING: "pending",
  APPROVED: "approved",
  REJECTED: "rejected",
  EXPIRED: "expired",
  VOID: "void",
};

/** Field errors the server returns for edited arguments are keyed "args.<field>"; the whole object is "args". */
export function argErrorsOf(fieldErrors: Record<string, string[] | undefined>): { field: string; messages: string[] }[] {
  return Object.entries(fieldErrors)
    .filter(([key, messages]) => (key === "args" || key.startsWith("args.")) && messages && messages.length > 0)
    .map(([key, messages]) => ({ field: key === "args" ? "" : key.slice("args.".length), messages: messages ?? [] }));
}
