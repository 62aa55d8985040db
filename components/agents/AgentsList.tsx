"use client";

import { useQuery } from "@tanstack/react-query";
import { Badge, EmptyState, IconAgents, PageHeader, Spinner, Table, TBody, TD, TH, THead, TR } from "@/components/ui";
import { formatRelative } from "@/lib/format";
import { messageOf, useTRPC } from "@/lib/trpc";

export function AgentsList() {
  const trpc = useTRPC();
  const agents = useQuery(trpc.agents.list.queryOptions());
  return (
    <div className="space-y-6">
      <PageHeader title="Agents" description="The agents of your organisation: their instructions, model, tools and limits." />
      {agents.isPending ? (
        <Spinner label="Loading agents" showLabel />
      ) : agents.isError ? (
        <p role="alert" className="text-sm text-danger-700">{messageOf(agents.error)}</p>
      ) : agents.data.length === 0 ? (
        <EmptyState
          icon={<IconAgents />}
          title="No agents yet"
          description="Creating and editing agents is not available in this version yet. Agents will be listed here with their model and current version."
        />
      ) : (
        <Table containerClassName="rounded-lg border border-border bg-surface shadow-card" caption="Agents">
          <THead>
            <TR><TH>Name</TH><TH>Slug</TH><TH>Model</TH><TH numeric>Version</TH><TH>Status</TH><TH>Updated</TH></TR>
          </THead>
          <TBody>
            {agents.data.map((agent) => (
              <TR key={agent.id}>
                <TD>
                  <span className="font-medium text-fg">{agent.name}</span>
                  <span className="block text-xs text-fg-subtle">{agent.description}</span>
                </TD>
                <TD><code className="text-xs">{agent.slug}</code></TD>
                <TD muted>{agent.currentVersion?.modelConfig.name ?? "—"}</TD>
                <TD numeric>{agent.currentVersion?.version ?? "—"}</TD>
                <TD><Badge tone={agent.status === "ACTIVE" ? "success" : "neutral"}>{agent.status.toLowerCase()}</Badge></TD>
                <TD muted>{formatRelative(agent.updatedAt)}</TD>
              </TR>
            ))}
          </TBody>
        </Table>
      )}
    </div>
  );
}
