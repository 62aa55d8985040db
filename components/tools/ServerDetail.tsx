"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState, type ReactNode } from "react";
import {
  Badge,
  Button,
  Card,
  CardBody,
  CardHeader,
  EmptyState,
  IconAlertTriangle,
  PageHeader,
  Select,
  Spinner,
  Table,
  TBody,
  TD,
  TH,
  THead,
  TR,
  useToast,
} from "@/components/ui";
import { cn } from "@/lib/cn";
import { formatDateTime, formatRelative } from "@/lib/format";
import { hasScope } from "@/lib/scopes";
import { messageOf, useTRPC } from "@/lib/trpc";
import { ServerFormDialog } from "./ServerFormDialog";
import { ToolReviewDialog } from "./ToolReviewDialog";
import {
  formatBytes,
  formatMs,
  fullCommandLine,
  IconRefresh,
  parametersOf,
  RISK_HINTS,
  RISK_LABELS,
  RISKS,
  ServerStatusBadge,
  ToolRiskBadge,
  ToolStatusBadge,
  TransportBadge,
  type Risk,
  type ToolRow,
  type ToolServerDetail,
} from "./shared";

export function ServerDetail({ serverId }: { serverId: string }) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const { toast } = useToast();
  const me = useQuery(trpc.me.get.queryOptions());
  const server = useQuery(trpc.tools.byId.queryOptions({ id: serverId }));
  const canManage = hasScope(me.data, "tools:manage");
  const [editing, setEditing] = useState(false);
  const invalidate = () => queryClient.invalidateQueries({ queryKey: trpc.tools.pathKey() });

  const refresh = useMutation(
    trpc.tools.refresh.mutationOptions({
      onSuccess: (result) => {
        if (!result.ok) toast({ title: `Could not reach “${result.server.name}”`, description: result.error ?? undefined, tone: "danger" });
        else {
          const changes = result.added.length + result.changed.length + result.removed.length;
          toast({
            title: `“${result.server.name}” is connected`,
            description: changes === 0 ? `No changes: ${result.server.toolCounts.offered} tools.` : `${result.added.length} new, ${result.changed.length} changed, ${result.removed.length} removed.`,
            tone: result.changed.length > 0 ? "warning" : "success",
          });
        }
      },
      onError: (error) => toast({ title: "Refresh failed", description: messageOf(error), tone: "danger" }),
      onSettled: invalidate,
    }),
  );
  const setEnabled = useMutation(
    trpc.tools.setEnabled.mutationOptions({
      onSuccess: (updated) => toast({ title: updated.status === "DISABLED" ? `Disabled “${updated.name}”` : `Enabled “${updated.name}”`, tone: "success" }),
      onError: (error) => toast({ title: "Could not change the server", description: messageOf(error), tone: "danger" }),
      onSettled: invalidate,
    }),
  );
  const remove = useMutation(
    trpc.tools.delete.mutationOptions({
      onSuccess: async (deleted) => {
        toast({ title: `Deleted “${deleted.name}”`, description: "Its tools were taken away from every agent.", tone: "success" });
        await invalidate();
        router.push("/tools");
      },
      onError: (error) => toast({ title: "Could not delete the server", description: messageOf(error), tone: "danger" }),
    }),
  );

  if (server.isPending) return <Spinner label="Loading the tool server" showLabel />;
  if (server.isError) {
    return (
      <EmptyState
        title="Tool server not found"
        description={messageOf(server.error)}
        action={<Link href="/tools" className="text-sm font-medium text-accent-700 hover:underline">Back to tools</Link>}
      />
    );
  }
  const data = server.data;
  const disabled = data.status === "DISABLED";

  return (
    <div className="space-y-6">
      <PageHeader
        eyebrow={<Link href="/tools" className="hover:underline">Tools</Link>}
        title={
          <span className="flex items-center gap-2.5">
            {data.name}
            <TransportBadge transport={data.transport} />
            <ServerStatusBadge status={data.status} />
          </span>
        }
        description={`${data.toolCounts.offered} tools · last connected ${data.lastConnectedAt ? formatRelative(data.lastConnectedAt) : "never"}`}
        actions={
          canManage ? (
            <>
              <Button icon={<IconRefresh />} loading={refresh.isPending} disabled={disabled} onClick={() => refresh.mutate({ id: data.id })}>
                {refresh.isPending ? "Connecting…" : "Refresh"}
              </Button>
              <Button onClick={() => setEditing(true)}>Edit</Button>
              <Button
                variant="ghost"
                loading={setEnabled.isPending}
                onClick={() => {
                  if (disabled || window.confirm(`Disable “${data.name}”? Agents lose all of its tools until it is enabled again.`)) {
                    setEnabled.mutate({ id: data.id, enabled: disabled });
                  }
                }}
              >
                {disabled ? "Enable" : "Disable"}
              </Button>
              <Button
                variant="ghost"
                className="text-danger-700 hover:bg-danger-50 hover:text-danger-800"
                loading={remove.isPending}
                onClick={() => {
                  if (window.confirm(`Delete “${data.name}” and its ${data.toolCounts.offered} tools? Agents that use them lose them at once.`)) remove.mutate({ id: data.id });
                }}
              >
                Delete
              </Button>
            </>
          ) : null
        }
      />

      {data.status === "ERROR" && data.lastError ? (
        <Callout tone="danger" title="Switchboard could not reach this server">
          <p>{data.lastError}</p>
          <p className="mt-1 text-danger-700/80">Agents cannot use its tools until a refresh succeeds. Check the command or URL and its secrets, then refresh.</p>
        </Callout>
      ) : null}
      {data.toolCounts.pendingReview > 0 ? (
        <Callout tone="warning" title={`${data.toolCounts.pendingReview} ${data.toolCounts.pendingReview === 1 ? "tool changed its" : "tools changed their"} definition since approval`}>
          A server may not change what a tool does under an agent&apos;s feet: changed tools are held and cannot be called until an admin reviews the
          new definition. Use <span className="font-medium">Review change</span> on the tool to see what changed and approve it.
        </Callout>
      ) : null}

      <Connection server={data} />
      <ToolsTable tools={data.tools} canManage={canManage} />
      {canManage ? <ServerFormDialog open={editing} onClose={() => setEditing(false)} server={data} /> : null}
    </div>
  );
}

