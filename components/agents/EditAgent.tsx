"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { Button, EmptyState, PageHeader, Spinner, useToast } from "@/components/ui";
import { msToSecondsText, microsToUsdText } from "@/components/models/units";
import { messageOf, useTRPC } from "@/lib/trpc";
import { AgentForm, type AgentFormValues } from "./AgentForm";
import { errorCodeOf, type RouterOutputs } from "./shared";

type Editing = RouterOutputs["agents"]["forEditing"];

function formValues(data: Editing): AgentFormValues {
  const version = data.version;
  const config = version?.config;
  return {
    name: data.agent.name,
    slug: data.agent.slug,
    description: data.agent.description,
    instructions: version?.instructions ?? "",
    modelConfigId: version?.modelConfigId ?? data.modelConfigs[0]?.id ?? "",
    fallbackModelConfigId: version?.fallbackModelConfigId ?? "",
    maxSteps: String(config?.limits.maxSteps ?? 20),
    maxCostUsd: microsToUsdText(config?.limits.maxCostMicros ?? 0),
    timeoutSeconds: msToSecondsText(config?.limits.timeoutMs ?? 600_000),
    recallEnabled: config?.memory.recallEnabled ?? true,
    recallTopK: String(config?.memory.recallTopK ?? 5),
    rememberTools: config?.memory.remember ?? false,
    knowledgeTool: config?.memory.knowledge ?? false,
    script: version?.scriptText ?? "",
    toolIds: data.toolIds,
    submitDrafts: config?.submitDrafts ?? false,
    delegateAgentIds: config?.delegateAgentIds ?? [],
  };
}

export function EditAgent({ agentId }: { agentId: string }) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const { toast } = useToast();
  const editing = useQuery(trpc.agents.forEditing.queryOptions({ id: agentId }, { staleTime: 0, refetchOnWindowFocus: false }));
  const tools = useQuery(trpc.agents.grantableTools.queryOptions());
  const update = useMutation(
    trpc.agents.update.mutationOptions({
      onSuccess: async (saved) => {
        toast(
          saved.createdVersion
            ? { title: `Saved version ${saved.version}`, description: "New runs use it from now on.", tone: "success" }
            : { title: "Nothing to save", description: "The agent is unchanged, so no version was written." },
        );
        await Promise.all([
          queryClient.invalidateQueries({ queryKey: trpc.agents.byId.queryKey({ id: agentId }) }),
          queryClient.invalidateQueries({ queryKey: trpc.agents.versions.queryKey({ id: agentId }) }),
          queryClient.invalidateQueries({ queryKey: trpc.agents.list.queryKey() }),
        ]);
        router.push(`/agents/${agentId}`);
      },
    }),
  );

  if (editing.isPending || tools.isPending) return <Spinner label="Loading the agent" showLabel />;
  if (editing.isError || tools.isError) {
    return (
      <EmptyState
        title={errorCodeOf(editing.error) === "NOT_FOUND" ? "Agent not found" : "Could not load the agent"}
        description={messageOf(editing.error ?? tools.error)}
        action={<Link href="/agents" className="text-sm font-medium text-accent-700 hover:underline">Back to agents</Link>}
      />
    );
  }

  const data = editing.data;
  const loadedVersion = data.version?.version ?? 0;
  const conflict = errorCodeOf(update.error) === "CONFLICT";
  const notice = conflict ? (
    <div role="alert" className="flex flex-wrap items-center gap-3 rounded-lg border border-warning-200 bg-warning-50 px-4 py-3 text-sm text-warning-800">
      <div className="min-w-0 flex-1">
        <p className="font-medium">Not saved</p>
        <p className="mt-0.5">{messageOf(update.error)}</p>
      </div>
      <Link
        href={`/agents/${agentId}/versions?from=${loadedVersion}`}
        target="_blank"
        className="text-sm font-medium text-warning-800 underline-offset-2 hover:underline"
      >
        See what changed
      </Link>
      <Button
        size="sm"
        onClick={() => {
          update.reset();
          void editing.refetch();
        }}
      >
        Discard my edits and reload
      </Button>
    </div>
  ) : undefined;

  return (
    <div className="space-y-6">
      <PageHeader
        eyebrow={
          <>
            <Link href="/agents" className="hover:underline">Agents</Link>
            {" / "}
            <Link href={`/agents/${agentId}`} className="hover:underline">{data.agent.name}</Link>
          </>
        }
        title={`Edit ${data.agent.name}`}
        description={
          data.version
            ? `You are editing version ${data.version.version}. Saving creates version ${data.version.version + 1}; nothing changes for runs already started.`
            : "This agent has no version yet; saving creates version 1."
        }
      />
      {data.agent.status === "ARCHIVED" ? (
        <EmptyState title="This agent is archived" description="Restore it from its page before editing it." bordered />
      ) : (
        <AgentForm
          key={loadedVersion}
          mode="edit"
          agentId={agentId}
          initial={formValues(data)}
          models={data.modelConfigs}
          toolServers={tools.data}
          pending={update.isPending}
          error={update.error}
          notice={notice}
          submitLabel={data.version ? `Save as version ${data.version.version + 1}` : "Save"}
          cancelHref={`/agents/${agentId}`}
          onSubmit={(input) => update.mutate({ ...input, agentId, expectedVersion: loadedVersion })}
        />
      )}
    </div>
  );
}
