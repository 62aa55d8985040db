"use client";

import { useState, type FormEvent, type KeyboardEvent } from "react";
import { DiffView } from "@/components/agents/DiffView";
import { diffLines } from "@/components/approvals/shared";
import { Button, Card, Field, IconCheck, Input, Textarea } from "@/components/ui";
import { cn } from "@/lib/cn";
import { formatDateTime } from "@/lib/format";
import { fieldErrorsOf, messageOf } from "@/lib/trpc";
import { Markdown } from "./Markdown";
import { personName, type InboxDetail, type InboxRevision } from "./shared";

export type DraftMode = "preview" | "changes" | "source";
const MODE_LABELS: Record<DraftMode, string> = { preview: "Preview", changes: "Changes", source: "Markdown" };

function Segmented<T extends string>({ value, options, labels, onChange, label, disabled }: {
  value: T;
  options: readonly T[];
  labels: Record<T, string>;
  onChange: (value: T) => void;
  label: string;
  disabled?: Partial<Record<T, string>>;
}) {
  return (
    <div role="group" aria-label={label} className="inline-flex shrink-0 rounded-md bg-gray-100 p-0.5">
      {options.map((option) => (
        <button
          key={option}
          type="button"
          aria-pressed={value === option}
          disabled={Boolean(disabled?.[option])}
          title={disabled?.[option]}
          onClick={() => onChange(option)}
          className={cn(
            "h-6 rounded px-2 text-xs font-medium transition-colors disabled:cursor-not-allowed disabled:opacity-50",
            value === option ? "bg-surface text-fg shadow-xs ring-1 ring-border" : "text-fg-muted hover:text-fg",
          )}
        >
          {labels[option]}
        </button>
      ))}
    </div>
  );
}

export function authorLabel(revision: InboxRevision, agentName: string, meId: string | null): string {
  return revision.author === "HUMAN" ? `edited by ${personName(revision.authorUser, meId)}` : `by ${agentName}`;
}

/** The email's envelope (who it goes to), or the document's title as a heading. */
function DraftHeading({ item, title }: { item: InboxDetail; title: string }) {
  const to = item.commitAction && typeof item.commitAction.args.to === "string" ? item.commitAction.args.to : null;
  if (item.kind === "EMAIL") {
    return (
      <dl className="grid grid-cols-[auto_minmax(0,1fr)] gap-x-3 gap-y-1 border-b border-border pb-3 text-sm">
        {to ? (
          <>
            <dt className="text-fg-subtle">To</dt>
            <dd className="truncate text-fg">{to}</dd>
          </>
        ) : null}
        <dt className="text-fg-subtle">Subject</dt>
        <dd className="font-medium text-gray-950">{title}</dd>
      </dl>
    );
  }
  return <h3 className="border-b border-border pb-3 text-base font-semibold">{title}</h3>;
}

export function RevisionDiff({ before, after, label }: { before: { title: string; body: string }; after: { title: string; body: string }; label: string }) {
  const lines = diffLines(before.body, after.body);
  const changed = lines.some((line) => line.op !== "equal");
  return (
    <div className="space-y-3">
      {before.title !== after.title ? (
        <p className="text-sm">
          <span className="text-xs font-medium text-fg-subtle uppercase">Title </span>
          <del className="bg-danger-50 text-danger-800 decoration-danger-400">{before.title}</del>
          <span aria-hidden="true" className="px-1.5 text-fg-subtle">→</span>
          <ins className="bg-success-50 text-success-800 no-underline">{after.title}</ins>
        </p>
      ) : null}
      <div className="overflow-hidden rounded-md border border-border bg-surface py-1">
        {changed ? <DiffView lines={lines} label={label} /> : <p className="px-3 py-1.5 text-sm text-fg-muted">The body is the same in both revisions.</p>}
      </div>
    </div>
  );
}

