"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { EmptyState, IconRuns, PageHeader, Spinner, Table, TBody, TD, TH, THead, TR } from "@/components/ui";
import { formatRelative, formatUsd } from "@/lib/format";
import { messageOf, useTRPC } from "@/lib/trpc";
import { RunStatusBadge } from "./RunStatusBadge";

export function RunsList() {
  const trpc = useTRPC();
  const runs = useQuery(trpc.runs.list.queryOptions({ limit: 50 }));
  return (
    <div className="space-y-6">
      <PageHeader title="Runs" description="Every run of every agent, newest first." />
      {runs.isPending ? (
        <Spinner label="Loading runs" showLabel />
      ) : runs.isError ? (
        <p role="alert" className="text-sm text-danger-700">{messageOf(runs.error)}</p>
      ) : runs.data.items.length === 0 ? (
        <EmptyState
          icon={<IconRuns />}
          title="No runs yet"
          description="Runs appear here as soon as an agent is started from the console or the REST API."
        />
      ) : (
        <Table containerClassName="rounded-lg border border-border bg-surface shadow-card" caption="Runs">
          <THead>
            <TR>
              <TH>Run</TH>
              <TH>Agent</TH>
              <TH>Status</TH>
              <TH>On behalf of</TH>
              <TH numeric>Cost</TH>
              <TH>Started</TH>
            </TR>
          </THead>
          <TBody>
            {runs.data.items.map((run) => (
              <TR key={run.id}>
                <TD>
                  <Link href={`/runs/${run.id}`} className="font-mono text-xs text-accent-700 hover:underline">
                    {run.id.slice(-8)}
                  </Link>
                </TD>
                <TD>{run.agent.name}</TD>
                <TD><RunStatusBadge status={run.status} /></TD>
                <TD muted>{run.onBehalfOf.email}</TD>
                <TD numeric>{formatUsd(run.costMicros)}</TD>
                <TD muted>{formatRelative(run.createdAt)}</TD>
              </TR>
            ))}
          </TBody>
        </Table>
      )}
    </div>
  );
}
