"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { Button, Dialog, Field, IconClose, IconPlus, Input, Select, Textarea, useToast } from "@/components/ui";
import { cn } from "@/lib/cn";
import { fieldErrorsOf, messageOf, useTRPC } from "@/lib/trpc";
import type { PolicyInput } from "@/server/domain/policy/policies";
import {
  EFFECT_HINTS,
  EFFECT_LABELS,
  EFFECTS,
  matchWords,
  opInfo,
  OPS,
  parseList,
  parseScalar,
  RISK_WORDS,
  specificityOf,
  valueText,
  type ConditionOp,
  type PolicyEffect,
  type PolicyRow,
  type PolicyTargets,
} from "./shared";

type Risk = "READ" | "WRITE" | "EXTERNAL";

interface ConditionDraft {
  key: number;
  path: string;
  op: ConditionOp;
  text: string;
  /** For `exists`: true = must be present, false = must be missing. */
  present: boolean;
}

interface Draft {
  name: string;
  description: string;
  effect: PolicyEffect;
  reason: string;
  agentId: string;
  toolName: string;
  toolRisk: Risk | "";
  onBehalfOfUserId: string;
  conditions: ConditionDraft[];
}

let nextKey = 1;

function draftOf(policy: PolicyRow | null): Draft {
  return {
    name: policy?.name ?? "",
    description: policy?.description ?? "",
    effect: policy?.effect ?? "REQUIRE_APPROVAL",
    reason: policy?.reason ?? "",
    agentId: policy?.agentId ?? "",
    toolName: policy?.toolName ?? "",
    toolRisk: policy?.toolRisk ?? "",
    onBehalfOfUserId: policy?.onBehalfOfUserId ?? "",
    conditions: (policy?.conditions ?? []).map((c) => ({
      key: nextKey++,
      path: c.path,
      op: c.op,
      text: valueText(c.value),
      present: c.value !== false,
    })),
  };
}

function conditionValue(condition: ConditionDraft): unknown {
  switch (opInfo(condition.op).kind) {
    case "number": {
      const value = parseScalar(condition.text);
      return typeof value === "number" ? value : condition.text;
    }
    case "value":
      return condition.text.trim() === "" ? "" : parseScalar(condition.text);
    case "list":
      return parseList(condition.text);
    case "exists":
      return condition.present;
    default:
      return condition.text;
  }
}

function inputOf(draft: Draft, enabled: boolean): PolicyInput {
  return {
    name: draft.name,
    description: draft.description,
    effect: draft.effect,
    reason: draft.reason,
    agentId: draft.agentId || null,
    toolName: draft.toolName.trim() || null,
    toolRisk: draft.toolRisk || null,
    onBehalfOfUserId: draft.onBehalfOfUserId || null,
    conditions: draft.conditions.map((c) => ({ path: c.path, op: c.op, value: conditionValue(c) })),
    enabled,
  };
}

const VALUE_PLACEHOLDERS: Record<string, string> = {
  number: "100",
  text: "@acme.test",
  value: "USD",
  list: "open, paid",
  regex: "^ORD-\\d+$",
};

/**
 * The create/edit dialog. It stays mounted and `open` toggles (the Dialog primitive expects that); `session`
 * remounts the form on each opening so it starts from the policy's saved values.
 */
