"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Button, Dialog, Field, Input, Select } from "@/components/ui";
import { cn } from "@/lib/cn";
import { formText } from "@/lib/forms";
import { ROLE_LABELS } from "@/lib/scopes";
import { fieldErrorsOf, messageOf, useTRPC } from "@/lib/trpc";
import type { CreateSpendLimitInput } from "@/server/domain/spend/limits";
import { microsToUsdInput, type LimitMode, type LimitPeriod, type LimitScope, type SpendLimitRow } from "./shared";

type SavedLimit = { id: string; label: string };

/** Add a limit, or edit one (`limit` given). The Dialog stays mounted; the form remounts per opening (`session`). */
export function SpendLimitDialog({
  open,
  limit,
  session,
  onClose,
  onSaved,
}: {
  open: boolean;
  limit: SpendLimitRow | null;
  session: number;
  onClose: () => void;
  onSaved: (saved: SavedLimit, created: boolean) => Promise<void>;
}) {
  const trpc = useTRPC();
  const create = useMutation(trpc.spend.createLimit.mutationOptions({ onSuccess: (saved) => onSaved(saved, true) }));
  const update = useMutation(trpc.spend.updateLimit.mutationOptions({ onSuccess: (saved) => onSaved(saved, false) }));
  const mutation = limit ? update : create;
  const close = () => {
    create.reset();
    update.reset();
    onClose();
  };
  return (
    <Dialog
      open={open}
      onClose={close}
      dismissible={!mutation.isPending}
      title={limit ? `Edit “${limit.label}”` : "Add a spend limit"}
      description="Checked before every model call against what was spent in the current day or month."
      footer={
        <>
          <Button onClick={close} disabled={mutation.isPending}>Cancel</Button>
          <Button variant="primary" type="submit" form="spend-limit-form" loading={mutation.isPending}>
            {limit ? "Save changes" : "Add limit"}
          </Button>
        </>
      }
    >
      {open ? (
        <LimitForm
          key={session}
          limit={limit}
          error={mutation.error}
          onSubmit={(input) => {
            if (limit) update.mutate({ ...input, id: limit.id });
            else create.mutate(input);
          }}
        />
      ) : null}
    </Dialog>
  );
}

const SCOPE_OPTIONS: { value: LimitScope; label: string }[] = [
  { value: "ORG", label: "Organisation" },
  { value: "AGENT", label: "An agent" },
  { value: "USER", label: "A member" },
];

const MODE_OPTIONS: { value: LimitMode; title: string; description: string }[] = [
  { value: "HARD", title: "Hard", description: "Stops the run before its next model call once the limit is used up." },
  { value: "SOFT", title: "Soft", description: "Only warns: runs continue past the limit." },
];

