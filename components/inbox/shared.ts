import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import type { BadgeTone } from "@/components/ui";
import type { AppRouter } from "@/server/trpc/root";

type RouterOutputs = inferRouterOutputs<AppRouter>;
type RouterInputs = inferRouterInputs<AppRouter>;
export type InboxSummary = RouterOutputs["inbox"]["list"]["items"][number];
export type InboxDetail = RouterOutputs["inbox"]["byId"];
export type InboxRevision = InboxDetail["revisions"][number];
export type InboxSource = InboxDetail["sources"][number];
export type CommitActionInfo = NonNullable<InboxDetail["commitAction"]>;
type ListInput = RouterInputs["inbox"]["list"];

export const LIST_POLL_MS = 3_000;
/** While a draft waits for a decision or for the agent's next revision, and while the run after a decision works. */
export const DETAIL_POLL_MS = 2_000;

export type InboxStatus = InboxSummary["status"];
export type DraftKind = InboxSummary["kind"];

export const KIND_LABELS: Record<DraftKind, string> = { EMAIL: "Email", DOCUMENT: "Document", TICKET_REPLY: "Ticket reply" };

export const STATUS_BADGES: Record<InboxStatus, { label: string; tone: BadgeTone }> = {
  PENDING: { label: "waiting for review", tone: "warning" },
  CHANGES_REQUESTED: { label: "agent revising", tone: "info" },
  ACCEPTED: { label: "accepted", tone: "success" },
  DISCARDED: { label: "discarded", tone: "neutral" },
};

export function isOpen(status: InboxStatus): boolean {
  return status === "PENDING" || status === "CHANGES_REQUESTED";
}

// ─── Filters (kept in the URL, so /inbox?status=pending&agent=<id> can be linked) ─────────────────────────────────

export const TABS = ["open", "accepted", "discarded", "all"] as const;
export type InboxTab = (typeof TABS)[number];
export const TAB_LABELS: Record<InboxTab, string> = { open: "Open", accepted: "Accepted", discarded: "Discarded", all: "All" };

/** Within the Open tab: both, only the drafts waiting for a person, or only those the agent is revising. */
export const OPEN_VIEWS = ["open", "pending", "changes_requested"] as const;
export type OpenView = (typeof OPEN_VIEWS)[number];
export const OPEN_VIEW_LABELS: Record<OpenView, string> = { open: "Waiting or being revised", pending: "Waiting for review", changes_requested: "Being revised by the agent" };

export const AGE_OPTIONS = [
  { hours: 1, label: "Over 1 hour" },
  { hours: 4, label: "Over 4 hours" },
  { hours: 24, label: "Over a day" },
  { hours: 72, label: "Over 3 days" },
] as const;

export const KIND_PARAMS = { email: "EMAIL", document: "DOCUMENT", ticket_reply: "TICKET_REPLY" } as const satisfies Record<string, DraftKind>;
export type KindParam = keyof typeof KIND_PARAMS;

export interface InboxFilters {
  tab: InboxTab;
  /** Meaningful in the Open tab only. */
  openView: OpenView;
  agentId: string;
  kind: KindParam | "";
  /** Hours; 0 = any age. */
  minAgeHours: number;
  /** "" = anyone, "me", "none" (unassigned) or a user id. */
  assignee: string;
}

export const DEFAULT_FILTERS: InboxFilters = { tab: "open", openView: "open", agentId: "", kind: "", minAgeHours: 0, assignee: "" };

interface ParamsLike {
  get(name: string): string | null;
}

/** Reads filters from a query string; unknown values fall back to the defaults rather than failing. */
export function filtersFromParams(params: ParamsLike): InboxFilters {
  const status = (params.get("status") ?? "").toLowerCase();
  const kind = (params.get("kind") ?? "").toLowerCase();
  const age = Number(params.get("age") ?? "");
  const filters: InboxFilters = { ...DEFAULT_FILTERS };
  if ((OPEN_VIEWS as readonly string[]).includes(status)) filters.openView = status as OpenView;
  else if ((TABS as readonly string[]).includes(status)) filters.tab = status as InboxTab;
  if (Object.hasOwn(KIND_PARAMS, kind)) filters.kind = kind as KindParam;
  if (Number.isFinite(age) && age > 0 && age <= 24 * 365) filters.minAgeHours = age;
  filters.agentId = (params.get("agent") ?? "").slice(0, 100);
  filters.assignee = (params.get("assignee") ?? "").slice(0, 100);
  return filters;
}

