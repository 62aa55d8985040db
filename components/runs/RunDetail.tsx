"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { Card, CardBody, CardHeader, EmptyState, PageHeader, Spinner, Table, TBody, TD, TH, THead, TR } from "@/components/ui";
import { formatDateTime, formatUsd } from "@/lib/format";
import { messageOf, useTRPC } from "@/lib/trpc";
import { RunStatusBadge } from "./RunStatusBadge";

export function RunDetail({ runId }: { runId: string }) {
  const trpc = useTRPC();
  const run = useQuery(trpc.runs.byId.queryOptions({ id: runId }));
  if (run.isPending) return <Spinner label="Loading the run" showLabel />;
  if (run.isError) {
    return (
      <EmptyState
        title="Run not found"
        description={messageOf(run.error)}
        action={<Link href="/runs" className="text-sm font-medium text-accent-700 hover:underline">Back to runs</Link>}
      />
    );
  }
  const data = run.data;
  return (
    <div className="space-y-6">
      <PageHeader
        eyebrow={<Link href="/runs" className="hover:underline">Runs</Link>}
        title={`${data.agent.name} · ${data.id.slice(-8)}`}
        description={data.input}
        actions={<RunStatusBadge status={data.status} />}
      />
      <Card>
        <CardHeader title="Usage" />
        <CardBody>
          <dl className="grid grid-cols-2 gap-4 text-sm sm:grid-cols-4">
            <div><dt className="text-fg-subtle">Input tokens</dt><dd className="font-medium tabular-nums">{data.inputTokens}</dd></div>
            <div><dt className="text-fg-subtle">Output tokens</dt><dd className="font-medium tabular-nums">{data.outputTokens}</dd></div>
            <div><dt className="text-fg-subtle">Cost</dt><dd className="font-medium tabular-nums">{formatUsd(data.costMicros)}</dd></div>
            <div><dt className="text-fg-subtle">Started</dt><dd className="font-medium">{formatDateTime(data.startedAt ?? data.createdAt)}</dd></div>
          </dl>
        </CardBody>
      </Card>
      <Table containerClassName="rounded-lg border border-border bg-surface shadow-card" caption="Steps">
        <THead>
          <TR><TH numeric>#</TH><TH>Type</TH><TH>Name</TH><TH>Status</TH><TH>Started</TH></TR>
        </THead>
        <TBody>
          {data.events.map((event) => (
            <TR key={event.seq}>
              <TD numeric>{event.seq}</TD>
              <TD>{event.type.toLowerCase().replace("_", " ")}</TD>
              <TD>{event.name}</TD>
              <TD>{event.status.toLowerCase()}</TD>
              <TD muted>{formatDateTime(event.startedAt)}</TD>
            </TR>
          ))}
        </TBody>
      </Table>
    </div>
  );
}
