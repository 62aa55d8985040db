"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import type { ReactNode } from "react";
import { Badge, Button, Card, CardBody, CardHeader, EmptyState, IconCheckCircle, PageHeader, Select, Spinner } from "@/components/ui";
import { formatDuration } from "@/components/models/units";
import { formatDateTime, formatUsd } from "@/lib/format";
import { messageOf, useTRPC } from "@/lib/trpc";
import { DiffView } from "./DiffView";
import { errorCodeOf, type RouterOutputs } from "./shared";

type Diff = RouterOutputs["agents"]["diff"];
type FieldChange = Diff["fields"][number];

function formatValue(change: FieldChange, value: FieldChange["before"]): ReactNode {
  if (value === null) return <span className="text-fg-subtle">none</span>;
  switch (change.format) {
    case "usd":
      return value === 0 ? "no cap" : formatUsd(Number(value));
    case "duration":
      return formatDuration(Number(value));
    case "boolean":
      return value ? "on" : "off";
    default:
      return String(value);
  }
}

export function AgentVersions({ agentId, from, to }: { agentId: string; from?: number; to?: number }) {
  const trpc = useTRPC();
  const router = useRouter();
  const pathname = usePathname();
  const agent = useQuery(trpc.agents.byId.queryOptions({ id: agentId }));
  const versions = useQuery(trpc.agents.versions.queryOptions({ id: agentId }));

  const numbers = versions.data?.map((v) => v.version) ?? [];
  const latest = numbers[0];
  const toVersion = to && numbers.includes(to) ? to : latest;
  const fromVersion = from && numbers.includes(from) ? from : numbers.find((n) => toVersion !== undefined && n < toVersion) ?? toVersion;
  const canDiff = fromVersion !== undefined && toVersion !== undefined;
  const diff = useQuery(
    trpc.agents.diff.queryOptions(
      { agentId, from: fromVersion ?? 1, to: toVersion ?? 1 },
      { enabled: canDiff, placeholderData: keepPreviousData },
    ),
  );

  const select = (next: { from?: number; to?: number }) => {
    const params = new URLSearchParams({ from: String(next.from ?? fromVersion), to: String(next.to ?? toVersion) });
    router.replace(`${pathname}?${params.toString()}`, { scroll: false });
  };

  const header = (
    <PageHeader
      eyebrow={
        <>
          <Link href="/agents" className="hover:underline">Agents</Link>
          {" / "}
          <Link href={`/agents/${agentId}`} className="hover:underline">{agent.data?.name ?? "Agent"}</Link>
        </>
      }
      title="Compare versions"
      description="Versions never change once saved. Pick two to see what changed between them."
    />
  );

  if (versions.isPending) return <div className="space-y-6">{header}<Spinner label="Loading versions" showLabel /></div>;
  if (versions.isError) {
    return (
      <div className="space-y-6">
        {header}
        <EmptyState
          title={errorCodeOf(versions.error) === "NOT_FOUND" ? "Agent not found" : "Could not load the versions"}
          description={messageOf(versions.error)}
          action={<Link href="/agents" className="text-sm font-medium text-accent-700 hover:underline">Back to agents</Link>}
        />
      </div>
    );
  }
  if (numbers.length < 2) {
    return (
      <div className="space-y-6">
        {header}
        <EmptyState title="Only one version so far" description="Each save of the agent writes a new version; come back after the next one to compare." />
      </div>
    );
  }

  const label = (n: number) => {
    const v = versions.data.find((x) => x.version === n);
    return `v${n}${v?.isCurrent ? " (current)" : ""} · ${v ? formatDateTime(v.createdAt) : ""}`;
  };

  return (
    <div className="space-y-6">
      {header}
      <div className="flex flex-wrap items-end gap-3 rounded-lg border border-border bg-surface px-4 py-3 shadow-card">
        <label className="flex flex-col gap-1 text-xs font-medium text-fg-muted">
          From
          <Select value={fromVersion} onChange={(event) => select({ from: Number(event.target.value) })} className="w-64">
            {numbers.map((n) => <option key={n} value={n}>{label(n)}</option>)}
          </Select>
        </label>
        <Button
          size="sm"
          variant="ghost"
          aria-label="Swap the two versions"
          title="Swap"
          className="mb-0.5"
          onClick={() => select({ from: toVersion, to: fromVersion })}
        >
          ⇄
        </Button>
        <label className="flex flex-col gap-1 text-xs font-medium text-fg-muted">
          To
          <Select value={toVersion} onChange={(event) => select({ to: Number(event.target.value) })} className="w-64">
            {numbers.map((n) => <option key={n} value={n}>{label(n)}</option>)}
          </Select>
        </label>
        {diff.isFetching ? <Spinner label="Comparing" className="mb-2" /> : null}
      </div>

      {diff.isPending ? (
        <Spinner label="Comparing versions" showLabel />
      ) : diff.isError ? (
        <p role="alert" className="text-sm text-danger-700">{messageOf(diff.error)}</p>
      ) : (
        <DiffResult diff={diff.data} />
      )}
    </div>
  );
}