export function PolicyDialog({
  open,
  session,
  policy,
  targets,
  onClose,
}: {
  open: boolean;
  session: number;
  policy: PolicyRow | null;
  targets: PolicyTargets;
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { toast } = useToast();
  const formId = useId();
  const done = async (saved: { name: string }) => {
    toast({
      title: policy ? `Saved “${saved.name}”` : `Added “${saved.name}”`,
      description: "It applies from the next tool call on.",
      tone: "success",
    });
    close();
    await queryClient.invalidateQueries({ queryKey: trpc.policies.list.queryKey() });
  };
  const create = useMutation(trpc.policies.create.mutationOptions({ onSuccess: done }));
  const update = useMutation(trpc.policies.update.mutationOptions({ onSuccess: done }));
  const mutation = policy ? update : create;
  function close() {
    create.reset();
    update.reset();
    onClose();
  }

  return (
    <Dialog
      open={open}
      onClose={close}
      size="lg"
      dismissible={!mutation.isPending}
      title={policy ? `Edit “${policy.name}”` : "New policy"}
      description="A policy applies when every field you set matches the call and every condition holds. Fields left on “any” match everything."
      footer={
        <>
          <Button onClick={close} disabled={mutation.isPending}>
            Cancel
          </Button>
          <Button variant="primary" type="submit" form={formId} loading={mutation.isPending}>
            {policy ? "Save changes" : "Add policy"}
          </Button>
        </>
      }
    >
      {open ? (
        <PolicyForm
          key={session}
          formId={formId}
          policy={policy}
          targets={targets}
          error={mutation.error}
          onSubmit={(input) => {
            if (policy) update.mutate({ ...input, id: policy.id });
            else create.mutate(input);
          }}
        />
      ) : null}
    </Dialog>
  );
}

function PolicyForm({
  formId,
  policy,
  targets,
  error,
  onSubmit,
}: {
  formId: string;
  policy: PolicyRow | null;
  targets: PolicyTargets;
  error: unknown;
  onSubmit: (input: PolicyInput) => void;
}) {
  const [draft, setDraft] = useState<Draft>(() => draftOf(policy));
  const fields = fieldErrorsOf(error);
  const toolNames = [...new Set(targets.tools.map((tool) => tool.name))].sort();
  const toolKnown = draft.toolName.trim() === "" || toolNames.includes(draft.toolName.trim());

  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft((d) => ({ ...d, [key]: value }));
  const setCondition = (key: number, patch: Partial<ConditionDraft>) =>
    setDraft((d) => ({ ...d, conditions: d.conditions.map((c) => (c.key === key ? { ...c, ...patch } : c)) }));

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    onSubmit(inputOf(draft, policy?.enabled ?? true));
  }

  const unmatched = Boolean(error) && Object.keys(fields).length === 0;
  const preview = matchWords({
    toolName: draft.toolName.trim() || null,
    toolRisk: draft.toolRisk || null,
    conditions: draft.conditions.map((c) => ({ path: c.path, op: c.op, value: conditionValue(c) })),
    agent: targets.agents.find((a) => a.id === draft.agentId) ?? null,
    onBehalfOf: targets.members.find((m) => m.userId === draft.onBehalfOfUserId) ?? null,
  });
  const specificity = specificityOf({
    agentId: draft.agentId || null,
    toolName: draft.toolName.trim() || null,
    toolRisk: draft.toolRisk || null,
    onBehalfOfUserId: draft.onBehalfOfUserId || null,
    conditions: draft.conditions.map((c) => ({ path: c.path, op: c.op })),
  });

  return (
    <form id={formId} onSubmit={submit} className="space-y-5" noValidate>
      {unmatched ? (
        <p role="alert" className="rounded-md bg-danger-50 px-3 py-2 text-sm text-danger-700">
          {messageOf(error)}
        </p>
      ) : null}
      <div className="grid gap-4 sm:grid-cols-2">
        <Field label="Name" error={fields.name}>
          <Input
            value={draft.name}
            onChange={(e) => set("name", e.target.value)}
            placeholder="Refunds over $100 need approval"
            autoComplete="off"
            data-autofocus
          />
        </Field>
        <Field label="Effect" error={fields.effect} hint={EFFECT_HINTS[draft.effect]}>
          <Select value={draft.effect} onChange={(e) => set("effect", e.target.value as PolicyEffect)}>
            {EFFECTS.map((effect) => (
              <option key={effect} value={effect}>
                {EFFECT_LABELS[effect]}
              </option>
            ))}
          </Select>
        </Field>
      </div>
      <Field
        label="Reason"
        optional={draft.effect === "ALLOW"}
        error={fields.reason}
        hint={
          draft.effect === "DENY"
            ? "The agent is told this when the call is refused."
            : draft.effect === "REQUIRE_APPROVAL"
              ? "The approver sees this next to the call."
              : "Shown in the run's trace."
        }
      >
        <Input
          value={draft.reason}
          onChange={(e) => set("reason", e.target.value)}
          placeholder="Refunds above $100 need a supervisor's approval."
          autoComplete="off"
        />
      </Field>

      <fieldset className="space-y-3">
        <legend className="text-sm font-semibold text-gray-950">Applies to</legend>
        <div className="grid gap-4 sm:grid-cols-2">
          <Field
            label="Tool"
            error={fields.toolName}
            hint={
              toolKnown
                ? "The name the tool server uses. Leave empty to match every tool."
                : "No registered tool has this name yet; the policy applies once one does."
            }
          >
            {(control) => (
              <>
                <Input
                  {...control}
                  value={draft.toolName}
                  onChange={(e) => set("toolName", e.target.value)}
                  placeholder="Any tool"
                  list={`${formId}-tools`}
                  autoComplete="off"
                  spellCheck={false}
                  className="font-mono"
                />
                <datalist id={`${formId}-tools`}>
                  {toolNames.map((name) => (
                    <option key={name} value={name} />
                  ))}
                </datalist>
              </>
            )}
          </Field>
          <Field label="Tool risk" error={fields.toolRisk}>
            <Select value={draft.toolRisk} onChange={(e) => set("toolRisk", e.target.value as Risk | "")}>
              <option value="">Any risk</option>
              {(["READ", "WRITE", "EXTERNAL"] as const).map((risk) => (
                <option key={risk} value={risk}>
                  {RISK_WORDS[risk]}
                </option>
              ))}
            </Select>
          </Field>
          <Field label="Agent" error={fields.agentId}>
            <Select value={draft.agentId} onChange={(e) => set("agentId", e.target.value)}>
              <option value="">Any agent</option>
              {targets.agents.map((agent) => (
                <option key={agent.id} value={agent.id}>
                  {agent.name} ({agent.slug})
                </option>
              ))}
            </Select>
          </Field>
          <Field label="Acting for" error={fields.onBehalfOfUserId} hint="The person the run acts on behalf of.">
            <Select value={draft.onBehalfOfUserId} onChange={(e) => set("onBehalfOfUserId", e.target.value)}>
              <option value="">Anyone</option>
              {targets.members.map((member) => (
                <option key={member.userId} value={member.userId}>
                  {member.name ? `${member.name} (${member.email})` : member.email}
                  {member.revoked ? " — revoked" : ""}
                </option>
              ))}
            </Select>
          </Field>
        </div>
      </fieldset>

      <fieldset className="space-y-3">
        <legend className="text-sm font-semibold text-gray-950">Conditions on the arguments</legend>
        <p className="-mt-1 text-xs text-fg-subtle">
          All must hold. Text comparisons ignore case; numbers written as text (“250”) count as numbers. A missing argument fails a
          condition, except “does not …” ones, which it passes.
        </p>
        {draft.conditions.length > 0 ? (
          <div className="space-y-2">
            <div
              aria-hidden="true"
              className="grid grid-cols-[minmax(0,1fr)_minmax(0,1fr)_minmax(0,1fr)_2rem] gap-2 text-xs font-medium text-fg-muted"
            >
              <span>Argument</span>
              <span>Comparison</span>
              <span>Value</span>
            </div>
            {draft.conditions.map((condition, index) => (
              <ConditionRow
                key={condition.key}
                index={index}
                condition={condition}
                errors={{
                  path: fields[`conditions.${index}.path`],
                  op: fields[`conditions.${index}.op`],
                  value: fields[`conditions.${index}.value`] ?? fields[`conditions.${index}`],
                }}
                onChange={(patch) => setCondition(condition.key, patch)}
                onRemove={() => setDraft((d) => ({ ...d, conditions: d.conditions.filter((c) => c.key !== condition.key) }))}
              />
            ))}
          </div>
        ) : null}
        {fields.conditions ? <p className="text-xs font-medium text-danger-700">{fields.conditions.join(" ")}</p> : null}
        <Button
          size="sm"
          icon={<IconPlus />}
          onClick={() =>
            setDraft((d) => ({ ...d, conditions: [...d.conditions, { key: nextKey++, path: "", op: "gt", text: "", present: true }] }))
          }
        >
          Add condition
        </Button>
      </fieldset>

      <Field label="Notes" optional error={fields.description} hint="For admins only: why this policy exists.">
        <Textarea value={draft.description} onChange={(e) => set("description", e.target.value)} rows={2} />
      </Field>

      <div className="rounded-md border border-border bg-gray-50 px-3 py-2 text-xs text-fg-muted">
        <span className="font-medium text-fg">Matches: </span>
        {preview.length === 0 ? "every tool call" : preview.join(" · ")}
        <span className="ml-2 text-fg-subtle">(specificity {specificity})</span>
      </div>
    </form>
  );
}

