"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import {
  Badge,
  Button,
  CopyField,
  Dialog,
  EmptyState,
  Field,
  IconPlus,
  Input,
  PageHeader,
  Spinner,
  Table,
  TBody,
  TD,
  TH,
  THead,
  TR,
  useToast,
} from "@/components/ui";
import { formatRelative } from "@/lib/format";
import { SCOPES, type Scope } from "@/lib/scopes";
import { fieldErrorsOf, messageOf, useTRPC } from "@/lib/trpc";
import { formText } from "@/lib/forms";

const DEFAULT_SCOPES: readonly Scope[] = ["runs:read", "runs:write", "agents:read"];

export function ApiKeysAdmin() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { toast } = useToast();
  const keys = useQuery(trpc.apiKeys.list.queryOptions());
  const [open, setOpen] = useState(false);
  const [created, setCreated] = useState<{ name: string; key: string } | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.apiKeys.list.queryKey() });

  const create = useMutation(
    trpc.apiKeys.create.mutationOptions({
      onSuccess: async ({ key, plaintext }) => {
        setCreated({ name: key.name, key: plaintext });
        await refresh();
      },
    }),
  );
  const revoke = useMutation(
    trpc.apiKeys.revoke.mutationOptions({
      onSuccess: async (key) => {
        toast({ title: `Revoked “${key.name}”`, description: "Requests with it are refused from now on.", tone: "success" });
        await refresh();
      },
      onError: (error) => toast({ title: "Could not revoke the key", description: messageOf(error), tone: "danger" }),
    }),
  );

  function onCreate(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    create.mutate({ name: formText(form, "name"), scopes: form.getAll("scopes").map(String) as Scope[] });
  }

  function close() {
    setOpen(false);
    setCreated(null);
    create.reset();
  }

  const fields = fieldErrorsOf(create.error);
  return (
    <div className="space-y-6">
      <PageHeader
        title="API keys"
        description="Keys let your systems call the REST API. Each carries only the scopes you give it."
        actions={<Button variant="primary" icon={<IconPlus />} onClick={() => setOpen(true)}>Create key</Button>}
      />
      {keys.isPending ? (
        <Spinner label="Loading API keys" showLabel />
      ) : keys.isError ? (
        <p role="alert" className="text-sm text-danger-700">{messageOf(keys.error)}</p>
      ) : keys.data.length === 0 ? (
        <EmptyState title="No API keys" description="Create one to start runs and read traces from your own systems." />
      ) : (
        <Table containerClassName="rounded-lg border border-border bg-surface shadow-card" caption="API keys">
          <THead>
            <TR><TH>Name</TH><TH>Key</TH><TH>Scopes</TH><TH>Last used</TH><TH>Status</TH><TH><span className="sr-only">Actions</span></TH></TR>
          </THead>
          <TBody>
            {keys.data.map((key) => (
              <TR key={key.id}>
                <TD>
                  <span className="font-medium text-fg">{key.name}</span>
                  <span className="block text-xs text-fg-subtle">by {key.createdBy?.email ?? "setup"} · {formatRelative(key.createdAt)}</span>
                </TD>
                <TD><code className="text-xs">{key.prefix}…</code></TD>
                <TD>
                  <div className="flex max-w-xs flex-wrap gap-1">
                    {key.scopes.length === SCOPES.length ? <Badge tone="accent">all scopes</Badge> : key.scopes.map((s) => <Badge key={s}>{s}</Badge>)}
                  </div>
                </TD>
                <TD muted>{key.lastUsedAt ? formatRelative(key.lastUsedAt) : "never"}</TD>
                <TD>{key.revokedAt ? <Badge tone="neutral">revoked</Badge> : <Badge tone="success" dot>active</Badge>}</TD>
                <TD className="text-right">
                  {key.revokedAt ? null : (
                    <Button
                      size="sm"
                      variant="ghost"
                      onClick={() => {
                        if (window.confirm(`Revoke “${key.name}”? Systems using it stop working at once.`)) revoke.mutate({ id: key.id });
                      }}
                    >
                      Revoke
                    </Button>
                  )}
                </TD>
              </TR>
            ))}
          </TBody>
        </Table>
      )}

      <Dialog
        open={open}
        onClose={close}
        size="lg"
        title={created ? "Copy your new key" : "Create an API key"}
        description={created ? `This is the only time “${created.name}” is shown. Store it in your secret manager now.` : "Choose the least the key needs."}
        footer={
          created ? (
            <Button variant="primary" onClick={close}>I have stored it</Button>
          ) : (
            <>
              <Button onClick={close}>Cancel</Button>
              <Button variant="primary" type="submit" form="api-key-form" loading={create.isPending}>Create key</Button>
            </>
          )
        }
      >
        {created ? (
          <CopyField label="API key" value={created.key} hint="Send it as: Authorization: Bearer <key>" />
        ) : (
          <form id="api-key-form" onSubmit={onCreate} className="space-y-4" noValidate>
            {create.isError && Object.keys(fields).length === 0 ? (
              <p role="alert" className="text-sm text-danger-700">{messageOf(create.error)}</p>
            ) : null}
            <Field label="Name" error={fields.name} hint="Where it is used, e.g. “CI pipeline”.">
              <Input name="name" required data-autofocus />
            </Field>
            <fieldset>
              <legend className="text-sm font-medium text-fg">Scopes</legend>
              {fields.scopes ? <p className="mt-1 text-sm text-danger-700">{fields.scopes.join(" ")}</p> : null}
              <div className="mt-2 grid grid-cols-2 gap-x-4 gap-y-1.5 sm:grid-cols-3">
                {SCOPES.map((scope) => (
                  <label key={scope} className="flex items-center gap-2 text-sm text-fg">
                    <input type="checkbox" name="scopes" value={scope} defaultChecked={DEFAULT_SCOPES.includes(scope)} className="size-3.5 accent-accent-600" />
                    <code className="text-xs">{scope}</code>
                  </label>
                ))}
              </div>
            </fieldset>
          </form>
        )}
      </Dialog>
    </div>
  );
}
