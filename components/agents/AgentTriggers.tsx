"use client";

import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent, type ReactNode } from "react";
import {
  Badge,
  Button,
  Card,
  CardBody,
  CardHeader,
  CopyField,
  Dialog,
  Field,
  IconAlertTriangle,
  IconCheck,
  IconCopy,
  Input,
  Spinner,
  useToast,
} from "@/components/ui";
import { formatDateTime, formatRelative } from "@/lib/format";
import { fieldErrorsOf, messageOf, useTRPC } from "@/lib/trpc";
import type { RouterOutputs } from "./shared";

type Triggers = RouterOutputs["triggers"]["byAgent"];

const EXAMPLES = [
  { label: "Every 15 minutes", schedule: "*/15 * * * *" },
  { label: "Hourly", schedule: "0 * * * *" },
  { label: "Weekdays at 9:00", schedule: "0 9 * * 1-5" },
  { label: "Mondays at 8:30", schedule: "30 8 * * 1" },
];

function formatTick(date: Date, timeZone: string): string {
  return new Intl.DateTimeFormat("en-GB", { timeZone, weekday: "short", day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" }).format(date);
}

function useDebounced<T>(value: T, ms: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => setDebounced(value), ms);
    return () => window.clearTimeout(timer);
  }, [value, ms]);
  return debounced;
}

/** The agent's schedule and inbound webhook. Changing them needs agents:write (`editable`). */
export function AgentTriggers({ agentId, agentStatus, editable }: { agentId: string; agentStatus: string; editable: boolean }) {
  const trpc = useTRPC();
  const triggers = useQuery(trpc.triggers.byAgent.queryOptions({ agentId }));
  return (
    <Card>
      <CardHeader title="Triggers" description="Besides the console and the API, this agent can start on a schedule or when a webhook is called." />
      {triggers.isPending ? (
        <CardBody><Spinner label="Loading triggers" showLabel /></CardBody>
      ) : triggers.isError ? (
        <CardBody><p role="alert" className="text-sm text-danger-700">{messageOf(triggers.error)}</p></CardBody>
      ) : (
        <div className="divide-y divide-border">
          {agentStatus !== "ACTIVE" ? (
            <p className="bg-gray-50 px-4 py-2.5 text-xs text-fg-muted">
              The agent is {agentStatus.toLowerCase()}: triggers start runs only while it is active.
            </p>
          ) : null}
          <ScheduleSection agentId={agentId} triggers={triggers.data} editable={editable} />
          <WebhookSection agentId={agentId} triggers={triggers.data} editable={editable} />
        </div>
      )}
    </Card>
  );
}

function SectionTitle({ title, status }: { title: string; status: ReactNode }) {
  return (
    <div className="flex items-center gap-2">
      <h3 className="text-sm font-medium text-fg">{title}</h3>
      {status}
    </div>
  );
}

