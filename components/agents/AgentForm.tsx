"use client";

import Link from "next/link";
import { useEffect, useRef, useState, type FormEvent, type ReactNode } from "react";
import { Badge, Button, Card, CardBody, CardHeader, Field, Input, Select, Textarea } from "@/components/ui";
import { Affix } from "@/components/models/Affix";
import { PROVIDER_LABELS } from "@/components/models/ProviderBadge";
import { formatPricePerMillion, formatTokens, integerOf, secondsToMs, usdToMicros } from "@/components/models/units";
import { cn } from "@/lib/cn";
import { useQuery } from "@tanstack/react-query";
import { fieldErrorsOf, messageOf, useTRPC } from "@/lib/trpc";
import type { CreateAgentInput } from "@/server/domain/agents/agent-input";
import { ToolRiskBadge, slugify, type ModelOption, type ToolServerOption } from "./shared";

/** What the form edits: text as typed; converted to the server's units (micro-dollars, ms) on submit. */
export interface AgentFormValues {
  name: string;
  slug: string;
  description: string;
  instructions: string;
  modelConfigId: string;
  fallbackModelConfigId: string;
  maxSteps: string;
  maxCostUsd: string;
  timeoutSeconds: string;
  recallEnabled: boolean;
  recallTopK: string;
  rememberTools: boolean;
  knowledgeTool: boolean;
  script: string;
  toolIds: string[];
  submitDrafts: boolean;
  delegateAgentIds: string[];
}

const EXAMPLE_SCRIPT = `[
  { "tool": "search_customers", "args": { "query": "{{input}}" }, "say": "Looking the customer up." },
  { "final": "Found them. Summary: …" }
]`;

/** Which server field error each form value answers to. */
const ERROR_KEYS: Record<keyof AgentFormValues, string> = {
  name: "name",
  slug: "slug",
  description: "description",
  instructions: "instructions",
  modelConfigId: "modelConfigId",
  fallbackModelConfigId: "fallbackModelConfigId",
  maxSteps: "config.limits.maxSteps",
  maxCostUsd: "config.limits.maxCostMicros",
  timeoutSeconds: "config.limits.timeoutMs",
  recallEnabled: "config.memory.recallEnabled",
  recallTopK: "config.memory.recallTopK",
  rememberTools: "config.memory.remember",
  knowledgeTool: "config.memory.knowledge",
  script: "config.script",
  toolIds: "toolIds",
  submitDrafts: "config.submitDrafts",
  delegateAgentIds: "config.delegateAgentIds",
};

export function toAgentInput(values: AgentFormValues, scripted: boolean): CreateAgentInput {
  return {
    name: values.name,
    slug: values.slug,
    description: values.description,
    instructions: values.instructions,
    modelConfigId: values.modelConfigId,
    fallbackModelConfigId: values.fallbackModelConfigId || null,
    config: {
      limits: {
        maxSteps: integerOf(values.maxSteps),
        maxCostMicros: usdToMicros(values.maxCostUsd),
        timeoutMs: secondsToMs(values.timeoutSeconds),
      },
      memory: { recallEnabled: values.recallEnabled, recallTopK: integerOf(values.recallTopK), remember: values.rememberTools, knowledge: values.knowledgeTool },
      script: scripted ? values.script : undefined,
      submitDrafts: values.submitDrafts,
      delegateAgentIds: values.delegateAgentIds,
    },
    toolIds: values.toolIds,
  };
}

export interface AgentFormProps {
  mode: "create" | "edit";
  /** The agent being edited: it is left out of the agents it may delegate to. */
  agentId?: string;
  initial: AgentFormValues;
  models: ModelOption[];
  toolServers: ToolServerOption[];
  pending: boolean;
  error: unknown;
  /** Shown above the form instead of the generic error message (e.g. a save conflict with its own actions). */
  notice?: ReactNode;
  submitLabel: string;
  cancelHref: string;
  onSubmit: (input: CreateAgentInput) => void;
}

