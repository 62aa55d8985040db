import Link from "next/link";
import { Fragment, type ReactNode } from "react";

/**
 * How the memory layer's trace events read on the run page: memories recalled (MEMORY_READ) and written
 * (MEMORY_WRITE), the context summaries that replaced older turns (CONTEXT_SUMMARY), and citations in the answer —
 * [memory:<id>] and [doc:<title> §<n>] markers become links to the memory and to the knowledge passage.
 */

type JsonRecord = Record<string, unknown>;
const asRecord = (value: unknown): JsonRecord => (value && typeof value === "object" && !Array.isArray(value) ? (value as JsonRecord) : {});
const str = (value: unknown): string => (typeof value === "string" ? value : "");
const num = (value: unknown): number | null => (typeof value === "number" ? value : null);

export const MEMORY_TYPES = new Set(["MEMORY_READ", "MEMORY_WRITE", "CONTEXT_SUMMARY"]);

/** A memory's page in the memory browser. */
export const memoryHref = (id: string) => `/memory/${encodeURIComponent(id)}`;

interface MemoryView {
  id: string;
  content: string;
  kind: string;
  scope: string;
}

function memoriesOf(payload: JsonRecord): MemoryView[] {
  const list = Array.isArray(payload.memories) ? payload.memories : [];
  return list.map(asRecord).map((m) => ({ id: str(m.id), content: str(m.content), kind: str(m.kind), scope: str(m.scope) }));
}

/** The line under a memory row. */
export function MemoryEventSummary({ type, status, payload }: { type: string; status: string; payload: JsonRecord }) {
  if (!MEMORY_TYPES.has(type)) return null;
  let line: ReactNode;
  if (type === "MEMORY_READ") {
    const memories = memoriesOf(payload);
    const where = payload.atStart ? "Put into the context at run start" : `Recalled for “${str(payload.query)}”`;
    line = status === "ERROR" ? `Memories could not be recalled: ${str(payload.error)}` : memories.length === 0 ? `${where}: nothing matched.` : `${where}: ${memories.length} memor${memories.length === 1 ? "y" : "ies"}.`;
  } else if (type === "MEMORY_WRITE") {
    const id = str(payload.memoryId);
    line =
      status === "PENDING" ? (
        "Writing the memory…"
      ) : id ? (
        <>
          Wrote <Link href={memoryHref(id)} className="font-medium text-accent-700 hover:underline">{`[memory:${id}]`}</Link> ({str(payload.kind).toLowerCase()}, {str(payload.scope || "default scope").toLowerCase()}): “{str(payload.content)}”
          {str(payload.supersededId) ? " — replaces a near-duplicate, kept as history." : ""}
        </>
      ) : (
        `Nothing was written: ${str(payload.error) || "interrupted"}`
      );
  } else {
    const before = num(payload.tokensBefore);
    const after = num(payload.tokensAfter);
    const budget = num(payload.budget);
    const by = payload.method === "model" ? "by the agent's model" : "by rule (the scripted model cannot summarise)";
    line =
      status === "OK"
        ? `Summarised ${num(payload.summarisedMessages) ?? "older"} message(s) ${by}: ${before?.toLocaleString() ?? "?"} → ${after?.toLocaleString() ?? "?"} tokens (budget ${budget?.toLocaleString() ?? "?"}, ${str(payload.tokenizer)}).`
        : status === "PENDING"
          ? "Summarising older turns to fit the context window…"
          : `Summarising failed: ${str(payload.error)}`;
  }
  return <p className="px-4 pb-2 pl-16 text-xs text-fg-muted">{line}</p>;
}

/** The expanded part of a memory row: the memories themselves, or the summary the model saw. */
export function MemoryDetail({ type, payload }: { type: string; payload: JsonRecord }) {
  if (type === "MEMORY_READ") {
    const memories = memoriesOf(payload);
    if (memories.length === 0) return null;
    return (
      <ul className="space-y-1.5" aria-label="Recalled memories">
        {memories.map((memory) => (
          <li key={memory.id} className="rounded-md border border-border bg-surface p-2 text-sm">
            <Link href={memoryHref(memory.id)} className="mr-2 font-mono text-xs text-accent-700 hover:underline">{`[memory:${memory.id}]`}</Link>
            {memory.content}
            <span className="ml-2 text-xs text-fg-subtle">{memory.kind.toLowerCase()} · {memory.scope.toLowerCase()}</span>
          </li>
        ))}
      </ul>
    );
  }
  if (type === "CONTEXT_SUMMARY" && str(payload.summary)) {
    return (
      <div className="space-y-1">
        <p className="text-xs font-medium text-fg-subtle uppercase">What the model saw instead of steps 1–{num(payload.coversThroughSeq) ?? "?"}</p>
        <p className="rounded-md border border-border bg-surface p-2 text-sm whitespace-pre-wrap">{str(payload.summary)}</p>
      </div>
    );
  }
  return null;
}

export interface PassageCitation {
  marker: string;
  href: string;
  title: string;
}

/** The passages search_knowledge returned in this run, by their citation marker. */
export function citationsOf(events: readonly { type: string; payload: unknown }[]): Map<string, PassageCitation> {
  const found = new Map<string, PassageCitation>();
  for (const event of events) {
    if (event.type !== "TOOL_CALL") continue;
    const citations = asRecord(event.payload).citations;
    if (!Array.isArray(citations)) continue;
    for (const citation of citations.map(asRecord)) {
      if (str(citation.marker) && str(citation.href)) found.set(str(citation.marker), { marker: str(citation.marker), href: str(citation.href), title: str(citation.title) });
    }
  }
  return found;
}

const CITATION = /\[memory:([A-Za-z0-9_-]+)\]|\[doc:[^\]\n]+\]/g;

/** Text with its citation markers as links: memories to the memory browser, passages to the document's chunk. */
export function CitedText({ text, passages }: { text: string; passages: Map<string, PassageCitation> }) {
  const parts: ReactNode[] = [];
  let last = 0;
  for (const match of text.matchAll(CITATION)) {
    const index = match.index;
    parts.push(text.slice(last, index));
    const marker = match[0];
    const memoryId = match[1];
    const passage = passages.get(marker);
    const href = memoryId ? memoryHref(memoryId) : passage?.href;
    parts.push(
      href ? (
        <Link key={index} href={href} className="font-medium text-accent-700 hover:underline" title={memoryId ? "Open the memory" : `Open the passage in ${passage?.title ?? "the document"}`}>
          {marker}
        </Link>
      ) : (
        marker
      ),
    );
    last = index + marker.length;
  }
  parts.push(text.slice(last));
  return (
    <>
      {parts.map((part, i) => (
        <Fragment key={i}>{part}</Fragment>
      ))}
    </>
  );
}