function ScheduleSection({ agentId, triggers, editable }: { agentId: string; triggers: Triggers; editable: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { toast } = useToast();
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState("");
  const schedule = triggers.schedule;
  const showForm = editable && (editing || !schedule);
  const typed = useDebounced(draft.trim(), 300);
  const preview = useQuery({
    ...trpc.triggers.previewSchedule.queryOptions({ schedule: typed }),
    enabled: showForm && typed !== "",
    placeholderData: keepPreviousData,
  });
  const onChanged = async (updated: Triggers) => {
    queryClient.setQueryData(trpc.triggers.byAgent.queryKey({ agentId }), updated);
    await queryClient.invalidateQueries({ queryKey: trpc.triggers.byAgent.queryKey({ agentId }) });
  };
  const save = useMutation(
    trpc.triggers.setSchedule.mutationOptions({
      onSuccess: async (updated) => {
        setEditing(false);
        setDraft("");
        toast({ title: "Schedule saved", description: `Next run ${updated.schedule?.nextTicks[0] ? formatTick(updated.schedule.nextTicks[0], updated.timeZone) : "—"} (${updated.timeZone}).`, tone: "success" });
        await onChanged(updated);
      },
    }),
  );
  const clear = useMutation(
    trpc.triggers.clearSchedule.mutationOptions({
      onSuccess: async (updated) => {
        toast({ title: "Schedule cleared", description: "No more scheduled runs.", tone: "success" });
        await onChanged(updated);
      },
      onError: (error) => toast({ title: "Could not clear the schedule", description: messageOf(error), tone: "danger" }),
    }),
  );

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    save.mutate({ agentId, schedule: draft });
  }

  // The server's answer to Save wins; until then the live preview says what is wrong as the person types.
  const serverError = fieldErrorsOf(save.error).schedule ?? (save.error ? [messageOf(save.error)] : undefined);
  const previewData = typed !== "" && draft.trim() !== "" ? preview.data : undefined;
  const inlineError = serverError ?? (previewData && !previewData.valid ? [previewData.problem] : undefined);
  const upcoming = previewData?.valid ? previewData.nextTicks : null;

  return (
    <section aria-label="Schedule" className="space-y-3 px-4 py-4">
      <SectionTitle title="Schedule" status={schedule ? <Badge tone="success" dot>on</Badge> : <Badge tone="neutral">off</Badge>} />
      {triggers.scheduleStopped && !schedule ? (
        <div role="status" className="flex items-start gap-2 rounded-md border border-warning-200 bg-warning-50 px-3 py-2 text-xs text-warning-800">
          <IconAlertTriangle className="mt-0.5 shrink-0" />
          <p>
            The schedule <code>{triggers.scheduleStopped.schedule}</code> was switched off automatically {formatRelative(triggers.scheduleStopped.at)}:{" "}
            {triggers.scheduleStopped.reason} Set it again to run it on your behalf.
          </p>
        </div>
      ) : null}
      {schedule && !editing ? (
        <div className="space-y-3">
          <p className="text-sm text-fg-muted">
            Runs <code className="rounded bg-gray-100 px-1.5 py-0.5 text-[0.8125rem] text-fg">{schedule.expression}</code> in {triggers.timeZone}, on behalf of{" "}
            <span className="font-medium text-fg">{schedule.actsFor?.email ?? "nobody (their account is gone)"}</span>
            {schedule.since ? <span title={formatDateTime(schedule.since)}> · set {formatRelative(schedule.since)}</span> : null}
          </p>
          <NextTicks ticks={schedule.nextTicks} timeZone={triggers.timeZone} />
          {editable ? (
            <div className="flex gap-2">
              <Button size="sm" onClick={() => { setDraft(schedule.expression); setEditing(true); save.reset(); }}>Change</Button>
              <Button
                size="sm"
                variant="ghost"
                loading={clear.isPending}
                onClick={() => {
                  if (window.confirm("Clear the schedule? No more scheduled runs start; runs already started continue.")) clear.mutate({ agentId });
                }}
              >
                Clear schedule
              </Button>
            </div>
          ) : null}
        </div>
      ) : null}
      {!schedule && !showForm ? <p className="text-sm text-fg-muted">No schedule: this agent starts only when someone (or something) starts it.</p> : null}
      {showForm ? (
        <form onSubmit={onSubmit} className="space-y-3" noValidate>
          <Field
            label="Cron expression"
            error={inlineError}
            hint={`Five fields — minute hour day-of-month month day-of-week — in the organisation's time zone (${triggers.timeZone}). At most once a minute. Runs act on your behalf.`}
          >
            <Input
              name="schedule"
              value={draft}
              onChange={(e) => { setDraft(e.target.value); save.reset(); }}
              placeholder="0 9 * * 1-5"
              autoComplete="off"
              spellCheck={false}
              className="font-mono"
            />
          </Field>
          <div className="flex flex-wrap items-center gap-1.5 text-xs text-fg-subtle">
            <span>Examples:</span>
            {EXAMPLES.map((example) => (
              <button
                key={example.schedule}
                type="button"
                onClick={() => { setDraft(example.schedule); save.reset(); }}
                className="rounded-full bg-gray-100 px-2 py-0.5 text-fg-muted hover:bg-gray-200 hover:text-fg"
              >
                {example.label}
              </button>
            ))}
          </div>
          {upcoming ? <NextTicks ticks={upcoming} timeZone={previewData?.timeZone ?? triggers.timeZone} /> : null}
          <div className="flex gap-2">
            <Button type="submit" size="sm" variant="primary" loading={save.isPending} disabled={draft.trim() === ""}>Save schedule</Button>
            {schedule ? <Button size="sm" variant="ghost" onClick={() => { setEditing(false); save.reset(); }}>Cancel</Button> : null}
          </div>
        </form>
      ) : null}
    </section>
  );
}

function NextTicks({ ticks, timeZone }: { ticks: Date[]; timeZone: string }) {
  if (ticks.length === 0) return null;
  return (
    <div>
      <p className="text-xs font-medium text-fg-subtle">Next runs ({timeZone})</p>
      <ol aria-label="Next runs" className="mt-1 space-y-0.5 text-sm text-fg tabular-nums">
        {ticks.map((tick) => (
          <li key={tick.toISOString()} className="flex items-baseline gap-2">
            <span>{formatTick(tick, timeZone)}</span>
            <span className="text-xs text-fg-subtle">{formatRelative(tick)}</span>
          </li>
        ))}
      </ol>
    </div>
  );
}

interface IssuedWebhook {
  url: string;
  rotated: boolean;
}

