"use client";

import { useState } from "react";

const COLLAPSE_OVER_CHARS = 1500;

function pretty(value: unknown): string {
  if (typeof value === "string") {
    try {
      return JSON.stringify(JSON.parse(value), null, 2);
    } catch {
      return value;
    }
  }
  return JSON.stringify(value, null, 2) ?? "";
}

/** Pretty JSON (or text); large payloads start collapsed so a 1 MB tool result cannot swamp the page. */
export function JsonView({ value, label }: { value: unknown; label: string }) {
  const text = pretty(value);
  const [expanded, setExpanded] = useState(text.length <= COLLAPSE_OVER_CHARS);
  return (
    <div>
      <p className="mb-1 text-xs font-medium text-fg-subtle uppercase">{label}</p>
      <pre className="max-h-[28rem] overflow-auto rounded-md border border-border bg-gray-50 p-3 font-mono text-xs leading-relaxed break-words whitespace-pre-wrap text-fg">
        {expanded ? text : `${text.slice(0, COLLAPSE_OVER_CHARS)}…`}
      </pre>
      {text.length > COLLAPSE_OVER_CHARS ? (
        <button type="button" onClick={() => setExpanded(!expanded)} className="mt-1 text-xs font-medium text-accent-700 hover:underline">
          {expanded ? "Collapse" : `Show all (${(text.length / 1024).toFixed(1)} KB)`}
        </button>
      ) : null}
    </div>
  );
}
