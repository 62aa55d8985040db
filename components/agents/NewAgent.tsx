"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { EmptyState, IconAgents, PageHeader, Spinner, useToast } from "@/components/ui";
import { messageOf, useTRPC } from "@/lib/trpc";
import { AgentForm, type AgentFormValues } from "./AgentForm";

export function NewAgent() {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const { toast } = useToast();
  const models = useQuery(trpc.models.list.queryOptions());
  const tools = useQuery(trpc.agents.grantableTools.queryOptions());
  const create = useMutation(
    trpc.agents.create.mutationOptions({
      onSuccess: async (saved) => {
        toast({ title: "Agent created", description: `Version 1 of “${saved.slug}” is live.`, tone: "success" });
        await queryClient.invalidateQueries({ queryKey: trpc.agents.list.queryKey() });
        router.push(`/agents/${saved.agentId}`);
      },
    }),
  );

  const header = (
    <PageHeader
      eyebrow={<Link href="/agents" className="hover:underline">Agents</Link>}
      title="New agent"
      description="Instructions, a model, the tools it may use and the limits it runs within. You can change all of it later; every save is kept as a version."
    />
  );

  if (models.isPending || tools.isPending) {
    return (
      <div className="space-y-6">
        {header}
        <Spinner label="Loading models and tools" showLabel />
      </div>
    );
  }
  if (models.isError || tools.isError) {
    return (
      <div className="space-y-6">
        {header}
        <p role="alert" className="text-sm text-danger-700">{messageOf(models.error ?? tools.error)}</p>
      </div>
    );
  }
  if (models.data.length === 0) {
    return (
      <div className="space-y-6">
        {header}
        <EmptyState
          icon={<IconAgents />}
          title="Add a model first"
          description="Every agent runs on a model. An admin adds models (OpenAI, Anthropic, Ollama or the offline scripted one) under Admin → Models."
          action={<Link href="/admin/models" className="text-sm font-medium text-accent-700 hover:underline">Go to models</Link>}
        />
      </div>
    );
  }

  const initial: AgentFormValues = {
    name: "",
    slug: "",
    description: "",
    instructions: "",
    modelConfigId: models.data[0]?.id ?? "",
    fallbackModelConfigId: "",
    maxSteps: "20",
    maxCostUsd: "0",
    timeoutSeconds: "600",
    recallEnabled: true,
    recallTopK: "5",
    rememberTools: false,
    knowledgeTool: false,
    script: "",
    toolIds: [],
    submitDrafts: false,
    delegateAgentIds: [],
  };
  return (
    <div className="space-y-6">
      {header}
      <AgentForm
        mode="create"
        initial={initial}
        models={models.data}
        toolServers={tools.data}
        pending={create.isPending}
        error={create.error}
        submitLabel="Create agent"
        cancelHref="/agents"
        onSubmit={(input) => create.mutate(input)}
      />
    </div>
  );
}