function WebhookSection({ agentId, triggers, editable }: { agentId: string; triggers: Triggers; editable: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { toast } = useToast();
  const [issued, setIssued] = useState<IssuedWebhook | null>(null);
  const webhook = triggers.webhook;
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.triggers.byAgent.queryKey({ agentId }) });
  const issue = useMutation(
    trpc.triggers.issueWebhook.mutationOptions({
      onSuccess: async (result) => {
        setIssued({ url: `${window.location.origin}${result.path}`, rotated: result.rotated });
        queryClient.setQueryData(trpc.triggers.byAgent.queryKey({ agentId }), result.triggers);
        await refresh();
      },
      onError: (error) => toast({ title: "Could not create the webhook URL", description: messageOf(error), tone: "danger" }),
    }),
  );
  const revoke = useMutation(
    trpc.triggers.revokeWebhook.mutationOptions({
      onSuccess: async (updated) => {
        toast({ title: "Webhook revoked", description: "Calls to its URL are refused from now on.", tone: "success" });
        queryClient.setQueryData(trpc.triggers.byAgent.queryKey({ agentId }), updated);
        await refresh();
      },
      onError: (error) => toast({ title: "Could not revoke the webhook", description: messageOf(error), tone: "danger" }),
    }),
  );

  return (
    <section aria-label="Webhook" className="space-y-3 px-4 py-4">
      <SectionTitle title="Webhook" status={webhook ? <Badge tone="success" dot>on</Badge> : <Badge tone="neutral">off</Badge>} />
      {webhook ? (
        <p className="text-sm text-fg-muted">
          An HTTP <code className="text-[0.8125rem]">POST</code> to this agent&apos;s secret URL starts a run with the request body as its input, on behalf of{" "}
          <span className="font-medium text-fg">{webhook.actsFor?.email ?? "nobody (their account is gone)"}</span>
          {webhook.createdAt ? <span title={formatDateTime(webhook.createdAt)}> · URL created {formatRelative(webhook.createdAt)}</span> : null}.
          {editable ? " The URL was shown once; rotate it for a new one." : null}
        </p>
      ) : (
        <p className="text-sm text-fg-muted">
          No webhook. Create a secret URL that starts a run when another system sends it an HTTP <code className="text-[0.8125rem]">POST</code>; the body (JSON or
          text, up to 64 KB) becomes the run&apos;s input.
        </p>
      )}
      {editable ? (
        <div className="flex gap-2">
          {webhook ? (
            <>
              <Button
                size="sm"
                loading={issue.isPending}
                onClick={() => {
                  if (window.confirm("Rotate the webhook URL? The current URL stops working at once.")) issue.mutate({ agentId });
                }}
              >
                Rotate URL
              </Button>
              <Button
                size="sm"
                variant="ghost"
                loading={revoke.isPending}
                onClick={() => {
                  if (window.confirm("Revoke the webhook? Calls to its URL are refused from now on.")) revoke.mutate({ agentId });
                }}
              >
                Revoke
              </Button>
            </>
          ) : (
            <Button size="sm" variant="primary" loading={issue.isPending} onClick={() => issue.mutate({ agentId })}>Create webhook URL</Button>
          )}
        </div>
      ) : null}
      <Dialog
        open={issued !== null}
        onClose={() => setIssued(null)}
        size="lg"
        title={issued?.rotated ? "Copy the new webhook URL" : "Copy the webhook URL"}
        description={`This is the only time the URL is shown: it contains the secret.${issued?.rotated ? " The previous URL no longer works." : ""}`}
        footer={<Button variant="primary" onClick={() => setIssued(null)}>I have stored it</Button>}
      >
        {issued ? <IssuedWebhookDetails url={issued.url} /> : null}
      </Dialog>
    </section>
  );
}

function IssuedWebhookDetails({ url }: { url: string }) {
  const curl = `curl -X POST '${url}' -H 'Content-Type: application/json' -d '{"ticket": 4711, "text": "Customer asks for a refund"}'`;
  return (
    <div className="space-y-4">
      <CopyField label="Webhook URL" value={url} hint="Anyone with this URL can start runs of this agent. Keep it in a secret store." />
      <div className="space-y-1.5">
        <div className="flex items-center justify-between gap-2">
          <p className="text-sm font-medium text-fg">Try it</p>
          <CopyButton text={curl} />
        </div>
        <pre className="overflow-x-auto rounded-md bg-gray-950 px-3 py-2.5 font-mono text-xs leading-5 break-all whitespace-pre-wrap text-gray-100">{curl}</pre>
        <p className="text-xs text-fg-subtle">
          Answers <code>201</code> with the run&apos;s id. JSON bodies are passed on indented, anything else as text; at most 64 KB and 60 calls a minute.
        </p>
      </div>
    </div>
  );
}

function CopyButton({ text }: { text: string }) {
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    if (!copied) return;
    const timer = window.setTimeout(() => setCopied(false), 2000);
    return () => window.clearTimeout(timer);
  }, [copied]);
  return (
    <Button
      size="sm"
      variant="ghost"
      icon={copied ? <IconCheck className="text-success-600" /> : <IconCopy />}
      onClick={() => {
        void navigator.clipboard?.writeText(text).then(() => setCopied(true));
      }}
    >
      {copied ? "Copied" : "Copy command"}
    </Button>
  );
}