export function DraftCard({ item, shown, mode, onModeChange, onShowLatest, meId }: {
  item: InboxDetail;
  /** The revision on screen (the latest unless the reviewer picked an older one in the history). */
  shown: InboxRevision;
  mode: DraftMode;
  onModeChange: (mode: DraftMode) => void;
  onShowLatest: () => void;
  meId: string | null;
}) {
  const latest = item.revisions[item.revisions.length - 1];
  const previous = item.revisions.find((revision) => revision.revision === shown.revision - 1) ?? null;
  const isLatest = latest?.revision === shown.revision;
  const effectiveMode = mode === "changes" && !previous ? "preview" : mode;
  return (
    <Card aria-label={`Draft, revision ${shown.revision}`} role="region">
      <div className="flex flex-wrap items-center justify-between gap-x-4 gap-y-2 border-b border-border px-4 py-2.5">
        <p className="text-sm">
          <span className="font-semibold text-gray-950">Revision {shown.revision}</span>
          <span className="text-fg-muted" title={`Submitted ${formatDateTime(shown.createdAt)}`}> {authorLabel(shown, item.agent.name, meId)}</span>
          {isLatest && item.revisions.length > 1 ? <span className="text-fg-subtle"> · latest</span> : null}
        </p>
        <Segmented
          label="Show the draft as"
          value={effectiveMode}
          options={["preview", "changes", "source"] as const}
          labels={MODE_LABELS}
          onChange={onModeChange}
          disabled={previous ? undefined : { changes: "The first revision: nothing to compare with." }}
        />
      </div>
      {!isLatest ? (
        <p className="flex flex-wrap items-center gap-x-2 border-b border-info-200 bg-info-50 px-4 py-2 text-sm text-info-800">
          You are looking at an earlier revision; the latest is revision {latest?.revision}.
          <button type="button" onClick={onShowLatest} className="font-medium underline underline-offset-2 hover:no-underline">Show the latest</button>
        </p>
      ) : null}
      {previous?.feedback ? (
        <div className="border-b border-border bg-gray-50/70 px-4 py-2.5">
          <p className="text-xs font-medium text-fg-subtle uppercase">Revised after this feedback on revision {previous.revision}</p>
          <blockquote className="mt-1 border-l-4 border-warning-300 pl-3 text-sm whitespace-pre-wrap text-fg">{previous.feedback}</blockquote>
        </div>
      ) : null}
      <div className="space-y-4 px-5 py-4">
        {effectiveMode === "changes" && previous ? (
          <>
            <p className="flex flex-wrap items-center gap-3 text-xs text-fg-subtle">
              Changes from revision {previous.revision}
              <span className="inline-flex items-center gap-1"><span aria-hidden="true" className="font-mono font-semibold text-danger-700">−</span>revision {previous.revision}</span>
              <span className="inline-flex items-center gap-1"><span aria-hidden="true" className="font-mono font-semibold text-success-700">+</span>revision {shown.revision}</span>
            </p>
            <RevisionDiff before={previous} after={shown} label={`Changes from revision ${previous.revision} to ${shown.revision}`} />
          </>
        ) : (
          <>
            <DraftHeading item={item} title={shown.title} />
            {effectiveMode === "source" ? (
              <pre className="font-mono text-xs leading-relaxed break-words whitespace-pre-wrap text-fg">{shown.body}</pre>
            ) : (
              <Markdown text={shown.body} className="max-w-[68ch]" />
            )}
          </>
        )}
      </div>
    </Card>
  );
}

/** Ctrl/⌘+Enter submits the form the textarea belongs to; Escape cancels. */
export function formKeys(onCancel: () => void) {
  return (event: KeyboardEvent<HTMLTextAreaElement | HTMLInputElement>) => {
    if (event.key === "Enter" && (event.metaKey || event.ctrlKey)) {
      event.preventDefault();
      event.currentTarget.form?.requestSubmit();
    } else if (event.key === "Escape") {
      event.preventDefault();
      onCancel();
    }
  };
}

