"use client";

import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent, type KeyboardEvent } from "react";
import { Button, Dialog, Field, Textarea } from "@/components/ui";
import { fieldErrorsOf, messageOf, useTRPC } from "@/lib/trpc";
import { ArgsDiff } from "./ArgsDiff";
import { SchemaBlock } from "./ArgsWithSchema";
import { argErrorsOf, canonicalJson, isRecord, prettyJson, type ApprovalItem, type JsonRecord } from "./shared";

export type DecisionDialogState = { kind: "edit" | "reject"; approval: ApprovalItem; session: number };

interface DialogProps {
  state: DecisionDialogState | null;
  onClose: () => void;
  /** Called with the decided approval; the parent toasts and refreshes. */
  onDecided: (approval: ApprovalItem, how: "approved" | "edited" | "rejected") => void;
  /** A decision the server refused (e.g. someone decided first): the parent refreshes the queue. */
  onFailed: () => void;
}

const toolLabelOf = (approval: ApprovalItem) => (approval.tool ? `${approval.tool.server}/${approval.tool.name}` : approval.toolName);

/** Ctrl/⌘+Enter submits the dialog's form from a textarea. */
function submitOnModEnter(event: KeyboardEvent<HTMLTextAreaElement>) {
  if (event.key === "Enter" && (event.metaKey || event.ctrlKey)) {
    event.preventDefault();
    event.currentTarget.form?.requestSubmit();
  }
}

type Parsed = { ok: true; value: JsonRecord } | { ok: false; message: string };

function parseArgs(text: string): Parsed {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, message: `Not valid JSON yet: ${error instanceof Error ? error.message : "check the syntax"}.` };
  }
  if (!isRecord(value)) return { ok: false, message: "The arguments must be a JSON object, e.g. { \"amountUsd\": 200 }." };
  return { ok: true, value };
}

export function EditApproveDialog({ state, onClose, onDecided, onFailed }: DialogProps) {
  const trpc = useTRPC();
  const decide = useMutation(
    trpc.approvals.decide.mutationOptions({
      onSuccess: (approval) => onDecided(approval, approval.decidedArgs !== null && canonicalJson(approval.decidedArgs) !== canonicalJson(approval.args) ? "edited" : "approved"),
      onError: (error) => {
        if (Object.keys(fieldErrorsOf(error)).length === 0) onFailed();
      },
    }),
  );
  const open = state?.kind === "edit";
  // Whether the editor differs from the request: the confirm button says which of the two it approves.
  const [editedSession, setEditedSession] = useState<number | null>(null);
  const edited = state !== null && editedSession === state.session;
  const close = () => {
    decide.reset();
    onClose();
  };
  return (
    <Dialog
      open={open}
      onClose={close}
      size="lg"
      dismissible={!decide.isPending}
      title={state ? `Edit & approve ${state.approval.toolName}` : "Edit & approve"}
      description="Change the arguments, check the difference, then approve. The tool runs with exactly the arguments you approve; both versions are kept in the audit log."
      footer={
        <>
          <Button onClick={close} disabled={decide.isPending}>Cancel</Button>
          <Button variant="primary" type="submit" form="edit-approve-form" loading={decide.isPending}>
            {edited ? "Approve with these arguments" : "Approve as requested"}
          </Button>
        </>
      }
    >
      {open && state ? (
        <EditApproveForm
          key={state.session}
          approval={state.approval}
          error={decide.error}
          pending={decide.isPending}
          onEditedChange={(changed) => setEditedSession(changed ? state.session : null)}
          onSubmit={(args, comment) => decide.mutate({ approvalId: state.approval.id, decision: "approve", args, comment: comment || undefined })}
        />
      ) : null}
    </Dialog>
  );
}