function Callout({ tone, title, children }: { tone: "danger" | "warning"; title: string; children: ReactNode }) {
  return (
    <div
      role={tone === "danger" ? "alert" : "status"}
      className={cn(
        "flex gap-3 rounded-lg border px-4 py-3 text-sm",
        tone === "danger" ? "border-danger-200 bg-danger-50 text-danger-800" : "border-warning-200 bg-warning-50 text-warning-800",
      )}
    >
      <IconAlertTriangle className="mt-0.5 size-4 shrink-0" />
      <div>
        <p className="font-medium">{title}</p>
        <div className="mt-0.5">{children}</div>
      </div>
    </div>
  );
}

function Connection({ server }: { server: ToolServerDetail }) {
  const refs = server.transport === "STDIO" ? server.envSecrets : server.headerSecrets;
  return (
    <Card>
      <CardHeader title="Connection" description={server.transport === "STDIO" ? "Started by Switchboard as a local process; one process is shared by all runs." : "A remote server reached over Streamable HTTP."} />
      <CardBody>
        <dl className="grid gap-x-6 gap-y-4 text-sm sm:grid-cols-[10rem_1fr]">
          <dt className="text-fg-subtle">{server.transport === "STDIO" ? "Command" : "URL"}</dt>
          <dd>
            <code className="block rounded-md bg-gray-50 px-2.5 py-1.5 font-mono text-xs leading-5 break-all text-fg ring-1 ring-border ring-inset">
              {server.transport === "STDIO" ? fullCommandLine(server.command, server.args) : server.url}
            </code>
          </dd>
          <dt className="text-fg-subtle">{server.transport === "STDIO" ? "Environment" : "Headers"}</dt>
          <dd>
            {Object.keys(refs).length === 0 ? (
              <span className="text-fg-subtle">none from secrets</span>
            ) : (
              <ul className="flex flex-wrap gap-1.5">
                {Object.entries(refs).map(([key, secret]) => (
                  <li key={key}>
                    <code className="rounded bg-gray-50 px-1.5 py-0.5 text-xs ring-1 ring-border ring-inset">
                      {key} ← <span className="text-accent-700">secret “{secret}”</span>
                    </code>
                  </li>
                ))}
              </ul>
            )}
          </dd>
          <dt className="text-fg-subtle">Limits</dt>
          <dd>
            Calls time out after <span className="font-medium">{formatMs(server.callTimeoutMs)}</span>; results over{" "}
            <span className="font-medium">{formatBytes(server.maxResultBytes)}</span> are cut.
          </dd>
          <dt className="text-fg-subtle">Registered</dt>
          <dd>{formatDateTime(server.createdAt)}</dd>
        </dl>
      </CardBody>
    </Card>
  );
}

