"use client";

import Link from "next/link";
import { Button, IconAlertCircle, IconAlertTriangle } from "@/components/ui";
import { formatSpan } from "@/components/approvals/shared";

interface PendingApproval {
  id: string;
  toolName: string;
  reason: string;
  expiresAt: Date;
  policy: { name: string } | null;
}

/** A run parked on a person: what it waits for, and where to decide. */
export function WaitingApprovalBanner({ approvals, canDecide, now }: { approvals: PendingApproval[]; canDecide: boolean; now: number }) {
  return (
    <div role="status" className="flex items-start gap-3 rounded-lg border border-warning-200 bg-warning-50 px-4 py-3 text-sm text-warning-800">
      <IconAlertTriangle className="mt-0.5 size-4 shrink-0" />
      <div className="min-w-0 flex-1 space-y-1">
        <p className="font-medium">This run is waiting for approval</p>
        {approvals.length === 0 ? (
          <p>A tool call is held for a person&apos;s decision.</p>
        ) : (
          approvals.map((approval) => (
            <p key={approval.id}>
              <code className="font-mono text-xs font-semibold">{approval.toolName}</code>: {approval.reason}
              {approval.policy ? <span className="text-warning-700"> (rule: {approval.policy.name})</span> : null}
              <span className="text-warning-700"> · expires in {formatSpan(approval.expiresAt.getTime() - now)}</span>
            </p>
          ))
        )}
        <p className="text-warning-700">{canDecide ? "It continues as soon as someone decides." : "A supervisor, admin or owner decides; the run continues as soon as they do."}</p>
      </div>
      <Link
        href={approvals[0] ? `/approvals#approval-${approvals[0].id}` : "/approvals"}
        className="shrink-0 self-center rounded-md bg-surface px-3 py-1.5 text-sm font-medium text-accent-700 shadow-xs ring-1 ring-warning-200 ring-inset hover:bg-gray-50"
      >
        {canDecide ? "Review the approval" : "View the approval"}
      </Link>
    </div>
  );
}

const RESUME_HINTS: Record<string, { title: string; body: string }> = {
  budget: {
    title: "Stopped by a spend limit",
    body: "A hard spend limit was used up before the next model call. Raise the limit under Admin → Spend, then resume: the run continues where it stopped.",
  },
  interrupted: {
    title: "Stopped after an interrupted tool call",
    body: "A tool call was cut off and may or may not have taken effect. Check the system it acts on, then resume: the run continues from that step.",
  },
};

export function isResumableHalt(status: string, haltReason: string | null): boolean {
  return status === "HALTED" && haltReason !== null && haltReason in RESUME_HINTS;
}

/** A halted run a person may continue (a budget since raised, an interruption they checked). */
export function ResumeBanner({ haltReason, canResume, resuming, onResume }: { haltReason: string; canResume: boolean; resuming: boolean; onResume: () => void }) {
  const hint = RESUME_HINTS[haltReason];
  if (!hint) return null;
  return (
    <div className="flex items-start gap-3 rounded-lg border border-danger-200 bg-danger-50 px-4 py-3 text-sm text-danger-800">
      <IconAlertCircle className="mt-0.5 size-4 shrink-0" />
      <div className="min-w-0 flex-1 space-y-1">
        <p className="font-medium">{hint.title}</p>
        <p>{hint.body}</p>
        {canResume ? null : <p className="text-danger-700">Someone who may start runs can resume it.</p>}
      </div>
      {canResume ? (
        <Button variant="primary" className="self-center" loading={resuming} onClick={onResume}>
          Resume
        </Button>
      ) : null}
    </div>
  );
}
