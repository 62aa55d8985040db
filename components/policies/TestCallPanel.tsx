"use client";

import { useMutation } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { Button, Card, CardBody, CardHeader, Field, IconAlertTriangle, Select, Spinner, Textarea } from "@/components/ui";
import { ToolRiskBadge } from "@/components/tools/shared";
import { cn } from "@/lib/cn";
import { fieldErrorsOf, messageOf, useTRPC } from "@/lib/trpc";
import { EffectBadge, type PolicyTargets, type PolicyTestResult } from "./shared";

type Tool = PolicyTargets["tools"][number];

/** A starting point for the arguments, from the tool's JSON Schema: every property with an empty value of its type. */
export function argsSkeleton(tool: Pick<Tool, "inputSchema"> | undefined): string {
  const schema = tool?.inputSchema;
  const properties =
    schema && typeof schema === "object" && !Array.isArray(schema) ? (schema as { properties?: unknown }).properties : undefined;
  if (!properties || typeof properties !== "object" || Array.isArray(properties)) return "{}";
  const example: Record<string, unknown> = {};
  for (const [name, prop] of Object.entries(properties as Record<string, unknown>)) {
    const type = prop && typeof prop === "object" ? (prop as { type?: unknown }).type : undefined;
    const first = Array.isArray(type) ? (type.find((t) => t !== "null") as unknown) : type;
    example[name] =
      first === "number" || first === "integer" ? 0 : first === "boolean" ? false : first === "array" ? [] : first === "object" ? {} : "";
  }
  return Object.keys(example).length === 0 ? "{}" : JSON.stringify(example, null, 2);
}

function parseArgs(text: string): { ok: true; args: Record<string, unknown> } | { ok: false; message: string } {
  if (text.trim() === "") return { ok: true, args: {} };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, message: `Not valid JSON: ${error instanceof Error ? error.message : "check the brackets and quotes"}.` };
  }
  if (!value || typeof value !== "object" || Array.isArray(value))
    return { ok: false, message: 'The arguments must be a JSON object, e.g. {"amountUsd": 250}.' };
  return { ok: true, args: value as Record<string, unknown> };
}

export function TestCallPanel({ targets, targetsError }: { targets: PolicyTargets | undefined; targetsError: unknown }) {
  const trpc = useTRPC();
  const formId = useId();
  const [agentId, setAgentId] = useState("");
  const [toolId, setToolId] = useState("");
  const [userId, setUserId] = useState("");
  const [argsText, setArgsText] = useState<string | null>(null);
  const [untrusted, setUntrusted] = useState(false);
  const [argsError, setArgsError] = useState<string | null>(null);
  const [decidedFor, setDecidedFor] = useState<string | null>(null);
  const test = useMutation(trpc.policies.test.mutationOptions());
  const fields = fieldErrorsOf(test.error);

  if (!targets) {
    return (
      <Card>
        <CardHeader title="Test a call" />
        <CardBody>
          {targetsError ? (
            <p role="alert" className="text-sm text-danger-700">
              {messageOf(targetsError)}
            </p>
          ) : (
            <Spinner label="Loading agents and tools" showLabel />
          )}
        </CardBody>
      </Card>
    );
  }

  const activeMembers = targets.members.filter((m) => !m.revoked);
  // Start from a call that would reach policy: the first agent with a granted tool, and that tool.
  const sideEffecting = new Set(targets.tools.filter((t) => t.risk === "WRITE" || t.risk === "EXTERNAL").map((t) => t.id));
  const firstGranted =
    targets.agents.find((a) => a.toolIds.some((id) => sideEffecting.has(id))) ?? targets.agents.find((a) => a.toolIds.length > 0);
  const agent = agentId || firstGranted?.id || targets.agents[0]?.id || "";
  const granted = new Set(targets.agents.find((a) => a.id === agent)?.toolIds ?? []);
  const preferred =
    targets.tools.find((t) => granted.has(t.id) && t.risk !== "READ") ?? targets.tools.find((t) => granted.has(t.id)) ?? targets.tools[0];
  const tool = toolId || preferred?.id || "";
  const user = userId || activeMembers[0]?.userId || "";
  const selectedTool = targets.tools.find((t) => t.id === tool);
  const args = argsText ?? argsSkeleton(selectedTool);
  const inputsKey = JSON.stringify([agent, tool, user, args, untrusted]);
  const stale = test.data !== undefined && decidedFor !== inputsKey;

  function chooseTool(id: string) {
    // Keep what the person typed; replace only the untouched skeleton of the previous tool.
    if (argsText === null || argsText.trim() === "" || argsText === argsSkeleton(selectedTool))
      setArgsText(argsSkeleton(targets?.tools.find((t) => t.id === id)));
    setToolId(id);
  }

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const parsed = parseArgs(args);
    if (!parsed.ok) {
      setArgsError(parsed.message);
      return;
    }
    setArgsError(null);
    setDecidedFor(inputsKey);
    test.mutate({ agentId: agent, toolId: tool, onBehalfOfUserId: user, args: parsed.args, untrustedContentSeen: untrusted });
  }

  const servers = [...new Set(targets.tools.map((t) => t.server.name))];
  const unmatched = test.isError && Object.keys(fields).length === 0;

  return (
    <Card>
      <CardHeader
        title="Test a call"
        description="Ask how the saved policies would decide a tool call, exactly as a run would, without calling anything."
      />
      <CardBody className="grid gap-6 lg:grid-cols-[minmax(0,5fr)_minmax(0,7fr)]">
        <form id={formId} onSubmit={submit} className="space-y-4" noValidate>
          <div className="grid gap-4 sm:grid-cols-2">
            <Field label="Agent" error={fields.agentId}>
              <Select value={agent} onChange={(e) => setAgentId(e.target.value)} disabled={targets.agents.length === 0}>
                {targets.agents.length === 0 ? <option value="">No agents yet</option> : null}
                {targets.agents.map((a) => (
                  <option key={a.id} value={a.id}>
                    {a.name}
                  </option>
                ))}
              </Select>
            </Field>
            <Field label="Acting for" error={fields.onBehalfOfUserId}>
              <Select value={user} onChange={(e) => setUserId(e.target.value)}>
                {activeMembers.map((m) => (
                  <option key={m.userId} value={m.userId}>
                    {m.name ?? m.email}
                  </option>
                ))}
              </Select>
            </Field>
          </div>
          <Field
            label="Tool"
            error={fields.toolId}
            hint={
              selectedTool ? (
                <span className="inline-flex items-center gap-1.5">
                  Risk: <ToolRiskBadge risk={selectedTool.risk} />
                </span>
              ) : undefined
            }
          >
            <Select value={tool} onChange={(e) => chooseTool(e.target.value)} disabled={targets.tools.length === 0}>
              {targets.tools.length === 0 ? <option value="">No tools yet</option> : null}
              {servers.map((server) => (
                <optgroup key={server} label={server}>
                  {targets.tools
                    .filter((t) => t.server.name === server)
                    .map((t) => (
                      <option key={t.id} value={t.id}>
                        {t.name}
                        {t.risk ? "" : " (unclassified)"}
                        {granted.has(t.id) ? "" : " (not granted)"}
                      </option>
                    ))}
                </optgroup>
              ))}
            </Select>
          </Field>
          <Field label="Arguments (JSON)" error={argsError ?? fields.args}>
            <Textarea
              value={args}
              onChange={(e) => setArgsText(e.target.value)}
              rows={6}
              spellCheck={false}
              className="font-mono text-xs"
            />
          </Field>
          <label className="flex items-start gap-2 text-sm text-fg">
            <input
              type="checkbox"
              checked={untrusted}
              onChange={(e) => setUntrusted(e.target.checked)}
              className="mt-0.5 size-3.5 accent-accent-600"
            />
            <span>
              Untrusted content seen
              <span className="block text-xs text-fg-muted">Tool output (a web page, an email, a file) has already entered the run.</span>
            </span>
          </label>
          {unmatched ? (
            <p role="alert" className="text-sm text-danger-700">
              {messageOf(test.error)}
            </p>
          ) : null}
          <Button variant="primary" type="submit" loading={test.isPending} disabled={!agent || !tool || !user}>
            Decide
          </Button>
        </form>
        <div aria-live="polite" className="min-w-0">
          {test.data ? (
            <DecisionView result={test.data} stale={stale} />
          ) : (
            <div className="flex h-full min-h-40 items-center justify-center rounded-lg border border-dashed border-border-strong px-6 text-center text-sm text-fg-muted">
              Pick a call and press Decide: the decision, the policy behind it and each step of the reasoning appear here.
            </div>
          )}
        </div>
      </CardBody>
    </Card>
  );
}

