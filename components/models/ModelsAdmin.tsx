"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import {
  Badge,
  Button,
  Dialog,
  EmptyState,
  Field,
  IconPlus,
  Input,
  PageHeader,
  Select,
  Spinner,
  Table,
  TBody,
  TD,
  TH,
  THead,
  TR,
  useToast,
} from "@/components/ui";
import { formText } from "@/lib/forms";
import { fieldErrorsOf, messageOf, useTRPC } from "@/lib/trpc";
import type { inferRouterOutputs } from "@trpc/server";
import type { CreateModelConfigInput } from "@/server/domain/models/model-configs";
import type { AppRouter } from "@/server/trpc/root";
import { Affix } from "./Affix";
import { ProviderBadge, PROVIDER_LABELS, PROVIDERS, type Provider } from "./ProviderBadge";
import {
  formatPricePerMillion,
  formatTokens,
  integerOf,
  microsToUsdText,
  msToSecondsText,
  optionalIntegerOf,
  secondsToMs,
  usdToMicros,
} from "./units";

type ModelConfig = inferRouterOutputs<AppRouter>["models"]["list"][number];

const PROVIDER_HINTS: Record<Provider, { model: string; baseUrl: string; baseUrlHint: string }> = {
  OPENAI: { model: "gpt-4o-mini", baseUrl: "https://api.openai.com/v1", baseUrlHint: "Empty uses api.openai.com. Any OpenAI-compatible endpoint works." },
  ANTHROPIC: { model: "claude-sonnet-4-5", baseUrl: "https://api.anthropic.com", baseUrlHint: "Empty uses api.anthropic.com." },
  OLLAMA: { model: "llama3.2", baseUrl: "http://127.0.0.1:11434", baseUrlHint: "Empty uses http://127.0.0.1:11434." },
  SCRIPTED: { model: "scripted-v1", baseUrl: "", baseUrlHint: "" },
};

