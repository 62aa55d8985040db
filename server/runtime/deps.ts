import type { Db } from "../db";
import { loadAgentVersionForRun } from "../domain/agents/run-config";
import { loadAgentTools } from "../domain/tools/tools";
import { runtimeSecrets } from "../env";
import { loadRedactor } from "../domain/guards/redact";
import { createKernelObserver } from "../observability/observer";
import type { KernelDeps, KernelObserver } from "./kernel-deps";
import type { ServerConnectionSpec } from "./mcp/types";
import { getMcpPool, type McpClientPool } from "./mcp/pool";
import { callModel } from "./models";
import { coalescePerTurn } from "./coalesce";

/**
 * The production wiring of the agent loop: agents and tools from the database, models through the LangChain
 * gateway, tools through the process-wide MCP client pool (one stdio process per server, reused across runs).
 */
export function createKernelDeps(db: Db, options: { pool?: McpClientPool; encryptionKey?: Buffer; observer?: KernelObserver & { flush(): Promise<void> } } = {}): KernelDeps & { close(): Promise<void> } {
  const encryptionKey = options.encryptionKey ?? runtimeSecrets().encryptionKey;
  const pool = options.pool ?? getMcpPool();
  // toolId → how to reach its server, filled by loadTools for the callTool that follows in the same run.
  const specs = new Map<string, ServerConnectionSpec>();
  // Metrics into this process's registry; run traces to OTEL_EXPORTER_OTLP_ENDPOINT when it is set.
  const observer = options.observer ?? createKernelObserver(db);
  return {
    db,
    observer,
    // Runs taken up together read their agent, tools and redaction rules once (see coalescePerTurn).
    loadAgent: coalescePerTurn(async (orgId: string, agentVersionId: string) => {
      const loaded = await loadAgentVersionForRun(db, orgId, agentVersionId, encryptionKey);
      if (loaded.agent.status !== "ACTIVE") throw new Error(`Agent "${loaded.agent.slug}" is ${loaded.agent.status.toLowerCase()}.`);
      return {
        agentId: loaded.agent.id,
        slug: loaded.agent.slug,
        instructions: loaded.version.instructions,
        config: loaded.version.config,
        model: loaded.model,
        fallback: loaded.fallback,
      };
    }),
    loadTools: coalescePerTurn(async (orgId: string, agentId: string) => {
      const tools = await loadAgentTools(db, orgId, agentId, { encryptionKey });
      return tools.map((tool) => {
        specs.set(tool.toolId, tool.server);
        return {
          toolId: tool.toolId,
          modelName: tool.modelName,
          serverToolName: tool.name,
          serverName: tool.server.name,
          description: tool.description,
          inputSchema: tool.inputSchema,
          idempotent: tool.idempotent,
          risk: tool.risk,
        };
      });
    }),
    loadDelegates: (orgId, agentIds) =>
      agentIds.length === 0
        ? Promise.resolve([])
        : db.agent.findMany({ where: { orgId, id: { in: [...agentIds] }, status: { not: "ARCHIVED" } }, select: { id: true, slug: true, name: true, description: true }, orderBy: { slug: "asc" } }),
    callModel: (primary, fallback, input) => callModel(primary, fallback, input),
    loadRedactor: coalescePerTurn((orgId: string) => loadRedactor(db, orgId, encryptionKey)),
    async callTool(_orgId, tool, args, { signal, idempotencyKey }) {
      // executeRun always loads the agent's tools before calling one, so the spec is known here.
      const spec = specs.get(tool.toolId);
      if (!spec) throw new Error(`The tool "${tool.modelName}" is no longer granted.`);
      return pool.callTool(spec, tool.serverToolName, args, { signal, idempotencyKey });
    },
    close: async () => {
      await observer.flush(); // the last runs' traces leave before the process does
      if (!options.pool) await pool.closeAll();
    },
  };
}
