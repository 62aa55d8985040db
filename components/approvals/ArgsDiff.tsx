"use client";

import { DiffView } from "@/components/agents/DiffView";
import { diffLines, prettyJson } from "./shared";

/** Requested vs approved (or edited) arguments as a unified line diff. */
export function ArgsDiff({ before, after, label = "Changes to the arguments", beforeLabel = "requested", afterLabel = "approved" }: {
  before: unknown;
  after: unknown;
  label?: string;
  beforeLabel?: string;
  afterLabel?: string;
}) {
  const lines = diffLines(prettyJson(before), prettyJson(after));
  const changed = lines.some((line) => line.op !== "equal");
  return (
    <div>
      <p className="mb-1 flex items-center gap-3 text-xs font-medium text-fg-subtle uppercase">
        {label}
        <span className="flex items-center gap-2 font-normal normal-case">
          <span className="inline-flex items-center gap-1"><span aria-hidden="true" className="font-mono font-semibold text-danger-700">−</span>{beforeLabel}</span>
          <span className="inline-flex items-center gap-1"><span aria-hidden="true" className="font-mono font-semibold text-success-700">+</span>{afterLabel}</span>
        </span>
      </p>
      <div className="overflow-hidden rounded-md border border-border bg-surface py-1">
        {changed ? <DiffView lines={lines} label={label} /> : <p className="px-3 py-1.5 text-sm text-fg-muted">No changes: the arguments are exactly as requested.</p>}
      </div>
    </div>
  );
}