export function ModelsAdmin() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { toast } = useToast();
  const models = useQuery(trpc.models.list.queryOptions());
  // The dialog stays mounted (the Dialog primitive expects `open` to toggle); `session` resets the form on each opening.
  const [editing, setEditing] = useState<{ model: ModelConfig | null; session: number } | null>(null);
  const [sessions, setSessions] = useState(0);
  const open = (model: ModelConfig | null) => {
    setSessions((n) => n + 1);
    setEditing({ model, session: sessions + 1 });
  };
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.models.list.queryKey() });

  const remove = useMutation(
    trpc.models.delete.mutationOptions({
      onSuccess: async ({ name }) => {
        toast({ title: `Deleted “${name}”`, tone: "success" });
        await refresh();
      },
      onError: (error) => toast({ title: "Could not delete the model", description: messageOf(error), tone: "danger", duration: 10_000 }),
    }),
  );

  return (
    <div className="space-y-6">
      <PageHeader
        title="Models"
        description="The language models agents can use, with their prices and limits. API keys are stored encrypted and never shown again."
        actions={<Button variant="primary" icon={<IconPlus />} onClick={() => open(null)}>Add model</Button>}
      />
      {models.isPending ? (
        <Spinner label="Loading models" showLabel />
      ) : models.isError ? (
        <p role="alert" className="text-sm text-danger-700">{messageOf(models.error)}</p>
      ) : models.data.length === 0 ? (
        <EmptyState
          title="No models yet"
          description="Add an OpenAI, Anthropic or Ollama model, or the offline scripted model for demos and tests."
          action={<Button variant="primary" icon={<IconPlus />} onClick={() => open(null)}>Add model</Button>}
        />
      ) : (
        <Table containerClassName="rounded-lg border border-border bg-surface shadow-card" caption="Models">
          <THead>
            <TR>
              <TH>Name</TH>
              <TH>Provider</TH>
              <TH>Endpoint</TH>
              <TH numeric>Input / 1M</TH>
              <TH numeric>Output / 1M</TH>
              <TH numeric>Context</TH>
              <TH>API key</TH>
              <TH numeric>Used by</TH>
              <TH><span className="sr-only">Actions</span></TH>
            </TR>
          </THead>
          <TBody>
            {models.data.map((model) => (
              <TR key={model.id}>
                <TD>
                  <span className="font-medium text-fg">{model.name}</span>
                  <code className="block text-xs text-fg-subtle">{model.model}</code>
                </TD>
                <TD><ProviderBadge provider={model.provider} /></TD>
                <TD muted className="max-w-56 truncate text-xs" title={model.baseUrl ?? undefined}>
                  {model.provider === "SCRIPTED" ? "in-process" : model.baseUrl ?? "provider default"}
                </TD>
                <TD numeric>{formatPricePerMillion(model.inputPriceMicros)}</TD>
                <TD numeric>{formatPricePerMillion(model.outputPriceMicros)}</TD>
                <TD numeric>{formatTokens(model.contextWindow)}</TD>
                <TD>
                  {model.hasApiKey ? (
                    <Badge tone="success" dot>stored</Badge>
                  ) : model.provider === "OPENAI" || model.provider === "ANTHROPIC" ? (
                    <Badge tone="warning" dot>missing</Badge>
                  ) : (
                    <span className="text-xs text-fg-subtle">not needed</span>
                  )}
                </TD>
                <TD numeric muted>
                  {model.usedByVersions === 0 ? "—" : `${model.usedByVersions} version${model.usedByVersions === 1 ? "" : "s"}`}
                </TD>
                <TD className="text-right whitespace-nowrap">
                  <Button size="sm" variant="ghost" onClick={() => open(model)}>Edit</Button>
                  <Button
                    size="sm"
                    variant="ghost"
                    disabled={remove.isPending}
                    title={model.usedByVersions > 0 ? "Agent versions use this model, so it cannot be deleted." : undefined}
                    onClick={() => {
                      if (window.confirm(`Delete the model “${model.name}”${model.hasApiKey ? " and its stored API key" : ""}?`)) {
                        remove.mutate({ id: model.id });
                      }
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
      <ModelDialog
        open={editing !== null}
        model={editing?.model ?? null}
        session={editing?.session ?? 0}
        onClose={() => setEditing(null)}
        onSaved={async (saved, created) => {
          toast({ title: created ? `Added “${saved.name}”` : `Saved “${saved.name}”`, tone: "success" });
          setEditing(null);
          await refresh();
        }}
      />
    </div>
  );
}

function ModelDialog({
  open,
  model,
  session,
  onClose,
  onSaved,
}: {
  open: boolean;
  model: ModelConfig | null;
  session: number;
  onClose: () => void;
  onSaved: (saved: ModelConfig, created: boolean) => Promise<void>;
}) {
  const trpc = useTRPC();
  const create = useMutation(trpc.models.create.mutationOptions({ onSuccess: (saved) => onSaved(saved, true) }));
  const update = useMutation(trpc.models.update.mutationOptions({ onSuccess: (saved) => onSaved(saved, false) }));
  const mutation = model ? update : create;
  const close = () => {
    create.reset();
    update.reset();
    onClose();
  };
  return (
    <Dialog
      open={open}
      onClose={close}
      size="lg"
      dismissible={!mutation.isPending}
      title={model ? `Edit “${model.name}”` : "Add a model"}
      description={
        model && model.usedByVersions > 0
          ? `${model.usedByVersions} agent version${model.usedByVersions === 1 ? " uses" : "s use"} this model: changes apply to their next runs.`
          : "Agents choose from these models. Prices make cost tracking and spend limits work."
      }
      footer={
        <>
          <Button onClick={close} disabled={mutation.isPending}>Cancel</Button>
          <Button variant="primary" type="submit" form="model-form" loading={mutation.isPending}>
            {model ? "Save changes" : "Add model"}
          </Button>
        </>
      }
    >
      {open ? (
        <ModelForm
          key={session}
          model={model}
          error={mutation.error}
          onSubmit={(input, clearApiKey) => {
            if (model) update.mutate({ ...input, id: model.id, clearApiKey });
            else create.mutate(input);
          }}
        />
      ) : null}
    </Dialog>
  );
}

type ModelInput = CreateModelConfigInput;

function ModelForm({ model, error, onSubmit }: { model: ModelConfig | null; error: unknown; onSubmit: (input: ModelInput, clearApiKey: boolean) => void }) {
  const [provider, setProvider] = useState<Provider>(model?.provider ?? "OPENAI");
  const [clearKey, setClearKey] = useState(false);
  const fields = fieldErrorsOf(error);
  const hints = PROVIDER_HINTS[provider];
  const scripted = provider === "SCRIPTED";

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const input = {
      name: formText(form, "name"),
      provider,
      model: formText(form, "model"),
      baseUrl: scripted ? null : formText(form, "baseUrl"),
      apiKey: scripted ? undefined : formText(form, "apiKey") || undefined,
      inputPriceMicros: usdToMicros(formText(form, "inputPrice")),
      outputPriceMicros: usdToMicros(formText(form, "outputPrice")),
      contextWindow: integerOf(formText(form, "contextWindow")),
      maxOutputTokens: optionalIntegerOf(formText(form, "maxOutputTokens")),
      timeoutMs: secondsToMs(formText(form, "timeoutSeconds")),
      maxRetries: integerOf(formText(form, "maxRetries")),
    };
    onSubmit(input, clearKey);
  }

  const unmatched = Boolean(error) && Object.keys(fields).length === 0;
  return (
      <form id="model-form" onSubmit={submit} className="space-y-5" noValidate>
        {unmatched ? <p role="alert" className="rounded-md bg-danger-50 px-3 py-2 text-sm text-danger-700">{messageOf(error)}</p> : null}
        <div className="grid gap-4 sm:grid-cols-2">
          <Field label="Name" error={fields.name} hint="How agents and bills refer to it, e.g. “gpt-4o-mini”.">
            <Input name="name" defaultValue={model?.name} required data-autofocus autoComplete="off" />
          </Field>
          <Field label="Provider" error={fields.provider}>
            <Select name="provider" value={provider} onChange={(event) => setProvider(event.target.value as Provider)}>
              {PROVIDERS.map((p) => <option key={p} value={p}>{PROVIDER_LABELS[p]}</option>)}
            </Select>
          </Field>
          <Field label="Model id" error={fields.model} hint={scripted ? "Replays each agent's script: offline, deterministic." : "Exactly as the provider names it."}>
            <Input name="model" defaultValue={model?.model ?? (scripted ? "scripted-v1" : undefined)} placeholder={hints.model} required autoComplete="off" spellCheck={false} />
          </Field>
          {scripted ? null : (
            <Field label="Base URL" optional error={fields.baseUrl} hint={hints.baseUrlHint}>
              <Input name="baseUrl" type="url" defaultValue={model?.baseUrl ?? ""} placeholder={hints.baseUrl} autoComplete="off" spellCheck={false} />
            </Field>
          )}
        </div>

        {scripted ? null : (
          <Field
            label="API key"
            optional={provider === "OLLAMA" || Boolean(model?.hasApiKey)}
            error={fields.apiKey}
            hint={
              model?.hasApiKey
                ? "A key is stored. Leave this empty to keep it, or paste a new one to replace it."
                : "Stored encrypted; it is never shown again, not even to admins."
            }
          >
            <Input
              name="apiKey"
              type="password"
              autoComplete="new-password"
              spellCheck={false}
              placeholder={model?.hasApiKey ? "•••••••• (stored)" : provider === "OLLAMA" ? "Usually not needed" : "sk-…"}
              disabled={clearKey}
            />
          </Field>
        )}
        {model?.hasApiKey && !scripted ? (
          <label className="-mt-2 flex items-center gap-2 text-sm text-fg-muted">
            <input type="checkbox" checked={clearKey} onChange={(event) => setClearKey(event.target.checked)} className="size-3.5 accent-accent-600" />
            Remove the stored key
          </label>
        ) : null}

        <fieldset className="space-y-3">
          <legend className="text-sm font-semibold text-gray-950">Pricing</legend>
          <div className="grid gap-4 sm:grid-cols-2">
            <Field label="Input price" error={fields.inputPriceMicros} hint="US dollars per million input tokens.">
              {(control) => (
                <Affix prefix="$" suffix="/ 1M tokens">
                  <Input {...control} name="inputPrice" inputMode="decimal" defaultValue={model ? microsToUsdText(model.inputPriceMicros) : "0"} className="pr-24 pl-6" />
                </Affix>
              )}
            </Field>
            <Field label="Output price" error={fields.outputPriceMicros} hint="US dollars per million output tokens.">
              {(control) => (
                <Affix prefix="$" suffix="/ 1M tokens">
                  <Input {...control} name="outputPrice" inputMode="decimal" defaultValue={model ? microsToUsdText(model.outputPriceMicros) : "0"} className="pr-24 pl-6" />
                </Affix>
              )}
            </Field>
          </div>
        </fieldset>

        <fieldset className="space-y-3">
          <legend className="text-sm font-semibold text-gray-950">Limits</legend>
          <div className="grid gap-4 sm:grid-cols-2">
            <Field label="Context window" error={fields.contextWindow}>
              {(control) => (
                <Affix suffix="tokens">
                  <Input {...control} name="contextWindow" inputMode="numeric" defaultValue={model?.contextWindow ?? 8192} className="pr-16" />
                </Affix>
              )}
            </Field>
            <Field label="Max output" optional error={fields.maxOutputTokens}>
              {(control) => (
                <Affix suffix="tokens">
                  <Input {...control} name="maxOutputTokens" inputMode="numeric" defaultValue={model?.maxOutputTokens ?? ""} placeholder="Provider default" className="pr-16" />
                </Affix>
              )}
            </Field>
            <Field label="Timeout per call" error={fields.timeoutMs}>
              {(control) => (
                <Affix suffix="seconds">
                  <Input {...control} name="timeoutSeconds" inputMode="decimal" defaultValue={msToSecondsText(model?.timeoutMs ?? 60_000)} className="pr-20" />
                </Affix>
              )}
            </Field>
            <Field label="Retries" error={fields.maxRetries} hint="How often a failed call is tried again.">
              <Input name="maxRetries" type="number" min={0} max={10} step={1} defaultValue={model?.maxRetries ?? 2} />
            </Field>
          </div>
        </fieldset>
    </form>
  );
}
