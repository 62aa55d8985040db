import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import type { BadgeTone } from "@/components/ui";
import type { AppRouter } from "@/server/trpc/root";

type RouterOutputs = inferRouterOutputs<AppRouter>;
type RouterInputs = inferRouterInputs<AppRouter>;
export type MemoryItem = RouterOutputs["memory"]["search"]["items"][number];
export type MemoryDetailData = RouterOutputs["memory"]["get"];
export type MemoryFacets = RouterOutputs["memory"]["facets"];
type SearchInput = RouterInputs["memory"]["search"];

export const SCOPES = ["ORG", "AGENT", "USER"] as const;
export type MemoryScope = (typeof SCOPES)[number];
export const KINDS = ["FACT", "PREFERENCE", "EPISODE"] as const;
export type MemoryKind = (typeof KINDS)[number];

/** Short names for badges and filters. */
export const SCOPE_LABELS: Record<MemoryScope, string> = { ORG: "Org", AGENT: "Agent", USER: "User" };
/** What each scope means, for the add form. */
export const SCOPE_HINTS: Record<MemoryScope, string> = {
  ORG: "Every agent may recall it, for anyone.",
  AGENT: "Only this agent recalls it, for anyone it works for.",
  USER: "Recalled only in runs on behalf of this person; only they and admins see it here.",
};
export const SCOPE_TONES: Record<MemoryScope, BadgeTone> = { ORG: "accent", AGENT: "info", USER: "warning" };
export const KIND_LABELS: Record<MemoryKind, string> = { FACT: "Fact", PREFERENCE: "Preference", EPISODE: "Episode" };

export const PAGE_SIZE = 25;

// ─── Highlights ──────────────────────────────────────────────────────────────────────────────────────────────────

export interface HighlightPart {
  text: string;
  marked: boolean;
}

const NAMED_ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0" };

/** Turns the HTML-escaped text the server sends back into plain text (React escapes it again when rendering). */
export function decodeEntities(text: string): string {
  return text.replace(/&(#\d{1,7}|#x[0-9a-f]{1,6}|[a-z]{2,6});/gi, (match, name: string) => {
    if (name.startsWith("#")) {
      const code = name[1] === "x" || name[1] === "X" ? Number.parseInt(name.slice(2), 16) : Number.parseInt(name.slice(1), 10);
      return Number.isInteger(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : match;
    }
    return NAMED_ENTITIES[name.toLowerCase()] ?? match;
  });
}

/**
 * Splits a search highlight (escaped text with `<mark>…</mark>` around matches) into plain-text parts, so it can be
 * rendered as React text without ever parsing HTML. Anything other than the mark tags stays literal text.
 */
export function splitHighlight(highlight: string): HighlightPart[] {
  const parts: HighlightPart[] = [];
  let marked = false;
  for (const piece of highlight.split(/(<\/?mark>)/i)) {
    const tag = piece.toLowerCase();
    if (tag === "<mark>") {
      marked = true;
    } else if (tag === "</mark>") {
      marked = false;
    } else if (piece !== "") {
      const text = decodeEntities(piece);
      const last = parts[parts.length - 1];
      if (last && last.marked === marked) last.text += text;
      else parts.push({ text, marked });
    }
  }
  return parts;
}

// ─── Filters (kept in the URL, so /memory?q=invoice&scope=agent can be linked) ─────────────────────────────────────

export interface MemoryFilters {
  q: string;
  scope: MemoryScope | "";
  agentId: string;
  userId: string;
  kind: MemoryKind | "";
  pinned: boolean;
  superseded: boolean;
}

export const DEFAULT_FILTERS: MemoryFilters = { q: "", scope: "", agentId: "", userId: "", kind: "", pinned: false, superseded: false };

function oneOf<T extends string>(values: readonly T[], raw: string | null): T | "" {
  const upper = (raw ?? "").toUpperCase();
  return (values as readonly string[]).includes(upper) ? (upper as T) : "";
}

export function filtersFromParams(params: { get(name: string): string | null }): MemoryFilters {
  return {
    q: params.get("q") ?? "",
    scope: oneOf(SCOPES, params.get("scope")),
    agentId: params.get("agent") ?? "",
    userId: params.get("user") ?? "",
    kind: oneOf(KINDS, params.get("kind")),
    pinned: params.get("pinned") === "1",
    superseded: params.get("superseded") === "1",
  };
}

export function filtersToSearch(filters: MemoryFilters): string {
  const params = new URLSearchParams();
  if (filters.q.trim()) params.set("q", filters.q.trim());
  if (filters.scope) params.set("scope", filters.scope.toLowerCase());
  if (filters.agentId) params.set("agent", filters.agentId);
  if (filters.userId) params.set("user", filters.userId);
  if (filters.kind) params.set("kind", filters.kind.toLowerCase());
  if (filters.pinned) params.set("pinned", "1");
  if (filters.superseded) params.set("superseded", "1");
  const search = params.toString();
  return search ? `?${search}` : "";
}

/** Filters other than the search text. */
export function hasNarrowingFilters(filters: MemoryFilters): boolean {
  return Boolean(filters.scope || filters.agentId || filters.userId || filters.kind || filters.pinned || filters.superseded);
}

export function searchInputOf(filters: MemoryFilters): Omit<SearchInput, "cursor"> {
  return {
    q: filters.q.trim() || undefined,
    scope: filters.scope || undefined,
    agentId: filters.agentId || undefined,
    userId: filters.userId || undefined,
    kind: filters.kind || undefined,
    pinned: filters.pinned || undefined,
    includeSuperseded: filters.superseded || undefined,
    limit: PAGE_SIZE,
  };
}

// ─── Wording ─────────────────────────────────────────────────────────────────────────────────────────────────────

export interface PersonLike {
  id: string;
  email: string;
  name: string | null;
}

export function personLabel(person: PersonLike | null | undefined, meId?: string | null): string {
  if (!person) return "someone";
  if (meId && person.id === meId) return "you";
  return person.name ?? person.email;
}

function span(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `${Math.max(minutes, 1)} min`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h`;
  return `${Math.round(hours / 24)} d`;
}

/** "expires in 30 d", "expired", or null when it is kept until someone deletes it. */
export function expiryText(expiresAt: Date | null, now = Date.now()): string | null {
  if (!expiresAt) return null;
  const left = expiresAt.getTime() - now;
  return left <= 0 ? "expired" : `expires in ${span(left)}`;
}

/** Whole days from now until `expiresAt`, for prefilling the edit form; "" when it never expires. */
export function daysLeft(expiresAt: Date | null, now = Date.now()): string {
  if (!expiresAt) return "";
  return String(Math.max(1, Math.round((expiresAt.getTime() - now) / 86_400_000)));
}

export function memoryCount(n: number): string {
  return `${n} ${n === 1 ? "memory" : "memories"}`;
}

/** Who a memory belongs to, in words: an agent, a person, or the whole org. */
export function ownerText(item: { scope: MemoryScope; agent: { name: string } | null; user: PersonLike | null }, meId: string | null): string {
  if (item.scope === "AGENT") return item.agent?.name ?? "an agent";
  if (item.scope === "USER") return item.user && item.user.id === meId ? "You" : personLabel(item.user, meId);
  return "Whole org";
}