/** Edit, then accept: the reviewer's version is kept as a revision of its own, written by them. */
export function EditDraftCard({ item, base, pending, error, onCancel, onSubmit }: {
  item: InboxDetail;
  base: InboxRevision;
  pending: boolean;
  error: unknown;
  onCancel: () => void;
  onSubmit: (edit: { title?: string; body?: string }) => void;
}) {
  const [title, setTitle] = useState(base.title);
  const [body, setBody] = useState(base.body);
  const [view, setView] = useState<"preview" | "changes">("changes");
  const fields = fieldErrorsOf(error);
  const titleChanged = title.trim() !== base.title;
  const bodyChanged = body !== base.body;
  const changed = titleChanged || bodyChanged;
  const localTitleError = title.trim() === "" ? "The title cannot be empty." : null;
  const localBodyError = body.trim() === "" ? "The body cannot be empty." : null;
  const [touched, setTouched] = useState(false);
  const unmatched = Boolean(error) && !fields.title && !fields.body;
  const titleLabel = item.kind === "EMAIL" ? "Subject" : "Title";

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setTouched(true);
    if (pending || localTitleError || localBodyError) return;
    onSubmit({ title: titleChanged ? title.trim() : undefined, body: bodyChanged ? body : undefined });
  }

  return (
    <Card role="region" aria-label="Edit the draft">
      <div className="flex flex-wrap items-center justify-between gap-2 border-b border-border px-4 py-2.5">
        <p className="text-sm">
          <span className="font-semibold text-gray-950">Edit, then accept</span>
          <span className="text-fg-muted"> · starting from revision {base.revision}</span>
        </p>
      </div>
      <form id="inbox-edit-form" noValidate onSubmit={submit} className="space-y-4 px-4 py-4">
        {unmatched ? <p role="alert" className="rounded-md bg-danger-50 px-3 py-2 text-sm text-danger-700">{messageOf(error)}</p> : null}
        <Field label={titleLabel} error={fields.title ?? (touched ? localTitleError : null)}>
          <Input name="title" value={title} maxLength={300} onChange={(event) => setTitle(event.target.value)} onKeyDown={formKeys(onCancel)} autoComplete="off" />
        </Field>
        <Field label="Body (Markdown)" error={fields.body ?? (touched ? localBodyError : null)} hint="Ctrl+Enter (⌘+Enter) accepts · Escape cancels.">
          <Textarea
            name="body"
            value={body}
            onChange={(event) => setBody(event.target.value)}
            onKeyDown={formKeys(onCancel)}
            rows={Math.min(Math.max(base.body.split("\n").length + 2, 10), 24)}
            maxLength={100_000}
            data-inbox-autofocus
            autoFocus
            className="text-sm leading-6"
          />
        </Field>
        <div>
          <div className="mb-2 flex flex-wrap items-center justify-between gap-2">
            <p className="text-xs font-medium text-fg-subtle uppercase">{view === "changes" ? "Your changes" : "How it will read"}</p>
            <Segmented label="Check your version" value={view} options={["changes", "preview"] as const} labels={{ changes: "Changes", preview: "Preview" }} onChange={setView} />
          </div>
          {view === "changes" ? (
            changed ? (
              <RevisionDiff before={base} after={{ title: title.trim(), body }} label="Your changes" />
            ) : (
              <p className="rounded-md border border-dashed border-border-strong px-3 py-2 text-sm text-fg-muted">No changes yet: accepting now accepts revision {base.revision} as the agent wrote it.</p>
            )
          ) : (
            <div className="rounded-md border border-border px-4 py-3">
              <Markdown text={body} />
            </div>
          )}
        </div>
        <p className="flex items-start gap-2 text-sm text-fg-muted">
          {changed
            ? `Your version is kept as revision ${item.currentRevision + 1}, written by you; revision ${base.revision} stays in the history as the agent wrote it.`
            : "Nothing is changed yet."}
        </p>
      </form>
      <div className="flex items-center justify-end gap-2 border-t border-border bg-gray-50/70 px-4 py-2.5">
        <Button onClick={onCancel} disabled={pending}>Cancel</Button>
        <Button variant="primary" type="submit" form="inbox-edit-form" icon={<IconCheck />} loading={pending}>
          {changed ? "Accept your version" : "Accept as is"}
        </Button>
      </div>
    </Card>
  );
}
