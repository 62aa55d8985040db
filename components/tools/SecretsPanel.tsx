"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Badge, Button, Dialog, Field, IconPlus, Input, Spinner, Table, TBody, TD, TH, THead, TR, useToast } from "@/components/ui";
import { formatRelative } from "@/lib/format";
import { formText } from "@/lib/forms";
import { fieldErrorsOf, messageOf, useTRPC } from "@/lib/trpc";
import { IconKey, type SecretRow } from "./shared";

/** Secrets tool servers reference by name (env vars, headers). Values go in once and are never shown again. */
export function SecretsPanel() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { toast } = useToast();
  const secrets = useQuery(trpc.tools.secrets.list.queryOptions());
  const [dialog, setDialog] = useState<{ mode: "create" } | { mode: "replace"; secret: SecretRow } | null>(null);
  const invalidate = () => queryClient.invalidateQueries({ queryKey: trpc.tools.secrets.list.queryKey() });

  const remove = useMutation(
    trpc.tools.secrets.delete.mutationOptions({
      onSuccess: async (secret) => {
        toast({ title: `Deleted “${secret.name}”`, tone: "success" });
        await invalidate();
      },
      onError: (error) => toast({ title: "Could not delete the secret", description: messageOf(error), tone: "danger" }),
    }),
  );

  return (
    <section aria-labelledby="secrets-heading" className="space-y-3">
      <div className="flex items-end justify-between gap-4">
        <div>
          <h2 id="secrets-heading" className="text-sm font-semibold text-gray-950">Secrets</h2>
          <p className="mt-0.5 text-sm text-fg-muted">Encrypted at rest. Tool servers receive them as environment variables or HTTP headers; nobody can read them back.</p>
        </div>
        <Button size="sm" icon={<IconPlus />} onClick={() => setDialog({ mode: "create" })}>
          Add secret
        </Button>
      </div>
      {secrets.isPending ? (
        <Spinner label="Loading secrets" showLabel />
      ) : secrets.isError ? (
        <p role="alert" className="text-sm text-danger-700">{messageOf(secrets.error)}</p>
      ) : secrets.data.length === 0 ? (
        <div className="flex items-center gap-3 rounded-lg border border-dashed border-border-strong bg-surface/60 px-4 py-3 text-sm text-fg-muted">
          <IconKey className="shrink-0 text-fg-subtle" />
          No secrets yet. Add one for each API token a tool server needs.
        </div>
      ) : (
        <Table containerClassName="rounded-lg border border-border bg-surface shadow-card" caption="Secrets">
          <THead>
            <TR><TH>Name</TH><TH>Used by</TH><TH>Updated</TH><TH><span className="sr-only">Actions</span></TH></TR>
          </THead>
          <TBody>
            {secrets.data.map((secret) => (
              <TR key={secret.id}>
                <TD>
                  <span className="flex items-center gap-2">
                    <IconKey className="size-3.5 text-fg-subtle" />
                    <code className="text-xs font-medium text-fg">{secret.name}</code>
                  </span>
                </TD>
                <TD>
                  <div className="flex flex-wrap gap-1">
                    {secret.usedBy.length === 0 ? <span className="text-xs text-fg-subtle">unused</span> : null}
                    {secret.usedBy.map((use) => (
                      <Badge key={`${use.kind}:${use.name}`} tone={use.kind === "model" ? "accent" : "neutral"}>
                        {use.kind === "model" ? "model" : "server"} · {use.name}
                      </Badge>
                    ))}
                  </div>
                </TD>
                <TD muted>{formatRelative(secret.updatedAt)}</TD>
                <TD className="text-right whitespace-nowrap">
                  <Button size="sm" variant="ghost" onClick={() => setDialog({ mode: "replace", secret })}>Replace value</Button>
                  <Button
                    size="sm"
                    variant="ghost"
                    disabled={secret.usedBy.length > 0}
                    title={secret.usedBy.length > 0 ? "Still in use: remove it from those first." : undefined}
                    onClick={() => {
                      if (window.confirm(`Delete the secret “${secret.name}”? This cannot be undone.`)) remove.mutate({ id: secret.id });
                    }}
                  >
                    Delete
                  </Button>
                </TD>
              </TR>
            ))}
          </TBody>
        </Table>
      )}
      {dialog ? <SecretDialog state={dialog} onClose={() => setDialog(null)} onSaved={invalidate} /> : null}
    </section>
  );
}

function SecretDialog({
  state,
  onClose,
  onSaved,
}: {
  state: { mode: "create" } | { mode: "replace"; secret: SecretRow };
  onClose: () => void;
  onSaved: () => Promise<unknown>;
}) {
  const trpc = useTRPC();
  const { toast } = useToast();
  const done = async (secret: { name: string }) => {
    toast({ title: state.mode === "create" ? `Saved “${secret.name}”` : `Replaced the value of “${secret.name}”`, description: "Servers using it pick it up on their next connection.", tone: "success" });
    onClose();
    await onSaved();
  };
  const create = useMutation(trpc.tools.secrets.create.mutationOptions({ onSuccess: done }));
  const update = useMutation(trpc.tools.secrets.update.mutationOptions({ onSuccess: done }));
  const mutation = state.mode === "create" ? create : update;
  const fields = fieldErrorsOf(mutation.error);

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    if (state.mode === "create") create.mutate({ name: formText(form, "name"), value: formText(form, "value") });
    else update.mutate({ id: state.secret.id, value: formText(form, "value") });
  }

  return (
    <Dialog
      open
      onClose={onClose}
      title={state.mode === "create" ? "Add a secret" : `Replace “${state.secret.name}”`}
      description="The value is encrypted before it is stored and is never shown again."
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="primary" type="submit" form="secret-form" loading={mutation.isPending}>Save secret</Button>
        </>
      }
    >
      <form id="secret-form" onSubmit={onSubmit} className="space-y-4" noValidate>
        {mutation.isError && Object.keys(fields).length === 0 ? <p role="alert" className="text-sm text-danger-700">{messageOf(mutation.error)}</p> : null}
        {state.mode === "create" ? (
          <Field label="Name" error={fields.name} hint="How tool servers refer to it, e.g. “github-token”.">
            <Input name="name" autoComplete="off" className="font-mono" data-autofocus />
          </Field>
        ) : null}
        <Field label="Value" error={fields.value}>
          <Input name="value" type="password" autoComplete="new-password" className="font-mono" {...(state.mode === "replace" ? { "data-autofocus": true } : {})} />
        </Field>
      </form>
    </Dialog>
  );
}