export function AgentForm({ mode, agentId, initial, models, toolServers, pending, error, notice, submitLabel, cancelHref, onSubmit }: AgentFormProps) {
  const [values, setValues] = useState(initial);
  const [slugEdited, setSlugEdited] = useState(mode === "edit");
  const formRef = useRef<HTMLFormElement>(null);
  // A field's error from the last save disappears once the person changes that field.
  const [touched, setTouched] = useState<{ error: unknown; keys: ReadonlySet<string> }>({ error, keys: new Set() });
  const touchedKeys = touched.error === error ? touched.keys : new Set<string>();
  const fields = Object.fromEntries(
    Object.entries(fieldErrorsOf(error)).filter(([key]) => !touchedKeys.has(key)),
  ) as ReturnType<typeof fieldErrorsOf>;
  const set = <K extends keyof AgentFormValues>(key: K, value: AgentFormValues[K]) => {
    setValues((v) => ({ ...v, [key]: value }));
    setTouched((t) => ({ error, keys: new Set([...(t.error === error ? t.keys : []), ERROR_KEYS[key]]) }));
  };

  const trpc = useTRPC();
  const agents = useQuery(trpc.agents.list.queryOptions());
  const model = models.find((m) => m.id === values.modelConfigId);
  const fallback = models.find((m) => m.id === values.fallbackModelConfigId);
  const scripted = model?.provider === "SCRIPTED" || fallback?.provider === "SCRIPTED";

  // After a failed save, take the person to the first field that needs them (or the message at the top).
  useEffect(() => {
    if (!error) return;
    const form = formRef.current;
    const target = form?.querySelector<HTMLElement>('[aria-invalid="true"]') ?? form?.querySelector<HTMLElement>('[role="alert"]');
    target?.scrollIntoView({ block: "center", behavior: "smooth" });
    if (target?.matches("input, textarea, select")) target.focus({ preventScroll: true });
  }, [error]);

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    onSubmit(toAgentInput(values, scripted));
  }

  const fieldCount = Object.keys(fields).length;
  return (
    <form ref={formRef} onSubmit={submit} noValidate className="space-y-6">
      {notice ??
        (error ? (
          <div role="alert" className="rounded-lg border border-danger-200 bg-danger-50 px-4 py-3 text-sm text-danger-800">
            <p className="font-medium">{fieldCount > 0 ? "The agent was not saved." : "Could not save the agent."}</p>
            <p className="mt-0.5">{fieldCount > 0 ? `${messageOf(error)} They are marked below.` : messageOf(error)}</p>
            {fields.form ? <p className="mt-0.5">{fields.form.join(" ")}</p> : null}
          </div>
        ) : null)}

      <div className="grid items-start gap-6 lg:grid-cols-[minmax(0,1fr)_22rem]">
        <div className="space-y-6">
          <Card>
            <CardHeader title="Basics" />
            <CardBody className="space-y-4">
              <div className="grid gap-4 sm:grid-cols-2">
                <Field label="Name" error={fields.name}>
                  <Input
                    name="name"
                    value={values.name}
                    onChange={(event) => {
                      const name = event.target.value;
                      set("name", name);
                      if (!slugEdited) set("slug", slugify(name));
                    }}
                    placeholder="Support triage"
                    autoComplete="off"
                    data-autofocus={mode === "create" ? true : undefined}
                    autoFocus={mode === "create"}
                  />
                </Field>
                <Field
                  label="Slug"
                  error={fields.slug}
                  hint={mode === "edit" ? "Changing it breaks API calls and webhooks that use the old slug." : "Names the agent in URLs and the API."}
                >
                  <Input
                    name="slug"
                    value={values.slug}
                    onChange={(event) => {
                      setSlugEdited(true);
                      set("slug", event.target.value);
                    }}
                    placeholder="support-triage"
                    autoComplete="off"
                    spellCheck={false}
                    className="font-mono text-[0.8125rem]"
                  />
                </Field>
              </div>
              <Field label="Description" optional error={fields.description} hint="One line people see in lists.">
                <Input name="description" value={values.description} onChange={(event) => set("description", event.target.value)} placeholder="Sorts incoming tickets and drafts first replies." />
              </Field>
            </CardBody>
          </Card>

          <Card>
            <CardHeader title="Instructions" description="The system prompt every run starts from." />
            <CardBody>
              <Field label={<span className="sr-only">Instructions</span>} error={fields.instructions}>
                <Textarea
                  name="instructions"
                  rows={14}
                  value={values.instructions}
                  onChange={(event) => set("instructions", event.target.value)}
                  placeholder={"You are the support triage agent of Acme.\n\nFor every ticket:\n1. Find the customer.\n2. Classify the request.\n3. Draft a reply for a person to review."}
                  className="leading-6"
                />
              </Field>
            </CardBody>
          </Card>

          {scripted ? (
            <Card>
              <CardHeader
                title="Script"
                description="The scripted model replays these turns instead of calling a real model: each turn either calls a tool or gives the final answer."
                actions={
                  values.script.trim() === "" ? (
                    <Button size="sm" onClick={() => set("script", EXAMPLE_SCRIPT)}>Insert example</Button>
                  ) : null
                }
              />
              <CardBody>
                <Field
                  label={<span className="sr-only">Script (JSON)</span>}
                  error={fields["config.script"]}
                  hint={
                    <>
                      A JSON array. Tool turn: <code>{'{ "tool": "name", "args": { … }, "say": "…" }'}</code> · answer:{" "}
                      <code>{'{ "final": "…" }'}</code> · optional <code>delayMs</code> on either. Checked when you save.
                    </>
                  }
                >
                  <Textarea
                    name="script"
                    rows={12}
                    value={values.script}
                    onChange={(event) => set("script", event.target.value)}
                    spellCheck={false}
                    placeholder={EXAMPLE_SCRIPT}
                    className="font-mono text-[0.8125rem] leading-5"
                  />
                </Field>
              </CardBody>
            </Card>
          ) : null}

          <ToolPicker servers={toolServers} selected={values.toolIds} onChange={(ids) => set("toolIds", ids)} error={fields.toolIds} />
        </div>

        <div className="space-y-6">
          <Card>
            <CardHeader title="Model" />
            <CardBody className="space-y-4">
              <Field label="Model" error={fields.modelConfigId}>
                <Select name="modelConfigId" value={values.modelConfigId} onChange={(event) => set("modelConfigId", event.target.value)}>
                  {values.modelConfigId === "" ? <option value="">Choose a model…</option> : null}
                  {models.map((m) => (
                    <option key={m.id} value={m.id}>{m.name} · {PROVIDER_LABELS[m.provider]}</option>
                  ))}
                </Select>
              </Field>
              {model ? <ModelFacts model={model} /> : null}
              <Field label="Fallback" optional error={fields.fallbackModelConfigId} hint="Used when the main model fails after its retries.">
                <Select name="fallbackModelConfigId" value={values.fallbackModelConfigId} onChange={(event) => set("fallbackModelConfigId", event.target.value)}>
                  <option value="">No fallback</option>
                  {models
                    .filter((m) => m.id !== values.modelConfigId)
                    .map((m) => (
                      <option key={m.id} value={m.id}>{m.name} · {PROVIDER_LABELS[m.provider]}</option>
                    ))}
                </Select>
              </Field>
              <Link href="/admin/models" className="inline-block text-xs font-medium text-accent-700 hover:underline">Manage models</Link>
            </CardBody>
          </Card>

          <Card>
            <CardHeader title="Limits per run" description="A run that reaches one halts." />
            <CardBody className="space-y-4">
              <Field label="Max steps" error={fields["config.limits.maxSteps"]} hint="Model calls, 1–500.">
                <Input name="maxSteps" inputMode="numeric" value={values.maxSteps} onChange={(event) => set("maxSteps", event.target.value)} />
              </Field>
              <Field label="Max cost" error={fields["config.limits.maxCostMicros"]} hint="0 means no cap for a single run; spend limits still apply.">
                {(control) => (
                  <Affix prefix="$" suffix="USD">
                    <Input {...control} name="maxCostUsd" inputMode="decimal" value={values.maxCostUsd} onChange={(event) => set("maxCostUsd", event.target.value)} className="pr-12 pl-6" />
                  </Affix>
                )}
              </Field>
              <Field label="Timeout" error={fields["config.limits.timeoutMs"]} hint="Wall-clock time; time waiting for people does not count.">
                {(control) => (
                  <Affix suffix="seconds">
                    <Input {...control} name="timeoutSeconds" inputMode="decimal" value={values.timeoutSeconds} onChange={(event) => set("timeoutSeconds", event.target.value)} className="pr-20" />
                  </Affix>
                )}
              </Field>
            </CardBody>
          </Card>

          <Card>
            <CardHeader title="Inbox and delegation" description="Built-in tools Switchboard offers the model." />
            <CardBody className="space-y-4">
              <label className="flex items-start gap-2.5 text-sm text-fg">
                <input
                  type="checkbox"
                  name="submitDrafts"
                  checked={values.submitDrafts}
                  onChange={(event) => set("submitDrafts", event.target.checked)}
                  className="mt-0.5 size-3.5 accent-accent-600"
                />
                <span>
                  Submit drafts for review
                  <span className="block text-xs text-fg-subtle">
                    Offers <code className="font-mono">submit_draft</code>: work products wait in the inbox until a person accepts, edits, sends back or discards them.
                  </span>
                </span>
              </label>
              <DelegatePicker
                agents={(agents.data ?? []).filter((agent) => agent.id !== agentId)}
                selected={values.delegateAgentIds}
                onChange={(ids) => set("delegateAgentIds", ids)}
                error={fields["config.delegateAgentIds"]}
              />
            </CardBody>
          </Card>

          <Card>
            <CardHeader title="Memory" />
            <CardBody className="space-y-4">
              <label className="flex items-start gap-2.5 text-sm text-fg">
                <input
                  type="checkbox"
                  name="recallEnabled"
                  checked={values.recallEnabled}
                  onChange={(event) => set("recallEnabled", event.target.checked)}
                  className="mt-0.5 size-3.5 accent-accent-600"
                />
                <span>
                  Recall memories
                  <span className="block text-xs text-fg-subtle">Load the most relevant long-term memories when a run starts.</span>
                </span>
              </label>
              <Field label="Memories per run" error={fields["config.memory.recallTopK"]} hint="0–50.">
                <Input name="recallTopK" inputMode="numeric" value={values.recallTopK} disabled={!values.recallEnabled} onChange={(event) => set("recallTopK", event.target.value)} />
              </Field>
              <label className="flex items-start gap-2.5 text-sm text-fg">
                <input
                  type="checkbox"
                  name="rememberTools"
                  checked={values.rememberTools}
                  onChange={(event) => set("rememberTools", event.target.checked)}
                  className="mt-0.5 size-3.5 accent-accent-600"
                />
                <span>
                  Remember and recall
                  <span className="block text-xs text-fg-subtle">
                    Offers <code className="font-mono">remember</code> and <code className="font-mono">recall</code>. Writing a memory is a write for policy: after untrusted tool output it waits for approval.
                  </span>
                </span>
              </label>
              <label className="flex items-start gap-2.5 text-sm text-fg">
                <input
                  type="checkbox"
                  name="knowledgeTool"
                  checked={values.knowledgeTool}
                  onChange={(event) => set("knowledgeTool", event.target.checked)}
                  className="mt-0.5 size-3.5 accent-accent-600"
                />
                <span>
                  Search knowledge
                  <span className="block text-xs text-fg-subtle">
                    Offers <code className="font-mono">search_knowledge</code> over the organisation&apos;s documents; answers cite the passages.
                  </span>
                </span>
              </label>
            </CardBody>
          </Card>
        </div>
      </div>

      <div className="sticky bottom-0 z-10 -mx-8 flex items-center justify-end gap-2 border-t border-border bg-canvas/90 px-8 py-3 backdrop-blur">
        {mode === "edit" ? <p className="mr-auto text-xs text-fg-subtle">Saving writes a new version; running and past runs keep the version they started with.</p> : null}
        <Link href={cancelHref} className="inline-flex h-8 items-center rounded-md px-3 text-sm font-medium text-fg-muted hover:bg-gray-100 hover:text-fg">
          Cancel
        </Link>
        <Button variant="primary" type="submit" loading={pending}>{submitLabel}</Button>
      </div>
    </form>
  );
}

