"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Button, Dialog, Field, IconInfo, Input, Select, Textarea, useToast } from "@/components/ui";
import { formText } from "@/lib/forms";
import { fieldErrorsOf, messageOf, useTRPC } from "@/lib/trpc";
import { daysLeft, KIND_LABELS, KINDS, memoryCount, SCOPE_HINTS, SCOPE_LABELS, SCOPES, type MemoryFacets, type MemoryKind, type MemoryScope } from "./shared";

const MAX_TTL_DAYS = 3650;

/** "" → no expiry; otherwise whole days from 1 to 10 years, or an error message. */
function parseTtl(raw: string): { days: number | null; error: string | null } {
  const text = raw.trim();
  if (text === "") return { days: null, error: null };
  const days = Number(text);
  if (!Number.isInteger(days) || days < 1 || days > MAX_TTL_DAYS) return { days: null, error: `Enter whole days from 1 to ${MAX_TTL_DAYS}, or leave it empty to keep it until someone deletes it.` };
  return { days, error: null };
}

function useInvalidateMemory() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  return () => queryClient.invalidateQueries(trpc.memory.pathFilter());
}

/** A refusal no field of the form shows next to itself. */
function FormError({ error, fields, shown }: { error: unknown; fields: Record<string, string[] | undefined>; shown: readonly string[] }) {
  if (!error || shown.some((name) => fields[name]?.length)) return null;
  return <p role="alert" className="rounded-md bg-danger-50 px-3 py-2 text-sm text-danger-700">{messageOf(error)}</p>;
}

/** Editing a field clears the message it showed after the last attempt. */
function clearOnEdit(setErrors: (update: (errors: Record<string, string | undefined>) => Record<string, string | undefined>) => void) {
  return (event: FormEvent<HTMLFormElement>) => {
    const target = event.target;
    if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) {
      const name = target.name;
      setErrors((errors) => (errors[name] ? { ...errors, [name]: undefined } : errors));
    }
  };
}

