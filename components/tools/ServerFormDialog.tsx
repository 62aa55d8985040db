"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Button, Dialog, Field, IconClose, IconPlus, Input, Select, Textarea, useToast } from "@/components/ui";
import { cn } from "@/lib/cn";
import { fieldErrorsOf, messageOf, useTRPC } from "@/lib/trpc";
import type { ToolServerRow } from "./shared";

type Transport = "STDIO" | "HTTP";
interface Pair {
  key: string;
  secret: string;
}

const toPairs = (record: Record<string, string>): Pair[] => Object.entries(record).map(([key, secret]) => ({ key, secret }));
const toRecord = (pairs: Pair[]) =>
  Object.fromEntries(pairs.filter((p) => p.key.trim() !== "" || p.secret !== "").map((p) => [p.key.trim(), p.secret]));

type ServerInput = {
  transport: Transport;
  name: string;
  callTimeoutMs: number;
  maxResultBytes: number;
} & (
  | { transport: "STDIO"; command: string; args: string[]; envSecrets: Record<string, string> }
  | { transport: "HTTP"; url: string; headerSecrets: Record<string, string> }
);

/**
 * Register a new tool server, or edit one (`server` given). On success it refreshes the server's tools.
 * The Dialog stays mounted and only its fields remount per opening: a Dialog mounted already open is closed again
 * by React's development double-mount.
 */
export function ServerFormDialog({ open, onClose, server }: { open: boolean; onClose: () => void; server?: ToolServerRow }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { toast } = useToast();
  const [opening, setOpening] = useState(0);
  const [wasOpen, setWasOpen] = useState(open);
  if (open !== wasOpen) {
    setWasOpen(open);
    if (open) setOpening((n) => n + 1);
  }

  const refresh = useMutation(trpc.tools.refresh.mutationOptions());
  const onSaved = async (saved: { id: string; name: string }) => {
    close();
    toast({
      title: server ? `Saved “${saved.name}”` : `Registered “${saved.name}”`,
      description: "Connecting to discover its tools…",
      tone: "success",
    });
    await queryClient.invalidateQueries({ queryKey: trpc.tools.pathKey() });
    const result = await refresh.mutateAsync({ id: saved.id }).catch(() => null);
    if (result && !result.ok) toast({ title: `Could not reach “${saved.name}”`, description: result.error ?? undefined, tone: "danger" });
    else if (result)
      toast({ title: `“${saved.name}” is connected`, description: `${result.server.toolCounts.offered} tools found.`, tone: "success" });
    await queryClient.invalidateQueries({ queryKey: trpc.tools.pathKey() });
  };
  const register = useMutation(trpc.tools.register.mutationOptions({ onSuccess: onSaved }));
  const update = useMutation(trpc.tools.update.mutationOptions({ onSuccess: onSaved }));
  const mutation = server ? update : register;

  function close() {
    onClose();
    register.reset();
    update.reset();
  }

  function submit(input: ServerInput) {
    if (server) update.mutate({ ...input, id: server.id });
    else register.mutate(input);
  }

  return (
    <Dialog
      open={open}
      onClose={close}
      size="lg"
      dismissible={!mutation.isPending}
      title={server ? `Edit “${server.name}”` : "Register a tool server"}
      description="An MCP server gives agents tools. Switchboard starts local servers itself and connects to remote ones over Streamable HTTP."
      footer={
        <>
          <Button onClick={close}>Cancel</Button>
          <Button variant="primary" type="submit" form="tool-server-form" loading={mutation.isPending}>
            {server ? "Save and reconnect" : "Register and connect"}
          </Button>
        </>
      }
    >
      {open ? <ServerFields key={opening} server={server} onSubmit={submit} error={mutation.error} /> : null}
    </Dialog>
  );
}