function EditApproveForm({ approval, error, pending, onEditedChange, onSubmit }: {
  approval: ApprovalItem;
  error: unknown;
  pending: boolean;
  onEditedChange: (edited: boolean) => void;
  onSubmit: (args: JsonRecord | undefined, comment: string) => void;
}) {
  const original = prettyJson(approval.args);
  const [text, setText] = useState(original);
  const [comment, setComment] = useState("");
  const [touched, setTouched] = useState(false);
  const parsed = parseArgs(text);
  const changed = parsed.ok && canonicalJson(parsed.value) !== canonicalJson(approval.args);
  const serverErrors = argErrorsOf(fieldErrorsOf(error));
  const byField = Object.fromEntries(serverErrors.filter((e) => e.field).map((e) => [e.field, e.messages]));
  const editorErrors = [
    ...(parsed.ok ? [] : touched ? [parsed.message] : []),
    ...serverErrors.flatMap((e) => e.messages.map((message) => (e.field ? `${e.field}: ${message}` : message))),
  ];
  const unmatched = Boolean(error) && serverErrors.length === 0;

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setTouched(true);
    if (!parsed.ok || pending) return;
    // Unchanged arguments are approved as requested: nothing to send.
    onSubmit(changed ? parsed.value : undefined, comment.trim());
  }

  return (
    <form id="edit-approve-form" onSubmit={submit} className="space-y-4" noValidate>
      {unmatched ? <p role="alert" className="rounded-md bg-danger-50 px-3 py-2 text-sm text-danger-700">{messageOf(error)}</p> : null}
      <Field label="Arguments (JSON)" error={editorErrors} hint="Ctrl+Enter (⌘+Enter) approves.">
        <Textarea
          name="args"
          value={text}
          onChange={(event) => {
            const next = parseArgs(event.target.value);
            setText(event.target.value);
            setTouched(true);
            onEditedChange(!next.ok || canonicalJson(next.value) !== canonicalJson(approval.args));
          }}
          onKeyDown={submitOnModEnter}
          rows={Math.min(Math.max(original.split("\n").length + 2, 6), 16)}
          spellCheck={false}
          autoComplete="off"
          data-autofocus
          className="font-mono text-xs leading-5"
        />
      </Field>
      <SchemaBlock schema={approval.tool?.inputSchema} args={parsed.ok ? parsed.value : undefined} toolLabel={toolLabelOf(approval)} errors={byField} />
      {parsed.ok ? (
        <ArgsDiff before={approval.args} after={parsed.value} label="Your changes" beforeLabel="requested" afterLabel="will be approved" />
      ) : (
        <p className="rounded-md border border-dashed border-border-strong px-3 py-2 text-sm text-fg-muted">Fix the JSON to see the changes.</p>
      )}
      <Field label="Note" optional hint="Kept with the decision in the run's trace and the audit log.">
        <Textarea name="comment" value={comment} onChange={(event) => setComment(event.target.value)} onKeyDown={submitOnModEnter} rows={2} maxLength={2000} placeholder="e.g. Policy caps goodwill refunds at $200." />
      </Field>
    </form>
  );
}

export function RejectDialog({ state, onClose, onDecided, onFailed }: DialogProps) {
  const trpc = useTRPC();
  const decide = useMutation(
    trpc.approvals.decide.mutationOptions({
      onSuccess: (approval) => onDecided(approval, "rejected"),
      onError: (error) => {
        if (Object.keys(fieldErrorsOf(error)).length === 0) onFailed();
      },
    }),
  );
  const open = state?.kind === "reject";
  const close = () => {
    decide.reset();
    onClose();
  };
  return (
    <Dialog
      open={open}
      onClose={close}
      dismissible={!decide.isPending}
      title={state ? `Reject ${state.approval.toolName}` : "Reject"}
      description="The call is not made. The agent is told it was rejected and gets your comment, so it can adjust or explain to the person it works for."
      footer={
        <>
          <Button onClick={close} disabled={decide.isPending}>Cancel</Button>
          <Button variant="danger" type="submit" form="reject-form" loading={decide.isPending}>Reject call</Button>
        </>
      }
    >
      {open && state ? (
        <RejectForm key={state.session} error={decide.error} onSubmit={(comment) => decide.mutate({ approvalId: state.approval.id, decision: "reject", comment: comment || undefined })} />
      ) : null}
    </Dialog>
  );
}

function RejectForm({ error, onSubmit }: { error: unknown; onSubmit: (comment: string) => void }) {
  const [comment, setComment] = useState("");
  const fields = fieldErrorsOf(error);
  const unmatched = Boolean(error) && !fields.comment;
  return (
    <form
      id="reject-form"
      noValidate
      className="space-y-4"
      onSubmit={(event) => {
        event.preventDefault();
        onSubmit(comment.trim());
      }}
    >
      {unmatched ? <p role="alert" className="rounded-md bg-danger-50 px-3 py-2 text-sm text-danger-700">{messageOf(error)}</p> : null}
      <Field label="Comment for the agent" error={fields.comment} hint="Returned to the agent as the reason, and kept in the run's trace and the audit log. Ctrl+Enter (⌘+Enter) rejects.">
        <Textarea
          name="comment"
          value={comment}
          onChange={(event) => setComment(event.target.value)}
          onKeyDown={submitOnModEnter}
          rows={4}
          maxLength={2000}
          data-autofocus
          placeholder="e.g. The order was already refunded in part; offer store credit instead."
        />
      </Field>
    </form>
  );
}