const EFFECT_PANEL: Record<string, string> = {
  ALLOW: "border-success-200 bg-success-50/60",
  REQUIRE_APPROVAL: "border-warning-200 bg-warning-50/60",
  DENY: "border-danger-200 bg-danger-50/60",
};

function DecisionView({ result, stale }: { result: PolicyTestResult; stale: boolean }) {
  return (
    <div className={cn("space-y-4 transition-opacity", stale && "opacity-60")}>
      {stale ? <p className="text-xs font-medium text-fg-muted">The inputs changed since this decision. Press Decide again.</p> : null}
      <div className={cn("rounded-lg border px-4 py-3", EFFECT_PANEL[result.effect])}>
        <div className="flex flex-wrap items-center gap-2">
          <EffectBadge effect={result.effect} className="h-6 px-2 text-sm" />
          <span className="text-sm text-fg-muted">
            <code className="text-xs text-fg">{result.tool.name}</code> on {result.tool.serverName} · {result.agent.name}
          </span>
        </div>
        <p className="mt-2 text-sm text-fg">{result.reason}</p>
        <p className="mt-1 text-xs text-fg-muted">
          {result.policyName ? (
            <>
              Decided by the policy <span className="font-medium text-fg">“{result.policyName}”</span>.
            </>
          ) : (
            "No single policy decided this: it is the engine's own rule."
          )}
        </p>
      </div>
      {result.notes.length > 0 ? (
        <ul className="space-y-1 rounded-md border border-warning-200 bg-warning-50/60 px-3 py-2 text-xs text-warning-800">
          {result.notes.map((note) => (
            <li key={note} className="flex items-start gap-1.5">
              <IconAlertTriangle className="mt-px size-3.5 shrink-0" />
              {note}
            </li>
          ))}
        </ul>
      ) : null}
      <div>
        <h3 className="text-xs font-semibold tracking-wide text-fg-muted uppercase">How it was decided</h3>
        <ol className="mt-2 list-decimal space-y-1.5 pl-5 text-sm text-fg marker:text-fg-subtle">
          {result.explanation.map((step, i) => (
            <li key={i}>{step}</li>
          ))}
        </ol>
      </div>
      {result.matched.length > 1 ? (
        <div>
          <h3 className="text-xs font-semibold tracking-wide text-fg-muted uppercase">Applying policies</h3>
          <ul className="mt-2 space-y-1 text-sm">
            {result.matched.map((m) => (
              <li key={m.id} className="flex items-center gap-2">
                <EffectBadge effect={m.effect} />
                <span className={cn(m.id === result.policyId ? "font-medium text-fg" : "text-fg-muted")}>{m.name}</span>
                <span className="text-xs text-fg-subtle">specificity {m.specificity}</span>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </div>
  );
}
