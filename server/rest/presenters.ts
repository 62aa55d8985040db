import type { z } from "zod";
import type { getAgent } from "../domain/agents/agents";
import type { getApproval } from "../domain/approvals/approvals";
import type { getApiKey } from "../domain/identity/api-keys";
import type { getInboxItem, listInbox } from "../domain/inbox/inbox";
import type { MemoryListItem } from "../domain/memory/memories";
import type { getRun, getRunTrace, listRuns } from "../domain/runs/runs";
import type { AgentResponse, ApiKeyResponse, ApprovalResponse, InboxItemResponse, InboxItemSummary, MemoryResponse, RunResponse } from "./endpoints";

/** Step kinds as the REST API names them: MODEL_CALL → "model", TOOL_CALL → "tool", RUN_STARTED → "run_started". */
export function stepType(type: string): string {
  return type.endsWith("_CALL") ? type.slice(0, -"_CALL".length).toLowerCase() : type.toLowerCase();
}

const iso = (date: Date | null) => (date ? date.toISOString() : null);
export const microsToUsd = (micros: number) => micros / 1_000_000;

export function presentAgent(agent: Awaited<ReturnType<typeof getAgent>>): z.input<typeof AgentResponse> {
  return {
    id: agent.id,
    slug: agent.slug,
    name: agent.name,
    description: agent.description,
    status: agent.status.toLowerCase() as "active" | "disabled" | "archived",
    version: agent.currentVersion?.version ?? null,
    model: agent.currentVersion?.modelConfig.name ?? null,
    createdAt: agent.createdAt.toISOString(),
  };
}

type RunSummary = Awaited<ReturnType<typeof listRuns>>["items"][number];

export function presentRunSummary(run: RunSummary): Omit<z.input<typeof RunResponse>, "steps"> {
  return {
    id: run.id,
    agent: run.agent.slug,
    status: run.status.toLowerCase(),
    input: run.input,
    output: run.output,
    error: run.error,
    usage: { inputTokens: run.inputTokens, outputTokens: run.outputTokens, costUsd: microsToUsd(run.costMicros) },
    createdAt: run.createdAt.toISOString(),
  };
}

export function presentRun(run: Awaited<ReturnType<typeof getRun>>): z.input<typeof RunResponse> {
  return {
    ...presentRunSummary(run),
    steps: run.events.map((event) => ({
      seq: event.seq,
      type: stepType(event.type),
      name: event.name,
      status: event.status.toLowerCase(),
      startedAt: event.startedAt.toISOString(),
      endedAt: iso(event.endedAt),
    })),
  };
}

export function presentApiKey(key: Awaited<ReturnType<typeof getApiKey>>): z.input<typeof ApiKeyResponse> {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    scopes: key.scopes,
    createdAt: key.createdAt.toISOString(),
    lastUsedAt: iso(key.lastUsedAt),
    expiresAt: iso(key.expiresAt),
    revokedAt: iso(key.revokedAt),
  };
}

type TraceEvent = Awaited<ReturnType<typeof getRunTrace>>[number];

export function presentTraceEvent(event: TraceEvent) {
  return {
    seq: event.seq,
    type: stepType(event.type),
    name: event.name,
    status: event.status.toLowerCase(),
    payload: event.payload,
    inputTokens: event.inputTokens,
    outputTokens: event.outputTokens,
    costUsd: microsToUsd(event.costMicros),
    startedAt: event.startedAt.toISOString(),
    endedAt: iso(event.endedAt),
    durationMs: event.endedAt ? event.endedAt.getTime() - event.startedAt.getTime() : null,
  };
}

export function presentApproval(approval: Awaited<ReturnType<typeof getApproval>>): z.input<typeof ApprovalResponse> {
  return {
    id: approval.id,
    runId: approval.runId,
    agent: approval.run.agent.slug,
    onBehalfOf: approval.run.onBehalfOf.email,
    tool: approval.toolName,
    args: approval.args as Record<string, unknown>,
    approvedArgs: (approval.decidedArgs as Record<string, unknown> | null) ?? null,
    reason: approval.reason,
    policy: approval.policy?.name ?? null,
    status: approval.status.toLowerCase(),
    comment: approval.comment,
    decidedBy: approval.decidedBy?.email ?? null,
    createdAt: approval.createdAt.toISOString(),
    expiresAt: approval.expiresAt.toISOString(),
    decidedAt: iso(approval.decidedAt),
  };
}

export function presentInboxSummary(item: Awaited<ReturnType<typeof listInbox>>["items"][number]): z.input<typeof InboxItemSummary> {
  return {
    id: item.id,
    runId: item.runId,
    agent: item.agent.slug,
    kind: item.kind.toLowerCase(),
    title: item.title,
    status: item.status.toLowerCase(),
    revision: item.currentRevision,
    createdAt: item.createdAt.toISOString(),
  };
}

export function presentInboxItem(item: Awaited<ReturnType<typeof getInboxItem>>): z.input<typeof InboxItemResponse> {
  return {
    ...presentInboxSummary(item),
    commitAction: item.commitAction,
    revisions: item.revisions.map((r) => ({
      revision: r.revision,
      title: r.title,
      body: r.body,
      author: r.author === "AGENT" ? "agent" : "human",
      feedback: r.feedback,
      createdAt: r.createdAt.toISOString(),
    })),
    decidedBy: item.decidedBy?.email ?? null,
    decidedAt: iso(item.decidedAt),
  };
}

export function presentMemory(memory: MemoryListItem): z.input<typeof MemoryResponse> {
  return {
    id: memory.id,
    content: memory.content,
    scope: memory.scope.toLowerCase(),
    kind: memory.kind.toLowerCase(),
    pinned: memory.pinned,
    score: memory.score,
    source: { runId: memory.source.runId, eventId: memory.source.eventId, person: memory.source.person?.email ?? null },
    agent: memory.agent?.slug ?? null,
    user: memory.user?.email ?? null,
    createdAt: memory.createdAt.toISOString(),
    expiresAt: iso(memory.expiresAt),
  };
}
