"use client";

import { useState, type ReactNode, type RefObject } from "react";
import { Button, Card, Dialog, Field, IconCheck, Textarea } from "@/components/ui";
import { cn } from "@/lib/cn";
import { fieldErrorsOf, messageOf } from "@/lib/trpc";
import { formKeys } from "./DraftPanel";
import { describeCommitAction, type CommitActionInfo, type Segment } from "./shared";

export function Kbd({ children, className }: { children: ReactNode; className?: string }) {
  return (
    <kbd className={cn("inline-flex h-4 min-w-4 items-center justify-center rounded border border-border-strong bg-surface px-1 font-mono text-[10px] leading-none font-medium text-fg-muted shadow-xs", className)}>
      {children}
    </kbd>
  );
}

export function KeyHints({ move, decide }: { move: boolean; decide: boolean }) {
  const hint = (keys: string[], label: string) => (
    <span className="inline-flex items-center gap-1 whitespace-nowrap">
      {keys.map((key) => <Kbd key={key}>{key}</Kbd>)} {label}
    </span>
  );
  return (
    <p aria-label="Keyboard shortcuts" className="flex flex-wrap items-center gap-x-3 gap-y-1 text-xs text-fg-subtle">
      {move ? hint(["j", "k"], "next / previous draft") : null}
      {decide ? (
        <>
          {hint(["a"], "accept")}
          {hint(["e"], "edit")}
          {hint(["r"], "request changes")}
          {hint(["d"], "discard")}
        </>
      ) : null}
    </p>
  );
}

export function SegmentsText({ segments }: { segments: Segment[] }) {
  return (
    <>
      {segments.map((segment, index) =>
        segment.as === "strong" ? (
          <strong key={index} className="font-semibold text-gray-950">{segment.text}</strong>
        ) : segment.as === "code" ? (
          <code key={index} className="rounded bg-gray-100 px-1 font-mono text-xs text-fg">{segment.text}</code>
        ) : (
          <span key={index}>{segment.text}</span>
        ),
      )}
    </>
  );
}

/** What accepting does, in words; then the four decisions. */
export function DecisionCard({ commitAction, canDecide, busy, accepting, error, onAccept, onEdit, onRequestChanges, onDiscard }: {
  commitAction: CommitActionInfo | null;
  canDecide: boolean;
  busy: boolean;
  accepting: boolean;
  /** A decision the server refused (not a form's field error): shown here, next to the buttons. */
  error: unknown;
  onAccept: () => void;
  onEdit: () => void;
  onRequestChanges: () => void;
  onDiscard: () => void;
}) {
  return (
    <Card role="region" aria-label="Decision">
      <div className="space-y-2 px-4 py-3">
        <p className="text-sm text-fg-muted" data-testid="inbox-commit-action">
          <SegmentsText segments={describeCommitAction(commitAction)} />
        </p>
        {commitAction ? <p className="text-xs text-fg-subtle">Policy checks the call as one made by you: it may still need an approval before it runs.</p> : null}
        {error ? <p role="alert" className="rounded-md bg-danger-50 px-3 py-2 text-sm text-danger-700">{messageOf(error)}</p> : null}
      </div>
      {canDecide ? (
        <div className="flex flex-wrap items-center justify-between gap-x-4 gap-y-2 border-t border-border bg-gray-50/70 px-4 py-2.5">
          <div className="hidden md:block">
            <KeyHints move={false} decide />
          </div>
          <div className="ml-auto flex flex-wrap items-center justify-end gap-2">
            <Button variant="ghost" onClick={onDiscard} disabled={busy} aria-keyshortcuts="d">
              <span className="text-danger-700">Discard…</span>
            </Button>
            <Button onClick={onRequestChanges} disabled={busy} aria-keyshortcuts="r">Request changes…</Button>
            <Button onClick={onEdit} disabled={busy} aria-keyshortcuts="e">Edit & accept…</Button>
            <Button variant="primary" icon={<IconCheck />} loading={accepting} disabled={busy && !accepting} onClick={onAccept} aria-keyshortcuts="a">
              Accept
            </Button>
          </div>
        </div>
      ) : null}
    </Card>
  );
}

export function RequestChangesCard({ revision, agentName, pending, error, textareaRef, onCancel, onSubmit }: {
  revision: number;
  agentName: string;
  pending: boolean;
  error: unknown;
  textareaRef: RefObject<HTMLTextAreaElement | null>;
  onCancel: () => void;
  onSubmit: (feedback: string) => void;
}) {
  const [feedback, setFeedback] = useState("");
  const [touched, setTouched] = useState(false);
  const fields = fieldErrorsOf(error);
  const localError = touched && feedback.trim() === "" ? "Say what should change: the agent revises the draft from your feedback." : null;
  const unmatched = Boolean(error) && !fields.feedback;
  return (
    <Card role="region" aria-label="Request changes">
      <form
        id="inbox-changes-form"
        noValidate
        className="space-y-3 px-4 py-3"
        onSubmit={(event) => {
          event.preventDefault();
          setTouched(true);
          if (feedback.trim() === "" || pending) return;
          onSubmit(feedback.trim());
        }}
      >
        {unmatched ? <p role="alert" className="rounded-md bg-danger-50 px-3 py-2 text-sm text-danger-700">{messageOf(error)}</p> : null}
        <Field
          label="What should change?"
          required
          error={fields.feedback ?? localError}
          hint={`${agentName} gets this with revision ${revision} and submits a new revision. Ctrl+Enter (⌘+Enter) sends · Escape cancels.`}
        >
          <Textarea
            ref={textareaRef}
            name="feedback"
            autoFocus
            value={feedback}
            onChange={(event) => setFeedback(event.target.value)}
            onKeyDown={formKeys(onCancel)}
            rows={4}
            maxLength={5_000}
            placeholder="e.g. Mention that the tracking number is in the shipping email."
          />
        </Field>
      </form>
      <div className="flex items-center justify-end gap-2 border-t border-border bg-gray-50/70 px-4 py-2.5">
        <Button onClick={onCancel} disabled={pending}>Cancel</Button>
        <Button variant="primary" type="submit" form="inbox-changes-form" loading={pending}>Send back for changes</Button>
      </div>
    </Card>
  );
}

export function DiscardDialog({ open, title, hasCommit, agentName, pending, error, onClose, onConfirm }: {
  open: boolean;
  title: string;
  hasCommit: boolean;
  agentName: string;
  pending: boolean;
  error: unknown;
  onClose: () => void;
  onConfirm: () => void;
}) {
  return (
    <Dialog
      open={open}
      onClose={onClose}
      dismissible={!pending}
      title="Discard this draft?"
      description={`“${title}” is not ${hasCommit ? "sent" : "used"}. ${agentName} is told it was discarded, and the run finishes without it. This cannot be undone.`}
      footer={
        <>
          <Button onClick={onClose} disabled={pending}>Keep it</Button>
          <Button variant="danger" loading={pending} onClick={onConfirm} data-autofocus>Discard draft</Button>
        </>
      }
    >
      {error ? <p role="alert" className="rounded-md bg-danger-50 px-3 py-2 text-sm text-danger-700">{messageOf(error)}</p> : null}
    </Dialog>
  );
}