function LimitForm({ limit, error, onSubmit }: { limit: SpendLimitRow | null; error: unknown; onSubmit: (input: CreateSpendLimitInput) => void }) {
  const trpc = useTRPC();
  const targets = useQuery(trpc.spend.targets.queryOptions());
  const [scope, setScope] = useState<LimitScope>(limit?.scope ?? "ORG");
  const [mode, setMode] = useState<LimitMode>(limit?.mode ?? "HARD");
  // Controlled: the options arrive after the form mounts, and an uncontrolled select would not pick its default then.
  const [agentId, setAgentId] = useState(limit?.scope === "AGENT" ? (limit.agentId ?? "") : "");
  const [userId, setUserId] = useState(limit?.scope === "USER" ? (limit.userId ?? "") : "");
  const fields = fieldErrorsOf(error);
  const unmatched = Boolean(error) && Object.keys(fields).length === 0;

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const percent = formText(form, "warnAtPercent").trim();
    onSubmit({
      scope,
      agentId: scope === "AGENT" ? agentId : null,
      userId: scope === "USER" ? userId : null,
      period: formText(form, "period") as LimitPeriod,
      limitUsd: formText(form, "limitUsd"),
      mode,
      warnAtPercent: percent === "" ? Number.NaN : Number(percent),
    });
  }

  const agents = targets.data?.agents ?? [];
  const members = targets.data?.members ?? [];
  // A limit may name an agent or member that is no longer listed (archived, revoked): keep it selectable.
  const missingAgent = limit?.agent && !agents.some((a) => a.id === limit.agent?.id) ? limit.agent : null;
  const missingMember = limit?.user && !members.some((m) => m.userId === limit.user?.id) ? limit.user : null;

  return (
    <form id="spend-limit-form" onSubmit={submit} className="space-y-5" noValidate>
      {unmatched ? <p role="alert" className="rounded-md bg-danger-50 px-3 py-2 text-sm text-danger-700">{messageOf(error)}</p> : null}
      <div className="grid gap-4 sm:grid-cols-2">
        <Field label="Applies to" error={fields.scope}>
          <Select name="scope" value={scope} onChange={(event) => setScope(event.target.value as LimitScope)} data-autofocus>
            {SCOPE_OPTIONS.map((option) => <option key={option.value} value={option.value}>{option.label}</option>)}
          </Select>
        </Field>
        <Field label="Period" error={fields.period} hint="Days and months follow the organisation’s time zone.">
          <Select name="period" defaultValue={limit?.period ?? "DAY"}>
            <option value="DAY">Per day</option>
            <option value="MONTH">Per month</option>
          </Select>
        </Field>
      </div>

      {scope === "AGENT" ? (
        <Field label="Agent" error={fields.agentId}>
          <Select name="agentId" value={agentId} onChange={(event) => setAgentId(event.target.value)} disabled={targets.isPending}>
            <option value="" disabled>{targets.isPending ? "Loading agents…" : agents.length === 0 ? "No agents yet" : "Choose an agent"}</option>
            {missingAgent ? <option value={missingAgent.id}>{missingAgent.slug}</option> : null}
            {agents.map((agent) => (
              <option key={agent.id} value={agent.id}>
                {agent.slug}
                {agent.name && agent.name !== agent.slug ? ` — ${agent.name}` : ""}
                {agent.status === "ACTIVE" ? "" : ` (${agent.status.toLowerCase()})`}
              </option>
            ))}
          </Select>
        </Field>
      ) : null}

      {scope === "USER" ? (
        <Field label="Member" error={fields.userId} hint="Counts every run acting on this member’s behalf, whichever agent runs it.">
          <Select name="userId" value={userId} onChange={(event) => setUserId(event.target.value)} disabled={targets.isPending}>
            <option value="" disabled>{targets.isPending ? "Loading members…" : "Choose a member"}</option>
            {missingMember ? <option value={missingMember.id}>{missingMember.name ?? missingMember.email} (no longer a member)</option> : null}
            {members.map((member) => (
              <option key={member.userId} value={member.userId}>
                {member.name ? `${member.name} — ${member.email}` : member.email} · {ROLE_LABELS[member.role]}
              </option>
            ))}
          </Select>
        </Field>
      ) : null}

      {targets.isError ? <p role="alert" className="text-sm text-danger-700">{messageOf(targets.error)}</p> : null}

      <div className="grid gap-4 sm:grid-cols-2">
        <Field label="Limit" error={fields.limitUsd} hint="US dollars, up to 6 decimals.">
          {(control) => (
            <div className="relative">
              <Input
                {...control}
                name="limitUsd"
                inputMode="decimal"
                autoComplete="off"
                placeholder="25.00"
                defaultValue={limit ? microsToUsdInput(limit.limitMicros) : ""}
                className="pl-6"
              />
              <span aria-hidden="true" className="pointer-events-none absolute inset-y-0 left-2.5 flex items-center text-sm text-fg-subtle">$</span>
            </div>
          )}
        </Field>
        <Field label="Warn at" error={fields.warnAtPercent} hint="Warn once this share of the limit is spent.">
          {(control) => (
            <div className="relative">
              <Input
                {...control}
                name="warnAtPercent"
                type="number"
                min={1}
                max={100}
                step={1}
                inputMode="numeric"
                defaultValue={limit?.warnAtPercent ?? 80}
                className="pr-8"
              />
              <span aria-hidden="true" className="pointer-events-none absolute inset-y-0 right-2.5 flex items-center text-sm text-fg-subtle">%</span>
            </div>
          )}
        </Field>
      </div>

      <fieldset className="space-y-2">
        <legend className="mb-1.5 text-sm font-medium text-fg">When the limit is reached</legend>
        <div className="grid gap-2 sm:grid-cols-2">
          {MODE_OPTIONS.map((option) => (
            <label
              key={option.value}
              className={cn(
                "flex cursor-pointer gap-2.5 rounded-md border px-3 py-2.5 transition-colors",
                mode === option.value ? "border-accent-500 bg-accent-50/60 ring-1 ring-accent-500/30" : "border-border-strong hover:bg-gray-50",
              )}
            >
              <input
                type="radio"
                name="mode"
                value={option.value}
                checked={mode === option.value}
                onChange={() => setMode(option.value)}
                className="mt-0.5 size-3.5 accent-accent-600"
              />
              <span>
                <span className="block text-sm font-medium text-fg">{option.title}</span>
                <span className="block text-xs text-fg-muted">{option.description}</span>
              </span>
            </label>
          ))}
        </div>
        {fields.mode?.length ? <p className="text-xs font-medium text-danger-700">{fields.mode.join(" ")}</p> : null}
      </fieldset>
    </form>
  );
}