export function AddMemoryDialog({ open, onClose, facets, meId }: { open: boolean; onClose: () => void; facets: MemoryFacets | undefined; meId: string | null }) {
  const trpc = useTRPC();
  const { toast } = useToast();
  const invalidate = useInvalidateMemory();
  const [scope, setScope] = useState<MemoryScope>("ORG");
  const [localErrors, setLocalErrors] = useState<Record<string, string | undefined>>({});
  const create = useMutation(
    trpc.memory.create.mutationOptions({
      onSuccess: async () => {
        toast({ title: "Memory added", description: "Agents can recall it from their next run.", tone: "success" });
        close();
        await invalidate();
      },
    }),
  );
  const fields = fieldErrorsOf(create.error);
  const agents = facets?.agents ?? [];
  const users = facets?.users ?? [];

  function close() {
    create.reset();
    setLocalErrors({});
    setScope("ORG");
    onClose();
  }

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const content = formText(form, "content").trim();
    const agentId = formText(form, "agentId");
    const ttl = parseTtl(formText(form, "ttlDays"));
    const errors: Record<string, string | undefined> = {
      content: content === "" ? "Write what agents should remember." : undefined,
      agentId: scope === "AGENT" && !agentId ? "Choose the agent this memory belongs to." : undefined,
      ttlDays: ttl.error ?? undefined,
    };
    setLocalErrors(errors);
    if (Object.values(errors).some(Boolean)) return;
    create.mutate({
      content,
      scope,
      kind: formText(form, "kind") as MemoryKind,
      agentId: scope === "AGENT" ? agentId : undefined,
      userId: scope === "USER" ? formText(form, "userId") || undefined : undefined,
      ttlDays: ttl.days ?? undefined,
      pinned: form.get("pinned") === "on",
    });
  }

  return (
    <Dialog
      open={open}
      onClose={close}
      dismissible={!create.isPending}
      size="lg"
      title="Add a memory"
      description="Something agents should know next time, written by you. It is recalled when a run's request matches it."
      footer={
        <>
          <Button onClick={close}>Cancel</Button>
          <Button variant="primary" type="submit" form="add-memory-form" loading={create.isPending}>Add memory</Button>
        </>
      }
    >
      <form id="add-memory-form" onSubmit={onSubmit} onChange={clearOnEdit(setLocalErrors)} className="space-y-4" noValidate>
        <FormError error={create.error} fields={fields} shown={["content", "scope", "kind", "agentId", "userId", "ttlDays"]} />
        <Field label="What should agents remember?" error={localErrors.content ?? fields.content} required>
          <Textarea name="content" rows={3} required maxLength={5000} data-autofocus placeholder="e.g. Invoices to Quokka Logistics go to ap@quokka.example, never to the buyer." />
        </Field>
        <div className="grid gap-4 sm:grid-cols-2">
          <Field label="Scope" hint={SCOPE_HINTS[scope]} error={fields.scope}>
            <Select name="scope" value={scope} onChange={(e) => setScope(e.target.value as MemoryScope)}>
              {SCOPES.map((s) => <option key={s} value={s}>{SCOPE_LABELS[s]}</option>)}
            </Select>
          </Field>
          <Field label="Kind" hint="Facts are true things, preferences are how someone likes it, episodes are what happened." error={fields.kind}>
            <Select name="kind" defaultValue="FACT">
              {KINDS.map((k) => <option key={k} value={k}>{KIND_LABELS[k]}</option>)}
            </Select>
          </Field>
        </div>
        {scope === "AGENT" ? (
          <Field label="Agent" error={localErrors.agentId ?? fields.agentId} required>
            <Select name="agentId" defaultValue="">
              <option value="" disabled>Choose an agent…</option>
              {agents.map((agent) => <option key={agent.id} value={agent.id}>{agent.name}</option>)}
            </Select>
          </Field>
        ) : null}
        {scope === "USER" ? (
          <Field label="Person" hint={users.length > 1 ? undefined : "Personal memories you add are yours."} error={fields.userId}>
            <Select name="userId" defaultValue={meId ?? ""} disabled={users.length <= 1}>
              {users.length === 0 && meId ? <option value={meId}>You</option> : null}
              {users.map((user) => <option key={user.id} value={user.id}>{user.id === meId ? `You (${user.email})` : user.name ? `${user.name} (${user.email})` : user.email}</option>)}
            </Select>
          </Field>
        ) : null}
        <div className="grid items-start gap-4 sm:grid-cols-2">
          <Field label="Forget after (days)" optional hint="Leave empty to keep it until someone deletes it." error={localErrors.ttlDays ?? fields.ttlDays}>
            <Input name="ttlDays" type="number" inputMode="numeric" min={1} max={MAX_TTL_DAYS} step={1} placeholder="e.g. 30" />
          </Field>
          <label className="mt-6 flex items-start gap-2 text-sm text-fg">
            <input type="checkbox" name="pinned" className="mt-0.5 size-3.5 accent-accent-600" />
            <span>
              Pin it
              <span className="block text-xs text-fg-subtle">Pinned memories are recalled before other matches.</span>
            </span>
          </label>
        </div>
      </form>
    </Dialog>
  );
}

export interface EditableMemory {
  id: string;
  content: string;
  expiresAt: Date | null;
}