function DiffResult({ diff }: { diff: Diff }) {
  const toolChanges = diff.tools.added.length + diff.tools.removed.length;
  if (diff.from.version === diff.to.version) {
    return <EmptyState title="Same version on both sides" description="Choose two different versions to compare." />;
  }
  if (diff.identical) {
    return <EmptyState icon={<IconCheckCircle />} title="No differences" description={`v${diff.from.version} and v${diff.to.version} run exactly the same way.`} />;
  }
  const summary = [
    diff.instructions.changed ? `instructions +${diff.instructions.added} −${diff.instructions.removed} lines` : null,
    diff.fields.length ? `${diff.fields.length} setting${diff.fields.length === 1 ? "" : "s"}` : null,
    toolChanges ? `${toolChanges} tool grant${toolChanges === 1 ? "" : "s"}` : null,
    diff.script.changed ? "script" : null,
  ].filter(Boolean);
  const by = (v: Diff["from"]) => v.createdBy?.name ?? v.createdBy?.email ?? "setup";
  return (
    <div className="space-y-6">
      <p className="text-sm text-fg-muted">
        <span className="font-medium text-fg">v{diff.from.version}</span> ({by(diff.from)}) →{" "}
        <span className="font-medium text-fg">v{diff.to.version}</span> ({by(diff.to)}): changed {summary.join(", ")}.
      </p>

      {diff.fields.length > 0 || toolChanges > 0 ? (
        <Card>
          <CardHeader title="Settings" />
          <CardBody flush>
            <table className="w-full text-sm">
              <thead className="border-b border-border bg-gray-50/80 text-xs text-fg-muted">
                <tr>
                  <th scope="col" className="h-8 pl-4 text-left font-medium">Setting</th>
                  <th scope="col" className="h-8 px-3 text-left font-medium">v{diff.from.version}</th>
                  <th scope="col" className="h-8 pr-4 text-left font-medium">v{diff.to.version}</th>
                </tr>
              </thead>
              <tbody className="divide-y divide-border/70">
                {diff.fields.map((change) => (
                  <tr key={change.field}>
                    <th scope="row" className="h-10 pl-4 text-left font-medium text-fg">{change.label}</th>
                    <td className="px-3 text-danger-700 line-through decoration-danger-300">{formatValue(change, change.before)}</td>
                    <td className="pr-4 font-medium text-success-700">{formatValue(change, change.after)}</td>
                  </tr>
                ))}
                {toolChanges > 0 ? (
                  <tr>
                    <th scope="row" className="py-2.5 pl-4 text-left align-top font-medium text-fg">Tools</th>
                    <td className="px-3 py-2.5 align-top">
                      <div className="flex flex-wrap gap-1">
                        {diff.tools.removed.length === 0 ? <span className="text-fg-subtle">—</span> : null}
                        {diff.tools.removed.map((name) => <Badge key={name} tone="danger">− {name}</Badge>)}
                      </div>
                    </td>
                    <td className="py-2.5 pr-4 align-top">
                      <div className="flex flex-wrap gap-1">
                        {diff.tools.added.length === 0 ? <span className="text-fg-subtle">—</span> : null}
                        {diff.tools.added.map((name) => <Badge key={name} tone="success">+ {name}</Badge>)}
                      </div>
                    </td>
                  </tr>
                ) : null}
              </tbody>
            </table>
          </CardBody>
        </Card>
      ) : null}

      <DiffCard title="Instructions" diff={diff.instructions} />
      {diff.script.changed || diff.script.lines.length > 0 ? <DiffCard title="Script" diff={diff.script} collapsedWhenUnchanged /> : null}
      <DiffCard title="Config (JSON)" diff={diff.config} collapsedWhenUnchanged />
    </div>
  );
}

function DiffCard({ title, diff, collapsedWhenUnchanged }: { title: string; diff: Diff["instructions"]; collapsedWhenUnchanged?: boolean }) {
  const stats = diff.changed ? (
    <span className="text-xs tabular-nums">
      <span className="font-medium text-success-700">+{diff.added}</span> <span className="font-medium text-danger-700">−{diff.removed}</span>
    </span>
  ) : (
    <span className="text-xs text-fg-subtle">unchanged</span>
  );
  return (
    <Card>
      <CardHeader title={title} actions={stats} />
      {diff.changed || !collapsedWhenUnchanged ? (
        <CardBody flush className="py-1">
          <DiffView lines={diff.lines} label={`${title} diff`} />
        </CardBody>
      ) : null}
    </Card>
  );
}