function ModelFacts({ model }: { model: ModelOption }) {
  const needsKey = (model.provider === "OPENAI" || model.provider === "ANTHROPIC") && !model.hasApiKey;
  return (
    <dl className="grid grid-cols-2 gap-x-3 gap-y-1.5 rounded-md bg-gray-50 px-3 py-2.5 text-xs">
      <dt className="text-fg-subtle">Model id</dt>
      <dd className="truncate text-right font-mono text-fg" title={model.model}>{model.model}</dd>
      <dt className="text-fg-subtle">Price / 1M in · out</dt>
      <dd className="text-right text-fg tabular-nums">{formatPricePerMillion(model.inputPriceMicros)} · {formatPricePerMillion(model.outputPriceMicros)}</dd>
      <dt className="text-fg-subtle">Context</dt>
      <dd className="text-right text-fg tabular-nums">{formatTokens(model.contextWindow)} tokens</dd>
      {needsKey ? (
        <dd className="col-span-2 text-warning-700">No API key stored: runs will fail until an admin adds one.</dd>
      ) : null}
    </dl>
  );
}

function ToolPicker({
  servers,
  selected,
  onChange,
  error,
}: {
  servers: ToolServerOption[];
  selected: string[];
  onChange: (ids: string[]) => void;
  error?: string[];
}) {
  const total = servers.reduce((sum, server) => sum + server.tools.length, 0);
  const chosen = new Set(selected);
  const toggle = (id: string, on: boolean) => onChange(on ? [...selected, id] : selected.filter((x) => x !== id));
  return (
    <Card>
      <CardHeader
        title="Tools"
        description="What the agent may call. Policies still decide each call, and some need a person's approval."
        actions={total > 0 ? <span className="text-xs text-fg-subtle tabular-nums">{chosen.size} of {total} granted</span> : null}
      />
      <CardBody flush>
        {error ? (
          <p role="alert" className="border-b border-border bg-danger-50 px-4 py-2 text-xs font-medium text-danger-700">{error.join(" ")}</p>
        ) : null}
        {servers.length === 0 ? (
          <p className="px-4 py-6 text-center text-sm text-fg-muted">
            No tool servers are registered yet. Tools appear here once an admin connects an MCP server under{" "}
            <Link href="/tools" className="font-medium text-accent-700 hover:underline">Tools</Link>.
          </p>
        ) : (
          <div className="divide-y divide-border">
            {servers.map((server) => {
              const allOn = server.tools.length > 0 && server.tools.every((tool) => chosen.has(tool.id));
              return (
                <div key={server.id} role="group" aria-labelledby={`server-${server.id}`} className="px-4 py-3">
                  <div className="mb-2 flex items-center gap-2">
                    <h3 id={`server-${server.id}`} className="text-sm font-semibold text-gray-950">{server.name}</h3>
                    {server.status !== "CONNECTED" ? <Badge tone={server.status === "ERROR" ? "danger" : "neutral"}>{server.status.toLowerCase()}</Badge> : null}
                    {server.tools.length > 1 ? (
                      <button
                        type="button"
                        className="ml-auto text-xs font-medium text-accent-700 hover:underline"
                        onClick={() => {
                          const ids = server.tools.map((tool) => tool.id);
                          onChange(allOn ? selected.filter((id) => !ids.includes(id)) : [...new Set([...selected, ...ids])]);
                        }}
                      >
                        {allOn ? "Clear all" : "Select all"}
                      </button>
                    ) : null}
                  </div>
                  {server.tools.length === 0 ? (
                    <p className="text-xs text-fg-subtle">No tools discovered on this server.</p>
                  ) : (
                    <ul className="space-y-0.5">
                      {server.tools.map((tool) => (
                        <li key={tool.id}>
                          <label
                            className={cn(
                              "flex cursor-pointer items-start gap-2.5 rounded-md px-2 py-1.5 -mx-2 hover:bg-gray-50",
                              chosen.has(tool.id) && "bg-accent-50/60 hover:bg-accent-50",
                            )}
                          >
                            <input
                              type="checkbox"
                              name="toolIds"
                              value={tool.id}
                              checked={chosen.has(tool.id)}
                              onChange={(event) => toggle(tool.id, event.target.checked)}
                              className="mt-0.5 size-3.5 shrink-0 accent-accent-600"
                            />
                            <span className="min-w-0 flex-1">
                              <span className="flex flex-wrap items-center gap-1.5">
                                <code className="text-[0.8125rem] font-medium text-fg">{tool.name}</code>
                                <ToolRiskBadge risk={tool.risk} />
                                {tool.status !== "ACTIVE" ? <Badge tone="warning">{tool.status.toLowerCase().replace("_", " ")}</Badge> : null}
                              </span>
                              {tool.description ? <span className="mt-0.5 line-clamp-2 block text-xs text-fg-muted">{tool.description}</span> : null}
                            </span>
                          </label>
                        </li>
                      ))}
                    </ul>
                  )}
                </div>
              );
            })}
          </div>
        )}
      </CardBody>
    </Card>
  );
}