function ServerFields({ server, onSubmit, error }: { server?: ToolServerRow; onSubmit: (input: ServerInput) => void; error: unknown }) {
  const trpc = useTRPC();
  const secrets = useQuery(trpc.tools.secrets.list.queryOptions());
  const [transport, setTransport] = useState<Transport>(server?.transport ?? "STDIO");
  const [name, setName] = useState(server?.name ?? "");
  const [command, setCommand] = useState(server?.command ?? "");
  const [args, setArgs] = useState((server?.args ?? []).join("\n"));
  const [env, setEnv] = useState<Pair[]>(toPairs(server?.envSecrets ?? {}));
  const [url, setUrl] = useState(server?.url ?? "");
  const [headers, setHeaders] = useState<Pair[]>(toPairs(server?.headerSecrets ?? {}));
  const [timeoutSeconds, setTimeoutSeconds] = useState(String((server?.callTimeoutMs ?? 30_000) / 1000));
  const [maxResultKb, setMaxResultKb] = useState(String(Math.round((server?.maxResultBytes ?? 262_144) / 1024)));

  function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const limits = {
      callTimeoutMs: Math.round(Number(timeoutSeconds) * 1000),
      maxResultBytes: Math.round(Number(maxResultKb) * 1024),
    };
    onSubmit(
      transport === "STDIO"
        ? {
            transport,
            name: name.trim(),
            command: command.trim(),
            args: args
              .split("\n")
              .map((line) => line.trim())
              .filter(Boolean),
            envSecrets: toRecord(env),
            ...limits,
          }
        : { transport, name: name.trim(), url: url.trim(), headerSecrets: toRecord(headers), ...limits },
    );
  }

  const fields = fieldErrorsOf(error);
  const secretNames = secrets.data?.map((s) => s.name) ?? [];
  return (
    <form id="tool-server-form" onSubmit={handleSubmit} className="space-y-5" noValidate>
      {error && Object.keys(fields).length === 0 ? (
        <p role="alert" className="rounded-md bg-danger-50 px-3 py-2 text-sm text-danger-700">
          {messageOf(error)}
        </p>
      ) : null}
      <fieldset>
        <legend className="text-sm font-medium text-fg">How Switchboard reaches it</legend>
        <div className="mt-2 grid grid-cols-2 gap-2">
          {(
            [
              ["STDIO", "Local command", "Starts the server as a process and talks over stdin/stdout."],
              ["HTTP", "Remote URL", "Connects to a running server over Streamable HTTP."],
            ] as const
          ).map(([value, label, hint]) => (
            <label
              key={value}
              className={cn(
                "flex cursor-pointer gap-2.5 rounded-lg border px-3 py-2.5 transition-colors",
                transport === value
                  ? "border-accent-500 bg-accent-50/60 ring-1 ring-accent-500"
                  : "border-border hover:border-border-strong",
              )}
            >
              <input
                type="radio"
                name="transport"
                value={value}
                checked={transport === value}
                onChange={() => setTransport(value)}
                className="mt-0.5 size-3.5 accent-accent-600"
              />
              <span>
                <span className="block text-sm font-medium text-fg">{label}</span>
                <span className="block text-xs text-fg-muted">{hint}</span>
              </span>
            </label>
          ))}
        </div>
      </fieldset>

      <Field
        label="Name"
        error={fields.name}
        hint="Lowercase letters, digits and dashes. Agents see tools as e.g. crm__search when two servers share a tool name."
      >
        <Input value={name} onChange={(e) => setName(e.target.value)} placeholder="order-desk" autoComplete="off" data-autofocus />
      </Field>

      {transport === "STDIO" ? (
        <>
          <Field label="Command" error={fields.command} hint="The program to run, e.g. npx, node, uvx or an absolute path.">
            <Input
              value={command}
              onChange={(e) => setCommand(e.target.value)}
              placeholder="npx"
              className="font-mono"
              autoComplete="off"
            />
          </Field>
          <Field
            label="Arguments"
            optional
            error={fields.args}
            hint="One per line. Put credentials in secrets, not here: arguments are visible to everyone who can see tools."
          >
            <Textarea
              value={args}
              onChange={(e) => setArgs(e.target.value)}
              rows={3}
              placeholder={"-y\n@modelcontextprotocol/server-github"}
              className="font-mono text-xs"
            />
          </Field>
          <PairsEditor
            label="Environment from secrets"
            keyPlaceholder="GITHUB_TOKEN"
            pairs={env}
            onChange={setEnv}
            secretNames={secretNames}
            error={fields.envSecrets}
            addLabel="Add variable"
          />
        </>
      ) : (
        <>
          <Field label="URL" error={fields.url} hint="The server's Streamable HTTP endpoint.">
            <Input
              value={url}
              onChange={(e) => setUrl(e.target.value)}
              placeholder="https://mcp.example.com/mcp"
              className="font-mono"
              autoComplete="off"
              inputMode="url"
            />
          </Field>
          <PairsEditor
            label="Headers from secrets"
            keyPlaceholder="Authorization"
            pairs={headers}
            onChange={setHeaders}
            secretNames={secretNames}
            error={fields.headerSecrets}
            addLabel="Add header"
          />
        </>
      )}

      <div className="grid grid-cols-2 gap-4">
        <Field label="Call timeout (seconds)" error={fields.callTimeoutMs} hint="A call that takes longer is cancelled.">
          <Input value={timeoutSeconds} onChange={(e) => setTimeoutSeconds(e.target.value)} inputMode="decimal" className="tabular-nums" />
        </Field>
        <Field label="Largest result (KB)" error={fields.maxResultBytes} hint="Longer results are cut before the model sees them.">
          <Input value={maxResultKb} onChange={(e) => setMaxResultKb(e.target.value)} inputMode="numeric" className="tabular-nums" />
        </Field>
      </div>
    </form>
  );
}

