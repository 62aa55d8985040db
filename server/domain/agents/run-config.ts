import type { DbOrTx } from "@/server/db";
import { NotFound } from "../errors";
import { sqlFor } from "@/server/sql";
import { endpointOf, runtimeModelSql, type ModelEndpointConfig, type StoredModelConfig } from "../models/endpoint";
import { parseAgentVersionConfig, type AgentVersionConfig } from "./config";
import type { AgentStatusName } from "./agents";

export interface AgentVersionForRun {
  agent: { id: string; slug: string; name: string; status: AgentStatusName };
  version: { id: string; version: number; instructions: string; config: AgentVersionConfig };
  model: ModelEndpointConfig;
  fallback: ModelEndpointConfig | null;
}

/**
 * Everything a worker needs to execute a run of a pinned agent version, with model API keys decrypted.
 * No principal: the caller already holds the run, and `orgId` comes from the run row. Does not judge the agent's
 * status (a DISABLED or ARCHIVED agent is returned as such; the runtime decides). Throws NotFound for a version
 * outside `orgId`, a ZodError when the stored config no longer parses, and SecretUnreadableError when a key
 * cannot be decrypted. The agent's tools — its grants as they are now, not as the version saved them — come from
 * loadAgentTools (server/domain/tools/tools.ts).
 */
export async function loadAgentVersionForRun(
  db: DbOrTx,
  orgId: string,
  agentVersionId: string,
  encryptionKey: Buffer,
): Promise<AgentVersionForRun> {
  // One statement: the kernel reads this before every run's first step.
  const [row] = await sqlFor(db).query<{
    id: string;
    version: number;
    instructions: string;
    config: unknown;
    agent: AgentVersionForRun["agent"];
    model: StoredModelConfig | null;
    fallback_id: string | null;
    fallback: StoredModelConfig | null;
  }>(
    `SELECT v.id, v.version, v.instructions, v.config,
            json_build_object('id', a.id, 'slug', a.slug, 'name', a.name, 'status', a.status::text) AS agent,
            ${runtimeModelSql("v.model_config_id", "v.org_id")} AS model,
            v.fallback_model_config_id AS fallback_id,
            ${runtimeModelSql("v.fallback_model_config_id", "v.org_id")} AS fallback
       FROM agent_versions v JOIN agents a ON a.id = v.agent_id AND a.org_id = v.org_id
      WHERE v.id = $1 AND v.org_id = $2`,
    [agentVersionId, orgId],
  );
  if (!row) throw new NotFound("Agent version");
  if (!row.model || (row.fallback_id && !row.fallback)) throw new NotFound("Model");
  return {
    agent: row.agent,
    version: { id: row.id, version: row.version, instructions: row.instructions, config: parseAgentVersionConfig(row.config) },
    model: endpointOf(row.model, encryptionKey),
    fallback: row.fallback ? endpointOf(row.fallback, encryptionKey) : null,
  };
}
