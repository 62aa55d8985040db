"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { Badge, Button, EmptyState, IconPlus, IconTools, PageHeader, Spinner, Table, TBody, TD, TH, THead, TR, useToast } from "@/components/ui";
import { formatRelative } from "@/lib/format";
import { hasScope } from "@/lib/scopes";
import { messageOf, useTRPC } from "@/lib/trpc";
import { SecretsPanel } from "./SecretsPanel";
import { ServerFormDialog } from "./ServerFormDialog";
import { conciseError, fullCommandLine, IconRefresh, ServerStatusBadge, shortCommandLine, TransportBadge, type ToolServerRow } from "./shared";

export function ToolServersView() {
  const trpc = useTRPC();
  const me = useQuery(trpc.me.get.queryOptions());
  const servers = useQuery(trpc.tools.list.queryOptions());
  const canManage = hasScope(me.data, "tools:manage");
  const canManageSecrets = hasScope(me.data, "secrets:manage");
  const [registering, setRegistering] = useState(false);

  const registerButton = canManage ? (
    <Button variant="primary" icon={<IconPlus />} onClick={() => setRegistering(true)}>
      Register server
    </Button>
  ) : null;

  return (
    <div className="space-y-8">
      <div className="space-y-5">
        <PageHeader
          title="Tools"
          description="MCP servers give agents their tools. A tool must be classified by risk before policy lets an agent call it, and a tool whose definition changes waits for review."
          actions={registerButton}
        />
        {servers.isPending ? (
          <Spinner label="Loading tool servers" showLabel />
        ) : servers.isError ? (
          <p role="alert" className="text-sm text-danger-700">{messageOf(servers.error)}</p>
        ) : servers.data.length === 0 ? (
          <EmptyState
            icon={<IconTools />}
            title="No tool servers yet"
            description={
              canManage
                ? "Register an MCP server — a local command or a remote URL — and Switchboard discovers the tools it offers."
                : "Nobody has registered a tool server yet. Admins and owners can."
            }
            action={registerButton}
          />
        ) : (
          <>
            <Summary servers={servers.data} />
            <ServersTable servers={servers.data} canManage={canManage} />
          </>
        )}
      </div>
      {canManageSecrets ? <SecretsPanel /> : null}
      <ServerFormDialog open={registering} onClose={() => setRegistering(false)} />
    </div>
  );
}

function Summary({ servers }: { servers: ToolServerRow[] }) {
  const total = (pick: (s: ToolServerRow) => number) => servers.reduce((sum, s) => sum + pick(s), 0);
  const stats = [
    { label: "Servers", value: servers.length, detail: `${servers.filter((s) => s.status === "CONNECTED").length} connected` },
    { label: "Tools", value: total((s) => s.toolCounts.offered), detail: `${total((s) => s.toolCounts.active)} active` },
    { label: "Unclassified", value: total((s) => s.toolCounts.unclassified), detail: "not callable yet", warn: false },
    { label: "Need review", value: total((s) => s.toolCounts.pendingReview), detail: "definition changed", warn: total((s) => s.toolCounts.pendingReview) > 0 },
  ];
  return (
    <dl className="grid grid-cols-2 gap-3 sm:grid-cols-4">
      {stats.map((stat) => (
        <div key={stat.label} className={`rounded-lg border bg-surface px-4 py-3 shadow-card ${stat.warn ? "border-warning-300 bg-warning-50/50" : "border-border"}`}>
          <dt className="text-xs font-medium text-fg-muted">{stat.label}</dt>
          <dd className="mt-1 flex items-baseline gap-2">
            <span className={`text-xl font-semibold tabular-nums ${stat.warn ? "text-warning-800" : "text-gray-950"}`}>{stat.value}</span>
            <span className="text-xs text-fg-subtle">{stat.detail}</span>
          </dd>
        </div>
      ))}
    </dl>
  );
}