function PairsEditor({
  label,
  keyPlaceholder,
  pairs,
  onChange,
  secretNames,
  error,
  addLabel,
}: {
  label: string;
  keyPlaceholder: string;
  pairs: Pair[];
  onChange: (pairs: Pair[]) => void;
  secretNames: string[];
  error?: string[];
  addLabel: string;
}) {
  const set = (index: number, patch: Partial<Pair>) => onChange(pairs.map((pair, i) => (i === index ? { ...pair, ...patch } : pair)));
  return (
    <fieldset className="space-y-2">
      <legend className="flex items-baseline gap-1.5 text-sm font-medium text-fg">
        {label} <span className="text-xs font-normal text-fg-subtle">Optional</span>
      </legend>
      {pairs.length === 0 ? (
        <p className="text-xs text-fg-subtle">
          {secretNames.length === 0
            ? "No secrets yet. Add them under Secrets on the Tools page, then reference them here."
            : "Values come from secrets and are never shown or logged."}
        </p>
      ) : null}
      {pairs.map((pair, index) => (
        <div key={index} className="flex items-center gap-2">
          <Input
            aria-label={`${label}: name ${index + 1}`}
            value={pair.key}
            onChange={(e) => set(index, { key: e.target.value })}
            placeholder={keyPlaceholder}
            className="font-mono text-xs"
          />
          <span aria-hidden="true" className="text-fg-subtle">
            ←
          </span>
          <Select aria-label={`${label}: secret ${index + 1}`} value={pair.secret} onChange={(e) => set(index, { secret: e.target.value })}>
            <option value="">Choose a secret…</option>
            {secretNames.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
            {pair.secret && !secretNames.includes(pair.secret) ? <option value={pair.secret}>{pair.secret} (missing)</option> : null}
          </Select>
          <Button
            size="sm"
            variant="ghost"
            icon={<IconClose />}
            aria-label={`Remove ${pair.key || "row"}`}
            onClick={() => onChange(pairs.filter((_, i) => i !== index))}
          />
        </div>
      ))}
      {error ? <p className="text-xs font-medium text-danger-700">{error.join(" ")}</p> : null}
      <Button size="sm" variant="ghost" icon={<IconPlus />} onClick={() => onChange([...pairs, { key: "", secret: "" }])}>
        {addLabel}
      </Button>
    </fieldset>
  );
}