export function EditMemoryDialog({ memory, onClose }: { memory: EditableMemory | null; onClose: () => void }) {
  const trpc = useTRPC();
  const { toast } = useToast();
  const invalidate = useInvalidateMemory();
  const [localErrors, setLocalErrors] = useState<Record<string, string | undefined>>({});
  const update = useMutation(
    trpc.memory.update.mutationOptions({
      onSuccess: async () => {
        toast({ title: "Memory updated", description: "The earlier wording is kept in its history.", tone: "success" });
        close();
        await invalidate();
      },
    }),
  );
  const fields = fieldErrorsOf(update.error);
  const initialDays = memory ? daysLeft(memory.expiresAt) : "";

  function close() {
    update.reset();
    setLocalErrors({});
    onClose();
  }

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!memory) return;
    const form = new FormData(event.currentTarget);
    const content = formText(form, "content").trim();
    const rawDays = formText(form, "ttlDays");
    const ttl = parseTtl(rawDays);
    const errors = {
      content: content === "" ? "A memory cannot be empty. To forget it, delete it instead." : undefined,
      ttlDays: ttl.error ?? undefined,
    };
    setLocalErrors(errors);
    if (errors.content || errors.ttlDays) return;
    const expiryChanged = rawDays.trim() !== initialDays;
    if (content === memory.content && !expiryChanged) {
      close();
      return;
    }
    update.mutate({
      id: memory.id,
      content: content === memory.content ? undefined : content,
      expiresAt: expiryChanged ? (ttl.days === null ? null : new Date(Date.now() + ttl.days * 86_400_000)) : undefined,
    });
  }

  return (
    <Dialog
      open={memory !== null}
      onClose={close}
      dismissible={!update.isPending}
      size="lg"
      title="Edit memory"
      footer={
        <>
          <Button onClick={close}>Cancel</Button>
          <Button variant="primary" type="submit" form="edit-memory-form" loading={update.isPending}>Save changes</Button>
        </>
      }
    >
      {memory ? (
        <form id="edit-memory-form" key={memory.id} onSubmit={onSubmit} onChange={clearOnEdit(setLocalErrors)} className="space-y-4" noValidate>
          <p role="note" className="flex items-start gap-2 rounded-md border border-info-200 bg-info-50 px-3 py-2 text-sm text-info-800">
            <IconInfo className="mt-0.5 shrink-0" />
            The current wording is kept in this memory’s history, so you can see what it said before. Agents recall only the new wording.
          </p>
          <FormError error={update.error} fields={fields} shown={["content", "expiresAt"]} />
          <Field label="Memory" error={localErrors.content ?? fields.content} required>
            <Textarea name="content" rows={4} required maxLength={5000} defaultValue={memory.content} data-autofocus />
          </Field>
          <Field label="Forget after (days from now)" optional hint="Leave empty to keep it until someone deletes it." error={localErrors.ttlDays ?? fields.expiresAt} className="sm:w-1/2">
            <Input name="ttlDays" type="number" inputMode="numeric" min={1} max={MAX_TTL_DAYS} step={1} defaultValue={initialDays} placeholder="Never" />
          </Field>
        </form>
      ) : null}
    </Dialog>
  );
}

/** Confirms a hard delete of one or many memories; calls onDeleted with the ids that are gone. */
export function DeleteMemoriesDialog({ ids, preview, onClose, onDeleted }: { ids: string[]; preview: string | null; onClose: () => void; onDeleted?: (ids: string[]) => void }) {
  const trpc = useTRPC();
  const { toast } = useToast();
  const invalidate = useInvalidateMemory();
  const remove = useMutation(
    trpc.memory.delete.mutationOptions({
      onSuccess: async ({ deleted }, input) => {
        toast({ title: deleted === 1 ? "Memory deleted" : `Deleted ${memoryCount(deleted)}`, description: "Agents no longer recall it, and it is gone from search.", tone: "success" });
        remove.reset();
        onDeleted?.(input.ids);
        onClose();
        await invalidate();
      },
    }),
  );
  const count = ids.length;
  const close = () => {
    remove.reset();
    onClose();
  };
  return (
    <Dialog
      open={count > 0}
      onClose={close}
      dismissible={!remove.isPending}
      size="md"
      title={count === 1 ? "Delete this memory?" : `Delete ${memoryCount(count)}?`}
      description={`${count === 1 ? "It is" : "They are"} removed for good, with ${count === 1 ? "its" : "their"} edit history and any older memories ${count === 1 ? "it" : "they"} replaced. The audit log records the deletion, not the content.`}
      footer={
        <>
          <Button onClick={close}>Cancel</Button>
          <Button variant="danger" icon={null} loading={remove.isPending} onClick={() => remove.mutate({ ids })}>
            {count === 1 ? "Delete memory" : `Delete ${memoryCount(count)}`}
          </Button>
        </>
      }
    >
      {preview || remove.isError ? (
        <div className="space-y-3">
          {remove.isError ? <p role="alert" className="rounded-md bg-danger-50 px-3 py-2 text-sm text-danger-700">Nothing was deleted: {messageOf(remove.error)}</p> : null}
          {preview ? <blockquote className="border-l-2 border-border-strong pl-3 text-fg-muted">{preview}</blockquote> : null}
        </div>
      ) : null}
    </Dialog>
  );
}
