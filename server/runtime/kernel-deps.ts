import type { Db } from "../db";
import type { Redactor } from "../domain/guards/redact";
import type { AgentVersionConfig } from "../domain/agents/config";
import type { ModelCallInput, ModelCallResult, ModelEndpoint } from "./models/types";

/** A tool as the agent loop sees it: what the model is told, and how to reach the server that runs it. */
export interface KernelTool {
  toolId: string;
  /** The unique name shown to the model. */
  modelName: string;
  /** The name the MCP server knows. */
  serverToolName: string;
  serverName: string;
  description: string;
  inputSchema: Record<string, unknown>;
  idempotent: boolean;
  risk: "READ" | "WRITE" | "EXTERNAL" | null;
  /** Set for tools Switchboard provides itself (see builtins.ts); absent for MCP tools. */
  builtin?:
    | { kind: "submit_draft" }
    | { kind: "delegate"; agentId: string; agentSlug: string }
    | { kind: "remember" }
    | { kind: "recall" }
    | { kind: "search_knowledge" };
}

export interface KernelAgent {
  agentId: string;
  slug: string;
  instructions: string;
  config: AgentVersionConfig;
  model: ModelEndpoint;
  fallback: ModelEndpoint | null;
}

export interface ToolResult {
  content: string;
  isError: boolean;
  truncated: boolean;
  bytes: number;
}

/** A trace event that just became OK or ERROR, as the kernel's observer sees it (metrics; never the run's state). */
export interface ObservedEvent {
  type: string;
  name: string;
  status: "OK" | "ERROR";
  payload: unknown;
  /** Unknown for an event started by an earlier worker and completed by this one. */
  startedAt?: Date;
  endedAt: Date;
  inputTokens: number;
  outputTokens: number;
  costMicros: number;
}

/**
 * Told what the kernel does, for metrics and trace export. Implementations must never throw nor block: a run's
 * progress never depends on observability.
 */
export interface KernelObserver {
  eventEnded(event: ObservedEvent): void;
  /** The worker stopped driving a run (it ended, parked, or was let go); `since` is when this worker claimed it. */
  runDriven(run: { runId: string; orgId: string; since: Date }): void;
}

/**
 * Everything the agent loop needs from the outside world, injected so the loop can be tested with real parts
 * swapped at the edges (a scripted model, a local MCP server) and hosted by any worker.
 */
export interface KernelDeps {
  db: Db;
  loadAgent(orgId: string, agentVersionId: string): Promise<KernelAgent>;
  loadTools(orgId: string, agentId: string): Promise<KernelTool[]>;
  /** Agents a version may delegate to, as they are now (archived ones are left out). */
  loadDelegates(orgId: string, agentIds: readonly string[]): Promise<{ id: string; slug: string; name: string; description: string }[]>;
  callModel(primary: ModelEndpoint, fallback: ModelEndpoint | null, input: ModelCallInput): Promise<ModelCallResult>;
  /** The org's redaction rules (settings + stored secret values), loaded once per run. */
  loadRedactor(orgId: string): Promise<Redactor>;
  callTool(orgId: string, tool: KernelTool, args: Record<string, unknown>, options: { signal: AbortSignal; idempotencyKey: string }): Promise<ToolResult>;
  /** Metrics and trace export (server/observability); absent in tests that do not look at them. */
  observer?: KernelObserver;
}