function ServersTable({ servers, canManage }: { servers: ToolServerRow[]; canManage: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { toast } = useToast();
  const [refreshingId, setRefreshingId] = useState<string | null>(null);
  const refresh = useMutation(
    trpc.tools.refresh.mutationOptions({
      onMutate: ({ id }) => setRefreshingId(id),
      onSettled: async () => {
        setRefreshingId(null);
        await queryClient.invalidateQueries({ queryKey: trpc.tools.pathKey() });
      },
      onSuccess: (result) => {
        if (!result.ok) {
          toast({ title: `Could not reach “${result.server.name}”`, description: result.error ?? undefined, tone: "danger" });
          return;
        }
        const parts = [
          result.added.length > 0 ? `${result.added.length} new` : null,
          result.changed.length > 0 ? `${result.changed.length} changed` : null,
          result.removed.length > 0 ? `${result.removed.length} removed` : null,
        ].filter(Boolean);
        toast({
          title: `“${result.server.name}” is connected`,
          description: parts.length > 0 ? `${parts.join(", ")}. ${result.server.toolCounts.offered} tools in all.` : `No changes: ${result.server.toolCounts.offered} tools.`,
          tone: result.changed.length > 0 ? "warning" : "success",
        });
      },
      onError: (error) => toast({ title: "Refresh failed", description: messageOf(error), tone: "danger" }),
    }),
  );

  return (
    <Table containerClassName="rounded-lg border border-border bg-surface shadow-card" caption="Tool servers">
      <THead>
        <TR>
          <TH>Server</TH>
          <TH>Status</TH>
          <TH numeric>Tools</TH>
          <TH>Last connected</TH>
          {canManage ? <TH><span className="sr-only">Actions</span></TH> : null}
        </TR>
      </THead>
      <TBody>
        {servers.map((server) => {
          const target = server.transport === "HTTP" ? (server.url ?? "") : shortCommandLine(server.command, server.args);
          const full = server.transport === "HTTP" ? (server.url ?? "") : fullCommandLine(server.command, server.args);
          const busy = refreshingId === server.id;
          return (
            <TR key={server.id} className="relative align-top">
              <TD className="py-3">
                <div className="flex items-center gap-2">
                  <Link href={`/tools/${server.id}`} className="font-medium text-fg after:absolute after:inset-0 hover:text-accent-700">
                    {server.name}
                  </Link>
                  <TransportBadge transport={server.transport} />
                </div>
                <code title={full} className="mt-1 block max-w-md truncate text-xs text-fg-subtle">{target}</code>
              </TD>
              <TD className="py-3">
                {busy ? <Spinner size="sm" label="Connecting…" showLabel /> : <ServerStatusBadge status={server.status} />}
                {server.status === "ERROR" && server.lastError && !busy ? (
                  <p title={server.lastError} className="mt-1 line-clamp-2 max-w-xs text-xs text-danger-700">{conciseError(server.lastError, server)}</p>
                ) : null}
              </TD>
              <TD numeric className="py-3">
                <span className="font-medium">{server.toolCounts.offered}</span>
                <div className="mt-1 flex flex-wrap justify-end gap-1">
                  {server.toolCounts.pendingReview > 0 ? <Badge tone="warning">{server.toolCounts.pendingReview} need review</Badge> : null}
                  {server.toolCounts.unclassified > 0 ? <Badge tone="neutral">{server.toolCounts.unclassified} unclassified</Badge> : null}
                </div>
              </TD>
              <TD muted className="py-3 whitespace-nowrap">{server.lastConnectedAt ? formatRelative(server.lastConnectedAt) : "never"}</TD>
              {canManage ? (
                <TD className="relative z-10 py-3 text-right">
                  <Button
                    size="sm"
                    icon={<IconRefresh />}
                    disabled={server.status === "DISABLED" || refresh.isPending}
                    loading={busy}
                    onClick={() => refresh.mutate({ id: server.id })}
                  >
                    Refresh
                  </Button>
                </TD>
              ) : null}
            </TR>
          );
        })}
      </TBody>
    </Table>
  );
}
