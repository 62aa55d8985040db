"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import type { ReactNode } from "react";
import {
  Badge,
  Button,
  buttonStyles,
  Card,
  CardBody,
  CardHeader,
  EmptyState,
  IconAlertTriangle,
  PageHeader,
  Spinner,
  Table,
  TBody,
  TD,
  TH,
  THead,
  TR,
  useToast,
} from "@/components/ui";
import { ProviderBadge } from "@/components/models/ProviderBadge";
import { formatDuration } from "@/components/models/units";
import { formatDateTime, formatRelative, formatUsd } from "@/lib/format";
import { hasScope } from "@/lib/scopes";
import { messageOf, useTRPC } from "@/lib/trpc";
import { AgentTriggers } from "./AgentTriggers";
import { AgentStatusBadge, errorCodeOf, ToolRiskBadge } from "./shared";

type StatusAction = "archive" | "restore" | "disable" | "enable";

const CONFIRM: Partial<Record<StatusAction, string>> = {
  disable: "Disable this agent? It stays listed but starts no new runs until enabled again.",
  archive: "Archive this agent? It is hidden from lists and starts no new runs. Its versions and history are kept, and you can restore it.",
};

export function AgentDetail({ agentId }: { agentId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { toast } = useToast();
  const me = useQuery(trpc.me.get.queryOptions());
  const agent = useQuery(trpc.agents.byId.queryOptions({ id: agentId }));
  const versions = useQuery(trpc.agents.versions.queryOptions({ id: agentId }));
  const canWrite = hasScope(me.data, "agents:write");

  const onStatusChanged = {
    onSuccess: async (updated: { name: string; status: string }) => {
      toast({ title: `“${updated.name}” is now ${updated.status.toLowerCase()}`, tone: "success" });
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: trpc.agents.byId.queryKey({ id: agentId }) }),
        queryClient.invalidateQueries({ queryKey: trpc.agents.list.queryKey() }),
      ]);
    },
    onError: (error: unknown) => toast({ title: "Could not change the status", description: messageOf(error), tone: "danger" }),
  };
  const mutations = {
    archive: useMutation(trpc.agents.archive.mutationOptions(onStatusChanged)),
    restore: useMutation(trpc.agents.restore.mutationOptions(onStatusChanged)),
    disable: useMutation(trpc.agents.disable.mutationOptions(onStatusChanged)),
    enable: useMutation(trpc.agents.enable.mutationOptions(onStatusChanged)),
  };
  const busy = Object.values(mutations).some((m) => m.isPending);
  const run = (action: StatusAction) => {
    const question = CONFIRM[action];
    if (question && !window.confirm(question)) return;
    // The page may be addressed by slug; mutations and links take the agent's id.
    mutations[action].mutate({ id: agent.data?.id ?? agentId });
  };

  if (agent.isPending) return <Spinner label="Loading the agent" showLabel />;
  if (agent.isError) {
    return (
      <EmptyState
        title={errorCodeOf(agent.error) === "NOT_FOUND" ? "Agent not found" : "Could not load the agent"}
        description={messageOf(agent.error)}
        action={<Link href="/agents" className="text-sm font-medium text-accent-700 hover:underline">Back to agents</Link>}
      />
    );
  }
  const data = agent.data;
  const version = data.currentVersion;

  const actions = canWrite ? (
    <>
      {data.status === "ACTIVE" ? <Button onClick={() => run("disable")} disabled={busy}>Disable</Button> : null}
      {data.status === "DISABLED" ? <Button onClick={() => run("enable")} disabled={busy}>Enable</Button> : null}
      {data.status === "ARCHIVED" ? (
        <Button onClick={() => run("restore")} disabled={busy}>Restore</Button>
      ) : (
        <Button variant="ghost" onClick={() => run("archive")} disabled={busy}>Archive</Button>
      )}
      {data.status !== "ARCHIVED" ? (
        <Link href={`/agents/${data.id}/edit`} className={buttonStyles({ variant: "primary" })}>Edit</Link>
      ) : null}
    </>
  ) : null;

  return (
    <div className="space-y-6">
      <PageHeader
        eyebrow={<Link href="/agents" className="hover:underline">Agents</Link>}
        title={
          <span className="flex flex-wrap items-center gap-2.5">
            {data.name}
            <AgentStatusBadge status={data.status} />
          </span>
        }
        description={
          <>
            <code className="text-xs text-fg-subtle">{data.slug}</code>
            {data.description ? <span className="block">{data.description}</span> : null}
          </>
        }
        actions={actions}
      />

      {data.status !== "ACTIVE" ? (
        <div className="flex items-start gap-2.5 rounded-lg border border-warning-200 bg-warning-50 px-4 py-3 text-sm text-warning-800">
          <IconAlertTriangle className="mt-0.5 shrink-0" />
          <p>
            {data.status === "ARCHIVED"
              ? "Archived: hidden from the agents list and starts no new runs. Restore it to edit or run it again."
              : "Disabled: starts no new runs until someone enables it again."}
          </p>
        </div>
      ) : null}

      {!version ? (
        <EmptyState title="No version yet" description="This agent has never been saved with instructions and a model." />
      ) : (
        <div className="grid items-start gap-6 lg:grid-cols-[minmax(0,1fr)_22rem]">
          <div className="space-y-6">
            <Card>
              <CardHeader
                title="Instructions"
                description={`Version ${version.version} · saved ${formatRelative(version.createdAt)} by ${version.createdBy?.name ?? version.createdBy?.email ?? "setup"}`}
              />
              <CardBody>
                <pre className="max-h-[28rem] overflow-auto font-sans text-sm leading-6 whitespace-pre-wrap text-fg">{version.instructions}</pre>
              </CardBody>
            </Card>
            {version.config.script ? (
              <Card>
                <CardHeader title="Script" description={`${version.config.script.length} turns, replayed by the scripted model.`} />
                <CardBody flush>
                  <pre className="max-h-80 overflow-auto bg-gray-50 px-4 py-3 font-mono text-xs leading-5 break-words whitespace-pre-wrap text-fg">{version.scriptText}</pre>
                </CardBody>
              </Card>
            ) : null}
            <Card>
              <CardHeader title="Tools" description={data.tools.length === 0 ? "This agent may not call any tool." : `${data.tools.length} granted. Policies decide each call.`} />
              {data.tools.length > 0 ? (
                <CardBody flush>
                  <ul className="divide-y divide-border">
                    {data.tools.map((tool) => (
                      <li key={tool.id} className="flex items-start gap-3 px-4 py-2.5">
                        <div className="min-w-0 flex-1">
                          <p className="text-sm">
                            <span className="text-fg-subtle">{tool.server.name} / </span>
                            <code className="font-medium text-fg">{tool.name}</code>
                          </p>
                          {tool.description ? <p className="truncate text-xs text-fg-muted">{tool.description}</p> : null}
                        </div>
                        <ToolRiskBadge risk={tool.risk} />
                        {tool.status !== "ACTIVE" ? <Badge tone="warning">{tool.status.toLowerCase().replace("_", " ")}</Badge> : null}
                      </li>
                    ))}
                  </ul>
                </CardBody>
              ) : null}
            </Card>
            <AgentTriggers agentId={data.id} agentStatus={data.status} editable={canWrite && data.status !== "ARCHIVED"} />
          </div>

          <div className="space-y-6">
            <Card>
              <CardHeader title="Model" />
              <CardBody>
                <Facts>
                  <Fact label="Model">
                    <span className="flex items-center justify-end gap-1.5">{version.modelConfig.name} <ProviderBadge provider={version.modelConfig.provider} /></span>
                  </Fact>
                  <Fact label="Model id"><code className="text-xs">{version.modelConfig.model}</code></Fact>
                  <Fact label="Fallback">{version.fallbackModel ? version.fallbackModel.name : <span className="text-fg-subtle">none</span>}</Fact>
                </Facts>
              </CardBody>
            </Card>
            <Card>
              <CardHeader title="Limits per run" />
              <CardBody>
                <Facts>
                  <Fact label="Max steps">{version.config.limits.maxSteps}</Fact>
                  <Fact label="Max cost">{version.config.limits.maxCostMicros === 0 ? <span className="text-fg-subtle">no cap</span> : formatUsd(version.config.limits.maxCostMicros)}</Fact>
                  <Fact label="Timeout">{formatDuration(version.config.limits.timeoutMs)}</Fact>
                </Facts>
              </CardBody>
            </Card>
            <Card>
              <CardHeader title="Memory" />
              <CardBody>
                <Facts>
                  <Fact label="Recall">{version.config.memory.recallEnabled ? `${version.config.memory.recallTopK} memories per run` : <span className="text-fg-subtle">off</span>}</Fact>
                  <Fact label="Memory tools">
                    {[version.config.memory.remember ? "remember, recall" : null, version.config.memory.knowledge ? "search_knowledge" : null].filter(Boolean).join(", ") || <span className="text-fg-subtle">none</span>}
                  </Fact>
                </Facts>
              </CardBody>
            </Card>
            <Card>
              <CardHeader title="Activity" />
              <CardBody>
                <Facts>
                  <Fact label="Runs">{data.runCount}</Fact>
                  <Fact label="Versions">{data.versionCount}</Fact>
                  <Fact label="Created">{formatDateTime(data.createdAt)}</Fact>
                </Facts>
              </CardBody>
            </Card>
          </div>
        </div>
      )}

      <section aria-labelledby="versions-heading" className="space-y-3">
        <div className="flex items-center justify-between gap-3">
          <h2 id="versions-heading" className="text-sm font-semibold text-gray-950">Versions</h2>
          {versions.data && versions.data.length > 1 ? (
            <Link href={`/agents/${agentId}/versions`} className="text-sm font-medium text-accent-700 hover:underline">Compare versions</Link>
          ) : null}
        </div>
        {versions.isPending ? (
          <Spinner label="Loading versions" showLabel />
        ) : versions.isError ? (
          <p role="alert" className="text-sm text-danger-700">{messageOf(versions.error)}</p>
        ) : (
          <Table containerClassName="rounded-lg border border-border bg-surface shadow-card" caption="Versions">
            <THead>
              <TR><TH>Version</TH><TH>Saved</TH><TH>By</TH><TH>Model</TH><TH numeric>Runs</TH><TH><span className="sr-only">Compare</span></TH></TR>
            </THead>
            <TBody>
              {versions.data.map((v) => (
                <TR key={v.id}>
                  <TD>
                    <span className="font-medium tabular-nums">v{v.version}</span>
                    {v.isCurrent ? <Badge tone="accent" className="ml-2">current</Badge> : null}
                  </TD>
                  <TD muted title={formatDateTime(v.createdAt)}>{formatRelative(v.createdAt)}</TD>
                  <TD muted>{v.createdBy?.name ?? v.createdBy?.email ?? "setup"}</TD>
                  <TD>{v.modelConfig.name}{v.fallbackModel ? <span className="text-fg-subtle"> → {v.fallbackModel.name}</span> : null}</TD>
                  <TD numeric>{v.runCount}</TD>
                  <TD className="text-right">
                    {v.version > 1 ? (
                      <Link href={`/agents/${agentId}/versions?from=${v.version - 1}&to=${v.version}`} className="text-xs font-medium text-accent-700 hover:underline">
                        Changes from v{v.version - 1}
                      </Link>
                    ) : (
                      <span className="text-xs text-fg-subtle">first version</span>
                    )}
                  </TD>
                </TR>
              ))}
            </TBody>
          </Table>
        )}
      </section>
    </div>
  );
}

function Facts({ children }: { children: ReactNode }) {
  return <dl className="space-y-2 text-sm">{children}</dl>;
}

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="flex items-baseline justify-between gap-4">
      <dt className="shrink-0 text-fg-subtle">{label}</dt>
      <dd className="min-w-0 text-right font-medium text-fg tabular-nums">{children}</dd>
    </div>
  );
}