/** Other agents this one may hand tasks to; each becomes a delegate_to_<slug> tool. */
function DelegatePicker({
  agents,
  selected,
  onChange,
  error,
}: {
  agents: { id: string; slug: string; name: string; status: string }[];
  selected: string[];
  onChange: (ids: string[]) => void;
  error?: string[];
}) {
  const toggle = (id: string, on: boolean) => onChange(on ? [...selected, id] : selected.filter((x) => x !== id));
  return (
    <fieldset className="min-w-0 space-y-2" aria-invalid={error ? true : undefined}>
      <legend className="text-sm font-medium text-fg">May delegate to</legend>
      <p className="text-xs text-fg-subtle">A delegated task runs as the other agent, for the same person, with its own limits and trace; its cost rolls up to this run.</p>
      {agents.length === 0 ? <p className="text-xs text-fg-subtle">No other agents yet.</p> : null}
      <ul className="max-h-48 space-y-1 overflow-y-auto">
        {agents.map((agent) => (
          <li key={agent.id}>
            <label className="flex min-w-0 items-center gap-2.5 text-sm text-fg">
              <input
                type="checkbox"
                name="delegateAgentIds"
                value={agent.id}
                checked={selected.includes(agent.id)}
                onChange={(event) => toggle(agent.id, event.target.checked)}
                className="size-3.5 accent-accent-600"
              />
              <span className="shrink-0">{agent.name}</span>
              <code className="min-w-0 truncate font-mono text-xs text-fg-subtle">delegate_to_{agent.slug.replace(/-/g, "_")}</code>
              {agent.status !== "ACTIVE" ? <Badge tone="neutral">{agent.status.toLowerCase()}</Badge> : null}
            </label>
          </li>
        ))}
      </ul>
      {error ? (
        <p role="alert" className="text-xs text-danger-700">{error.join(" ")}</p>
      ) : null}
    </fieldset>
  );
}