function ToolsTable({ tools, canManage }: { tools: ToolRow[]; canManage: boolean }) {
  const offered = tools.filter((t) => t.status !== "DISABLED");
  const removed = tools.filter((t) => t.status === "DISABLED");
  if (tools.length === 0) {
    return <EmptyState title="No tools discovered" description="Refresh the server to ask it which tools it offers." />;
  }
  return (
    <section aria-labelledby="tools-heading" className="space-y-3">
      <div className="flex items-baseline justify-between">
        <h2 id="tools-heading" className="text-sm font-semibold text-gray-950">Tools</h2>
        <p className="text-xs text-fg-subtle">
          <span className="font-medium text-fg-muted">Risk</span> decides what policy asks for ·{" "}
          <span className="font-medium text-fg-muted">Idempotent</span> tools are re-run after a crash; others wait for a person
        </p>
      </div>
      <Table containerClassName="rounded-lg border border-border bg-surface shadow-card" caption="Tools">
        <THead>
          <TR>
            <TH className="w-[48%]">Tool</TH>
            <TH>Risk</TH>
            <TH>Idempotent</TH>
            <TH>Status</TH>
          </TR>
        </THead>
        <TBody>
          {[...offered, ...removed].map((tool) => (
            <ToolRowView key={tool.id} tool={tool} canManage={canManage} />
          ))}
        </TBody>
      </Table>
    </section>
  );
}

function ToolRowView({ tool, canManage }: { tool: ToolRow; canManage: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { toast } = useToast();
  const classify = useMutation(
    trpc.tools.classify.mutationOptions({
      onError: (error) => toast({ title: `Could not classify ${tool.name}`, description: messageOf(error), tone: "danger" }),
      onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.tools.pathKey() }),
    }),
  );
  const [reviewing, setReviewing] = useState(false);
  const params = parametersOf(tool.inputSchema);
  const pending = tool.status === "PENDING_REVIEW";
  const removed = tool.status === "DISABLED";
  const risk = classify.isPending ? (classify.variables.risk ?? null) : tool.risk;
  const idempotent = classify.isPending ? classify.variables.idempotent : tool.idempotent;

  return (
    <TR className={cn("align-top", pending && "bg-warning-50/70 hover:bg-warning-50!", removed && "opacity-60")}>
      <TD className="py-3">
        <div className="flex items-center gap-2">
          <code className="text-[13px] font-semibold text-fg">{tool.name}</code>
          {pending ? <Badge tone="warning">definition changed {formatRelative(tool.updatedAt)}</Badge> : null}
          {pending ? (
            <Button size="sm" variant={canManage ? "primary" : "secondary"} onClick={() => setReviewing(true)} className="ml-auto">
              Review change
            </Button>
          ) : null}
        </div>
        {pending ? <ToolReviewDialog toolId={tool.id} toolName={tool.name} open={reviewing} onClose={() => setReviewing(false)} canManage={canManage} /> : null}
        {tool.description ? <p className="mt-1 line-clamp-2 max-w-xl text-xs leading-5 text-fg-muted" title={tool.description}>{tool.description}</p> : null}
        {params.length > 0 ? (
          <div className="mt-1.5 flex flex-wrap gap-1">
            {params.slice(0, 6).map((param) => (
              <span key={param.name} className="rounded bg-gray-100 px-1.5 py-px font-mono text-[11px] text-fg-muted">
                {param.name}
                {param.required ? <span className="text-danger-600">*</span> : null}
                <span className="text-fg-subtle">: {param.type}</span>
              </span>
            ))}
            {params.length > 6 ? <span className="text-[11px] text-fg-subtle">+{params.length - 6} more</span> : null}
          </div>
        ) : null}
      </TD>
      <TD className="py-3">
        {canManage && !removed ? (
          <Select
            aria-label={`Risk of ${tool.name}`}
            value={risk ?? ""}
            disabled={classify.isPending}
            onChange={(event) => classify.mutate({ toolId: tool.id, risk: (event.target.value || null) as Risk | null, idempotent })}
            className={cn("max-w-40", !risk && "border-dashed text-fg-muted")}
            title={risk ? RISK_HINTS[risk] : "Unclassified tools cannot be called."}
          >
            <option value="">Unclassified</option>
            {RISKS.map((r) => (
              <option key={r} value={r}>{RISK_LABELS[r]}</option>
            ))}
          </Select>
        ) : (
          <ToolRiskBadge risk={tool.risk} />
        )}
      </TD>
      <TD className="py-3">
        {canManage && !removed ? (
          <label className="mt-1.5 inline-flex items-center gap-2 text-sm text-fg">
            <input
              type="checkbox"
              checked={idempotent}
              disabled={classify.isPending}
              onChange={(event) => classify.mutate({ toolId: tool.id, risk, idempotent: event.target.checked })}
              className="size-3.5 accent-accent-600"
            />
            {idempotent ? "Yes" : "No"}
          </label>
        ) : (
          <span className="text-sm text-fg-muted">{tool.idempotent ? "Yes" : "No"}</span>
        )}
      </TD>
      <TD className="py-3">
        <div className={cn(canManage && !removed && "mt-1.5")}>
          <ToolStatusBadge status={tool.status} />
        </div>
      </TD>
    </TR>
  );
}
