import type { DbOrTx } from "@/server/db";
import { NotFound } from "../errors";
import { loadModelEndpoint, type ModelEndpointConfig } from "../models/endpoint";
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
  const row = await db.agentVersion.findFirst({
    where: { id: agentVersionId, orgId },
    select: {
      id: true,
      version: true,
      instructions: true,
      config: true,
      modelConfigId: true,
      fallbackModelConfigId: true,
      agent: {
        select: {
          id: true,
          slug: true,
          name: true,
          status: true,
        },
      },
    },
  });
  if (!row) throw new NotFound("Agent version");
  const model = await loadModelEndpoint(db, orgId, row.modelConfigId, encryptionKey);
  const fallback = row.fallbackModelConfigId ? await loadModelEndpoint(db, orgId, row.fallbackModelConfigId, encryptionKey) : null;
  return {
    agent: row.agent,
    version: { id: row.id, version: row.version, instructions: row.instructions, config: parseAgentVersionConfig(row.config) },
    model,
    fallback,
  };
}
