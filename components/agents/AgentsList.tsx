"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { buttonStyles, EmptyState, IconAgents, IconPlus, PageHeader, Spinner, Table, TBody, TD, TH, THead, TR } from "@/components/ui";
import { formatRelative } from "@/lib/format";
import { hasScope } from "@/lib/scopes";
import { messageOf, useTRPC } from "@/lib/trpc";
import { AgentStatusBadge } from "./shared";

export function AgentsList() {
  const trpc = useTRPC();
  const [includeArchived, setIncludeArchived] = useState(false);
  const me = useQuery(trpc.me.get.queryOptions());
  const agents = useQuery(trpc.agents.list.queryOptions({ includeArchived }));
  const canWrite = hasScope(me.data, "agents:write");
  const newAgent = canWrite ? (
    <Link href="/agents/new" className={buttonStyles({ variant: "primary" })}>
      <IconPlus />
      New agent
    </Link>
  ) : null;

  return (
    <div className="space-y-6">
      <PageHeader
        title="Agents"
        description="The agents of your organisation: their instructions, model, tools and limits."
        actions={newAgent}
      />
      <label className="flex w-fit items-center gap-2 text-sm text-fg-muted">
        <input type="checkbox" checked={includeArchived} onChange={(event) => setIncludeArchived(event.target.checked)} className="size-3.5 accent-accent-600" />
        Show archived agents
      </label>
      {agents.isPending ? (
        <Spinner label="Loading agents" showLabel />
      ) : agents.isError ? (
        <p role="alert" className="text-sm text-danger-700">{messageOf(agents.error)}</p>
      ) : agents.data.length === 0 ? (
        <EmptyState
          icon={<IconAgents />}
          title={includeArchived ? "No agents yet" : "No active agents"}
          description={
            canWrite
              ? "Create an agent: give it instructions, a model, the tools it may use and the limits it runs within."
              : "Nobody has created an agent yet. Admins and owners can."
          }
          action={newAgent}
        />
      ) : (
        <Table containerClassName="rounded-lg border border-border bg-surface shadow-card" caption="Agents">
          <THead>
            <TR><TH>Name</TH><TH>Slug</TH><TH>Model</TH><TH numeric>Version</TH><TH>Status</TH><TH>Updated</TH></TR>
          </THead>
          <TBody>
            {agents.data.map((agent) => (
              <TR key={agent.id} className="relative">
                <TD>
                  <Link href={`/agents/${agent.id}`} className="font-medium text-fg after:absolute after:inset-0 hover:text-accent-700">
                    {agent.name}
                  </Link>
                  {agent.description ? <span className="block max-w-md truncate text-xs text-fg-subtle">{agent.description}</span> : null}
                </TD>
                <TD><code className="text-xs">{agent.slug}</code></TD>
                <TD muted>{agent.currentVersion?.modelConfig.name ?? "—"}</TD>
                <TD numeric>{agent.currentVersion ? `v${agent.currentVersion.version}` : "—"}</TD>
                <TD><AgentStatusBadge status={agent.status} /></TD>
                <TD muted>{formatRelative(agent.updatedAt)}</TD>
              </TR>
            ))}
          </TBody>
        </Table>
      )}
    </div>
  );
}