/** The canonical query string for filters ("" for the defaults), without the leading "?". */
export function filtersToSearch(filters: InboxFilters): string {
  const params = new URLSearchParams();
  const status = filters.tab === "open" ? filters.openView : filters.tab;
  if (status !== "open") params.set("status", status);
  if (filters.agentId) params.set("agent", filters.agentId);
  if (filters.kind) params.set("kind", filters.kind);
  if (filters.minAgeHours > 0) params.set("age", String(filters.minAgeHours));
  if (filters.assignee) params.set("assignee", filters.assignee);
  return params.toString();
}

export function hasNarrowingFilters(filters: InboxFilters): boolean {
  return Boolean(filters.agentId || filters.kind || filters.minAgeHours > 0 || filters.assignee || (filters.tab === "open" && filters.openView !== "open"));
}

/** The list procedure's input for filters (without paging). */
export function listInputOf(filters: InboxFilters): Omit<ListInput, "cursor"> {
  const status: ListInput["status"] =
    filters.tab === "open" ? (filters.openView === "open" ? "OPEN" : filters.openView === "pending" ? "PENDING" : "CHANGES_REQUESTED") : filters.tab === "all" ? undefined : filters.tab === "accepted" ? "ACCEPTED" : "DISCARDED";
  return {
    status,
    agentId: filters.agentId || undefined,
    kind: filters.kind ? KIND_PARAMS[filters.kind] : undefined,
    assignee: filters.assignee || undefined,
    minAgeHours: filters.minAgeHours > 0 ? filters.minAgeHours : undefined,
    limit: 50,
  };
}

export function itemHref(id: string | null, search: string): string {
  return `${id ? `/inbox/${id}` : "/inbox"}${search ? `?${search}` : ""}`;
}

// ─── j / k ───────────────────────────────────────────────────────────────────────────────────────────────────────

/**
 * The item j (+1) or k (−1) moves to. When the open item has left the list (decided, so out of the Open tab), the
 * neighbours are taken from the place it had: the item that moved up into that place is "next".
 */
export function neighbourId(ids: readonly string[], currentId: string | null, lastIndex: number | null, step: 1 | -1): string | null {
  if (ids.length === 0) return null;
  if (currentId === null) return step === 1 ? (ids[0] ?? null) : (ids[ids.length - 1] ?? null);
  const index = ids.indexOf(currentId);
  if (index >= 0) return ids[index + step] ?? null;
  if (lastIndex === null) return ids[0] ?? null;
  const target = step === 1 ? lastIndex : lastIndex - 1;
  return ids[Math.min(Math.max(target, 0), ids.length - 1)] ?? null;
}

/** True when a key press belongs to a control the person is typing in, so single-letter shortcuts must not fire. */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!target || typeof (target as { tagName?: unknown }).tagName !== "string") return false;
  const element = target as unknown as { tagName: string; isContentEditable?: boolean; type?: string };
  const tag = element.tagName.toUpperCase();
  if (tag === "TEXTAREA" || tag === "SELECT" || element.isContentEditable) return true;
  if (tag !== "INPUT") return false;
  return !["checkbox", "radio", "button", "submit", "reset"].includes((element.type ?? "text").toLowerCase());
}

// ─── What accepting does ─────────────────────────────────────────────────────────────────────────────────────────

/** A sentence in pieces: plain text, emphasised values, and code (tool and argument names). */
export type Segment = { text: string; as?: "strong" | "code" };

function valueText(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value) ?? "";
}

const MAX_VALUE_CHARS = 120;
const clip = (text: string) => (text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text);

/**
 * "Accepting sends an email to rahul@example.com with subject “Re: …” via send_email." for anything email-like;
 * otherwise the tool and its preset arguments. The accepted body (and title) fill the named arguments.
 */
