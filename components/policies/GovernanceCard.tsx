"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { Affix } from "@/components/models/Affix";
import {
  Button,
  Card,
  CardBody,
  CardFooter,
  CardHeader,
  Field,
  IconClose,
  IconPlus,
  Input,
  Select,
  Spinner,
  Textarea,
  useToast,
} from "@/components/ui";
import { fieldErrorsOf, messageOf, useTRPC } from "@/lib/trpc";
import type { GovernanceSettingsView } from "./shared";

type Outcome = GovernanceSettingsView["approvalDefaultOutcome"];
type RedactionToggle = "secrets" | "apiKeys" | "emails" | "cardNumbers";

const TOGGLES: { key: RedactionToggle; label: string; hint: string }[] = [
  { key: "secrets", label: "Stored secrets", hint: "Values of the organisation's secrets." },
  { key: "apiKeys", label: "API keys and tokens", hint: "sb_…, sk-…, ghp_…, AKIA…, Bearer …" },
  { key: "cardNumbers", label: "Card numbers", hint: "13–19 digits passing the Luhn check." },
  { key: "emails", label: "Email addresses", hint: "Off by default: many tools need them." },
];

interface PatternDraft {
  key: number;
  name: string;
  regex: string;
}

let nextKey = 1;

function minutesWords(minutes: number): string {
  if (!Number.isFinite(minutes) || minutes <= 0) return "";
  if (minutes % 1440 === 0) return `${minutes / 1440} day${minutes === 1440 ? "" : "s"}`;
  if (minutes % 60 === 0) return `${minutes / 60} hour${minutes === 60 ? "" : "s"}`;
  return minutes < 60 ? "" : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/**
 * The org's governance settings: approval expiry, loop detection, redaction of tool inputs and outputs, and the
 * private hosts tool servers may be reached at.
 */
export function GovernanceCard({ canManage }: { canManage: boolean }) {
  const trpc = useTRPC();
  const settings = useQuery(trpc.policies.governance.get.queryOptions());
  return (
    <Card>
      <CardHeader
        title="Governance settings"
        description="How long approvals wait, when a repeating run is stopped, what is hidden from tool inputs and outputs before anyone sees them, and which private hosts tool servers may use."
      />
      {settings.isPending ? (
        <CardBody>
          <Spinner label="Loading settings" showLabel />
        </CardBody>
      ) : settings.isError ? (
        <CardBody>
          <p role="alert" className="text-sm text-danger-700">
            {messageOf(settings.error)}
          </p>
        </CardBody>
      ) : (
        <GovernanceForm key={settings.dataUpdatedAt} settings={settings.data} canManage={canManage} />
      )}
    </Card>
  );
}

function GovernanceForm({ settings, canManage }: { settings: GovernanceSettingsView; canManage: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { toast } = useToast();
  const formId = useId();
  const [timeout, setTimeoutText] = useState(String(settings.approvalTimeoutMinutes));
  const [outcome, setOutcome] = useState<Outcome>(settings.approvalDefaultOutcome);
  const [loop, setLoop] = useState(String(settings.loopThreshold));
  const [toggles, setToggles] = useState<Record<RedactionToggle, boolean>>({
    secrets: settings.redaction.secrets,
    apiKeys: settings.redaction.apiKeys,
    emails: settings.redaction.emails,
    cardNumbers: settings.redaction.cardNumbers,
  });
  const [patterns, setPatterns] = useState<PatternDraft[]>(() => settings.redaction.patterns.map((p) => ({ key: nextKey++, ...p })));
  const [allowHosts, setAllowHosts] = useState(settings.egressAllowHosts.join("\n"));
  const save = useMutation(
    trpc.policies.governance.update.mutationOptions({
      onSuccess: async () => {
        toast({
          title: "Saved the governance settings",
          description: "They apply to new approvals and the next tool calls.",
          tone: "success",
        });
        await queryClient.invalidateQueries({ queryKey: trpc.policies.governance.get.queryKey() });
      },
    }),
  );
  // Checked here first so each message sits next to its input (the server checks again and reports per section).
  const [local, setLocal] = useState<Record<string, string>>({});
  const serverFields = fieldErrorsOf(save.error);
  const fields = { ...serverFields, ...Object.fromEntries(Object.entries(local).map(([k, v]) => [k, [v]])) };
  const readOnly = !canManage;

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const problems: Record<string, string> = {};
    if (!/^\s*\d+\s*$/.test(timeout)) problems.approvalTimeoutMinutes = "Enter a whole number of minutes.";
    if (!/^\s*\d+\s*$/.test(loop)) problems.loopThreshold = "Enter a whole number.";
    patterns.forEach((pattern) => {
      if (pattern.name.trim() === "") problems[`pattern.${pattern.key}.name`] = "Give the pattern a name.";
      if (!isRegex(pattern.regex))
        problems[`pattern.${pattern.key}.regex`] = pattern.regex === "" ? "Enter a regular expression." : "Not a valid regular expression.";
    });
    setLocal(problems);
    if (Object.keys(problems).length > 0) return;
    save.mutate({
      approvalTimeoutMinutes: Number(timeout),
      approvalDefaultOutcome: outcome,
      loopThreshold: Number(loop),
      redaction: { ...toggles, patterns: patterns.map(({ name, regex }) => ({ name: name.trim(), regex })) },
      egressAllowHosts: allowHosts
        .split(/\r?\n/)
        .map((line) => line.trim())
        .filter((line) => line !== ""),
    });
  }

  const unmatched = save.isError && Object.keys(fields).length === 0;
  return (
    <form id={formId} onSubmit={submit} noValidate>
      <CardBody className="space-y-6">
        {unmatched ? (
          <p role="alert" className="rounded-md bg-danger-50 px-3 py-2 text-sm text-danger-700">
            {messageOf(save.error)}
          </p>
        ) : null}
        <fieldset className="grid gap-4 sm:grid-cols-3" disabled={readOnly}>
          <Field
            label="Approval expires after"
            error={fields.approvalTimeoutMinutes}
            hint={minutesWords(Number(timeout)) || "An approval nobody decides in time gets the default outcome."}
          >
            {(control) => (
              <Affix suffix="minutes">
                <Input
                  {...control}
                  value={timeout}
                  onChange={(e) => setTimeoutText(e.target.value)}
                  inputMode="numeric"
                  className="pr-18"
                />
              </Affix>
            )}
          </Field>
          <Field
            label="When it expires"
            error={fields.approvalDefaultOutcome}
            hint={outcome === "REJECT" ? "The call is refused; the agent is told." : "The call runs as if approved."}
          >
            <Select value={outcome} onChange={(e) => setOutcome(e.target.value as Outcome)}>
              <option value="REJECT">Reject the call</option>
              <option value="APPROVE">Approve the call</option>
            </Select>
          </Field>
          <Field
            label="Stop a looping run after"
            error={fields.loopThreshold}
            hint="Identical tool calls (same tool, same arguments) in one run."
          >
            {(control) => (
              <Affix suffix="repeats">
                <Input {...control} value={loop} onChange={(e) => setLoop(e.target.value)} inputMode="numeric" className="pr-18" />
              </Affix>
            )}
          </Field>
        </fieldset>

        <fieldset className="space-y-3" disabled={readOnly}>
          <legend className="text-sm font-semibold text-gray-950">Redact from tool inputs and outputs</legend>
          <div className="grid gap-3 sm:grid-cols-2">
            {TOGGLES.map((toggle) => (
              <label key={toggle.key} className="flex items-start gap-2 text-sm text-fg">
                <input
                  type="checkbox"
                  checked={toggles[toggle.key]}
                  onChange={(e) => setToggles((t) => ({ ...t, [toggle.key]: e.target.checked }))}
                  className="mt-0.5 size-3.5 accent-accent-600"
                />
                <span>
                  {toggle.label}
                  <span className="block text-xs text-fg-muted">{toggle.hint}</span>
                </span>
              </label>
            ))}
          </div>
          <div className="space-y-2 pt-1">
            <p className="text-sm font-medium text-fg">Custom patterns</p>
            {patterns.length === 0 ? (
              <p className="text-xs text-fg-subtle">
                None. Add a regular expression for anything else that must never leave a tool, e.g. ticket or customer numbers.
              </p>
            ) : (
              patterns.map((pattern, index) => (
                <div key={pattern.key} className="grid grid-cols-[minmax(0,1fr)_minmax(0,2fr)_2rem] items-start gap-2">
                  <div>
                    <Input
                      aria-label={`Pattern ${index + 1}: name`}
                      aria-invalid={local[`pattern.${pattern.key}.name`] ? true : undefined}
                      value={pattern.name}
                      onChange={(e) => setPatterns((ps) => ps.map((p) => (p.key === pattern.key ? { ...p, name: e.target.value } : p)))}
                      placeholder="ticket"
                      autoComplete="off"
                    />
                    <PatternError message={local[`pattern.${pattern.key}.name`]} />
                  </div>
                  <div>
                    <Input
                      aria-label={`Pattern ${index + 1}: regular expression`}
                      aria-invalid={local[`pattern.${pattern.key}.regex`] ? true : undefined}
                      value={pattern.regex}
                      onChange={(e) => setPatterns((ps) => ps.map((p) => (p.key === pattern.key ? { ...p, regex: e.target.value } : p)))}
                      placeholder="TCK-\d{6}"
                      autoComplete="off"
                      spellCheck={false}
                      className="font-mono"
                    />
                    <PatternError message={local[`pattern.${pattern.key}.regex`]} />
                  </div>
                  {readOnly ? null : (
                    <Button
                      variant="ghost"
                      icon={<IconClose />}
                      aria-label={`Remove pattern ${index + 1}`}
                      onClick={() => setPatterns((ps) => ps.filter((p) => p.key !== pattern.key))}
                    />
                  )}
                </div>
              ))
            )}
            {serverFields.redaction ? (
              <div className="text-xs font-medium text-danger-700">
                {serverFields.redaction.map((message, i) => (
                  <p key={i}>{message}</p>
                ))}
              </div>
            ) : null}
            {readOnly ? null : (
              <Button size="sm" icon={<IconPlus />} onClick={() => setPatterns((ps) => [...ps, { key: nextKey++, name: "", regex: "" }])}>
                Add pattern
              </Button>
            )}
          </div>
        </fieldset>

        <fieldset className="space-y-3" disabled={readOnly}>
          <legend className="text-sm font-semibold text-gray-950">Tool server network access</legend>
          <Field
            label="Private hosts tool servers may use"
            error={fields.egressAllowHosts}
            hint="HTTP tool servers at loopback, private, link-local or cloud-metadata addresses (or at names resolving to them) are refused unless listed here. One host name, IP address or CIDR range per line, e.g. mcp.internal, 10.0.0.5 or 10.0.0.0/24."
          >
            <Textarea
              value={allowHosts}
              onChange={(e) => setAllowHosts(e.target.value)}
              rows={3}
              placeholder={"mcp.internal\n10.0.0.0/24"}
              spellCheck={false}
              autoComplete="off"
              className="font-mono"
            />
          </Field>
        </fieldset>
      </CardBody>
      {readOnly ? null : (
        <CardFooter>
          <Button variant="primary" type="submit" loading={save.isPending}>
            Save settings
          </Button>
        </CardFooter>
      )}
    </form>
  );
}

function isRegex(source: string): boolean {
  if (source === "") return false;
  try {
    new RegExp(source, "g");
    return true;
  } catch {
    return false;
  }
}

function PatternError({ message }: { message: string | undefined }) {
  return message ? <p className="mt-1 text-xs leading-4 font-medium text-danger-700">{message}</p> : null;
}