function RowError({ id, messages }: { id: string; messages: string[] | undefined }) {
  if (!messages || messages.length === 0) return null;
  return (
    <p id={id} className="mt-1 text-xs leading-4 font-medium text-danger-700">
      {messages.join(" ")}
    </p>
  );
}

function ConditionRow({
  index,
  condition,
  errors,
  onChange,
  onRemove,
}: {
  index: number;
  condition: ConditionDraft;
  errors: { path?: string[]; op?: string[]; value?: string[] };
  onChange: (patch: Partial<ConditionDraft>) => void;
  onRemove: () => void;
}) {
  const id = useId();
  const kind = opInfo(condition.op).kind;
  const n = index + 1;
  const invalid = (messages: string[] | undefined) => (messages && messages.length > 0 ? true : undefined);
  return (
    <div className="grid grid-cols-[minmax(0,1fr)_minmax(0,1fr)_minmax(0,1fr)_2rem] items-start gap-2">
      <div>
        <Input
          aria-label={`Condition ${n}: argument`}
          aria-invalid={invalid(errors.path)}
          aria-describedby={errors.path ? `${id}-path` : undefined}
          value={condition.path}
          onChange={(e) => onChange({ path: e.target.value })}
          placeholder="amountUsd"
          autoComplete="off"
          spellCheck={false}
          className="font-mono"
        />
        <RowError id={`${id}-path`} messages={errors.path} />
      </div>
      <div>
        <Select
          aria-label={`Condition ${n}: comparison`}
          aria-invalid={invalid(errors.op)}
          value={condition.op}
          onChange={(e) => onChange({ op: e.target.value as ConditionOp })}
        >
          {OPS.map((o) => (
            <option key={o.op} value={o.op}>
              {o.label}
            </option>
          ))}
        </Select>
        <RowError id={`${id}-op`} messages={errors.op} />
      </div>
      <div>
        {kind === "exists" ? (
          <Select
            aria-label={`Condition ${n}: present or missing`}
            value={condition.present ? "present" : "missing"}
            onChange={(e) => onChange({ present: e.target.value === "present" })}
          >
            <option value="present">present</option>
            <option value="missing">missing</option>
          </Select>
        ) : (
          <Input
            aria-label={`Condition ${n}: value`}
            aria-invalid={invalid(errors.value)}
            aria-describedby={errors.value ? `${id}-value` : undefined}
            value={condition.text}
            onChange={(e) => onChange({ text: e.target.value })}
            placeholder={VALUE_PLACEHOLDERS[kind]}
            inputMode={kind === "number" ? "decimal" : undefined}
            autoComplete="off"
            spellCheck={false}
            className={cn(kind === "regex" && "font-mono")}
          />
        )}
        <RowError id={`${id}-value`} messages={errors.value} />
        {kind === "list" && !errors.value ? <p className="mt-1 text-xs text-fg-subtle">Separate values with commas.</p> : null}
      </div>
      <Button variant="ghost" icon={<IconClose />} aria-label={`Remove condition ${n}`} onClick={onRemove} />
    </div>
  );
}