export function describeCommitAction(action: CommitActionInfo | null): Segment[] {
  if (!action) return [{ text: "Accepting hands the accepted text back to the agent. No tool is called with it." }];
  const args = action.args;
  const to = typeof args.to === "string" ? args.to : null;
  const subject = typeof args.subject === "string" ? args.subject : null;
  const out: Segment[] = [];
  const shown = new Set<string>();
  if (to) {
    out.push({ text: /mail/i.test(action.tool) ? "Accepting sends an email to " : "Accepting sends it to " }, { text: to, as: "strong" });
    shown.add("to");
    if (subject) {
      out.push({ text: " with subject " }, { text: `“${clip(subject)}”`, as: "strong" });
      shown.add("subject");
    }
    out.push({ text: " via " }, { text: action.tool, as: "code" });
  } else {
    out.push({ text: "Accepting calls " }, { text: action.tool, as: "code" });
  }
  const rest = Object.entries(args).filter(([name]) => !shown.has(name) && name !== action.bodyArg && name !== action.titleArg);
  if (rest.length > 0) {
    out.push({ text: " with " });
    rest.forEach(([name, value], i) => {
      if (i > 0) out.push({ text: i === rest.length - 1 ? " and " : ", " });
      out.push({ text: name, as: "code" }, { text: " = " }, { text: clip(valueText(value)), as: "strong" });
    });
  }
  out.push({ text: "." });
  if (action.bodyArg || action.titleArg) {
    out.push({ text: " The text you accept goes in as " });
    if (action.bodyArg) out.push({ text: action.bodyArg, as: "code" });
    if (action.bodyArg && action.titleArg) out.push({ text: " and the title as " });
    if (action.titleArg) out.push({ text: action.titleArg, as: "code" });
    out.push({ text: "." });
  }
  return out;
}

export function segmentsText(segments: readonly Segment[]): string {
  return segments.map((segment) => segment.text).join("");
}

// ─── People and revisions ────────────────────────────────────────────────────────────────────────────────────────

export interface Person {
  id: string;
  email: string;
  name: string | null;
}

export function personName(person: Person | null | undefined, meId?: string | null): string {
  if (!person) return "someone";
  if (meId && person.id === meId) return "you";
  return person.name ?? person.email;
}

/** Initials for an avatar chip: "Maya Singh" → "MS", "ops@acme.test" → "O". */
export function initialsOf(person: Person): string {
  const source = person.name?.trim() || person.email;
  const words = source.split(/[\s@._-]+/).filter(Boolean);
  if (person.name && words.length >= 2) return `${words[0]![0]}${words[words.length - 1]![0]}`.toUpperCase();
  return (words[0]?.[0] ?? "?").toUpperCase();
}

/**
 * Tool calls the agent made before its latest draft are the context it drew on; calls after it are what the
 * decision caused (the commit action).
 */
export function splitSources(sources: readonly InboxSource[], draftEvents: readonly { seq: number }[]): { context: InboxSource[]; afterDecision: InboxSource[] } {
  const lastDraft = draftEvents.reduce((max, event) => Math.max(max, event.seq), -1);
  if (lastDraft < 0) return { context: [...sources], afterDecision: [] };
  return { context: sources.filter((s) => s.seq < lastDraft), afterDecision: sources.filter((s) => s.seq > lastDraft) };
}

/** A one-line summary of a tool call's arguments: `query: "chairs", limit: 5`. */
export function argsSummary(args: unknown): string {
  if (!args || typeof args !== "object" || Array.isArray(args)) return "";
  return Object.entries(args as Record<string, unknown>)
    .map(([name, value]) => `${name}: ${typeof value === "string" ? JSON.stringify(value.length > 60 ? `${value.slice(0, 59)}…` : value) : clip(valueText(value))}`)
    .join(", ");
}

/** Tool results are text, often JSON: indent it when it is. */
export function prettyResult(text: string): string {
  const trimmed = text.trim();
  if (!trimmed.startsWith("{") && !trimmed.startsWith("[")) return text;
  try {
    return JSON.stringify(JSON.parse(trimmed), null, 2);
  } catch {
    return text;
  }
}
