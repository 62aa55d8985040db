"use client";

import { useState } from "react";
import { cn } from "@/lib/cn";
import type { DiffLine } from "@/server/domain/agents/line-diff";

/** Unchanged lines kept around each change; longer unchanged runs fold into an expandable row. */
const CONTEXT = 3;

type Row = { kind: "line"; line: DiffLine } | { kind: "fold"; id: number; lines: DiffLine[] };

function fold(lines: DiffLine[], expanded: ReadonlySet<number>): Row[] {
  const rows: Row[] = [];
  let i = 0;
  while (i < lines.length) {
    if (lines[i]!.op !== "equal") {
      rows.push({ kind: "line", line: lines[i]! });
      i += 1;
      continue;
    }
    let j = i;
    while (j < lines.length && lines[j]!.op === "equal") j += 1;
    const run = lines.slice(i, j);
    const head = i === 0 ? 0 : CONTEXT;
    const tail = j === lines.length ? 0 : CONTEXT;
    if (run.length > head + tail + 1 && !expanded.has(i)) {
      run.slice(0, head).forEach((line) => rows.push({ kind: "line", line }));
      rows.push({ kind: "fold", id: i, lines: run.slice(head, run.length - tail) });
      run.slice(run.length - tail).forEach((line) => rows.push({ kind: "line", line }));
    } else {
      run.forEach((line) => rows.push({ kind: "line", line }));
    }
    i = j;
  }
  return rows;
}

const ROW_STYLES: Record<DiffLine["op"], { row: string; sign: string; mark: string }> = {
  equal: { row: "", sign: "text-fg-subtle", mark: " " },
  add: { row: "bg-success-50", sign: "text-success-700", mark: "+" },
  remove: { row: "bg-danger-50", sign: "text-danger-700", mark: "−" },
};

/** A unified line diff: old and new line numbers, +/− gutter, unchanged stretches folded. */
export function DiffView({ lines, label }: { lines: DiffLine[]; label: string }) {
  const [expanded, setExpanded] = useState<ReadonlySet<number>>(new Set());
  if (lines.length === 0) return <p className="px-4 py-3 text-sm text-fg-subtle">Empty in both versions.</p>;
  return (
    <div className="overflow-x-auto">
      <table className="w-full border-collapse font-mono text-xs leading-5" aria-label={label}>
        <tbody>
          {fold(lines, expanded).map((row, index) => {
            if (row.kind === "fold") {
              return (
                <tr key={`fold-${row.id}`} className="bg-gray-50">
                  <td colSpan={4} className="border-y border-border/70 px-4 py-1">
                    <button
                      type="button"
                      className="font-sans text-xs font-medium text-accent-700 hover:underline"
                      onClick={() => setExpanded((set) => new Set([...set, row.id]))}
                    >
                      Show {row.lines.length} unchanged line{row.lines.length === 1 ? "" : "s"}
                    </button>
                  </td>
                </tr>
              );
            }
            const { line } = row;
            const style = ROW_STYLES[line.op];
            return (
              <tr key={index} className={style.row}>
                <td className="w-10 px-2 text-right text-fg-subtle tabular-nums select-none">{line.op !== "add" ? line.oldLine : ""}</td>
                <td className="w-10 px-2 text-right text-fg-subtle tabular-nums select-none">{line.op !== "remove" ? line.newLine : ""}</td>
                <td className={cn("w-5 text-center font-semibold select-none", style.sign)} aria-label={line.op === "equal" ? undefined : line.op === "add" ? "added" : "removed"}>
                  {style.mark}
                </td>
                <td className={cn("pr-4 whitespace-pre-wrap break-words", line.op === "equal" ? "text-fg-muted" : "text-fg")}>{line.text || " "}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
