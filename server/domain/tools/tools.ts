import { z } from "zod";
import { inTransaction, type DbOrTx } from "@/server/db";
import { sqlFor } from "@/server/sql";
import type { ToolRisk, ToolStatus } from "@/server/generated/prisma/client";
import type { ServerConnectionSpec } from "@/server/runtime/mcp/types";
import { appendAudit } from "../audit/audit-log";
import { NotFound } from "../errors";
import { actorOf, requireScope, type Principal } from "../identity/principal";
import { parseInput } from "./input";
import { assignModelNames } from "./model-names";
import { connectionSpecOf, TOOL_RISKS, type ToolActor } from "./servers";

export const ClassifyToolInput = z.object({
  toolId: z.string().min(1),
  /** null = unclassified: policy refuses every call to it. */
  risk: z.enum(TOOL_RISKS).nullable(),
  /** Safe to run again after a crash left its outcome unknown (same arguments, same idempotency key). */
  idempotent: z.boolean(),
});
export type ClassifyToolInput = z.input<typeof ClassifyToolInput>;

export const SetAgentToolGrantsInput = z.object({
  agentId: z.string().min(1),
  toolIds: z.array(z.string().min(1)).max(1_000, "At most 1000 tools per agent."),
});
export type SetAgentToolGrantsInput = z.input<typeof SetAgentToolGrantsInput>;

export async function classifyTool(db: DbOrTx, principal: Principal, rawInput: ClassifyToolInput) {
  requireScope(principal, "tools:manage");
  return classify(db, principal.orgId, actorOf(principal), parseInput(ClassifyToolInput, rawInput));
}

export async function classify(db: DbOrTx, orgId: string, actor: ToolActor, input: z.output<typeof ClassifyToolInput>) {
  return inTransaction(db, async (tx) => {
    const tool = await tx.tool.findFirst({ where: { id: input.toolId, orgId }, select: { id: true, name: true, server: { select: { name: true } } } });
    if (!tool) throw new NotFound("Tool");
    await tx.tool.updateMany({ where: { id: tool.id, orgId }, data: { risk: input.risk, idempotent: input.idempotent } });
    await appendAudit(tx, {
      orgId,
      action: "tool.classified",
      ...actor,
      targetType: "Tool",
      targetId: tool.id,
      data: { tool: tool.name, server: tool.server.name, risk: input.risk, idempotent: input.idempotent },
    });
    return tx.tool.findFirstOrThrow({
      where: { id: tool.id, orgId },
      select: { id: true, name: true, risk: true, idempotent: true, status: true, serverId: true },
    });
  });
}

export async function listAgentToolGrants(db: DbOrTx, principal: Principal, agentId: string) {
  requireScope(principal, "tools:read");
  const agent = await db.agent.findFirst({ where: { id: agentId, orgId: principal.orgId }, select: { id: true } });
  if (!agent) throw new NotFound("Agent");
  const grants = await db.toolGrant.findMany({
    where: { orgId: principal.orgId, agentId },
    select: {
      createdAt: true,
      tool: { select: { id: true, name: true, description: true, risk: true, idempotent: true, status: true, server: { select: { id: true, name: true, status: true } } } },
    },
    orderBy: [{ tool: { server: { name: "asc" } } }, { tool: { name: "asc" } }],
  });
  return grants.map((grant) => ({ ...grant.tool, grantedAt: grant.createdAt }));
}

/**
 * Replaces an agent's granted tools with exactly `toolIds`. A grant is identity (what the agent may ask for);
 * whether a call runs is still decided per call by status, classification and policy.
 */
export async function setAgentToolGrants(db: DbOrTx, principal: Principal, rawInput: SetAgentToolGrantsInput) {
  requireScope(principal, "tools:manage");
  const input = parseInput(SetAgentToolGrantsInput, rawInput);
  const orgId = principal.orgId;
  const toolIds = [...new Set(input.toolIds)];
  await inTransaction(db, async (tx) => {
    const agent = await tx.agent.findFirst({ where: { id: input.agentId, orgId }, select: { id: true, slug: true } });
    if (!agent) throw new NotFound("Agent");
    const tools = await tx.tool.findMany({ where: { orgId, id: { in: toolIds } }, select: { id: true, name: true } });
    if (tools.length !== toolIds.length) throw new NotFound("Tool");
    const current = await tx.toolGrant.findMany({ where: { orgId, agentId: agent.id }, select: { toolId: true, tool: { select: { name: true } } } });
    const removed = current.filter((grant) => !toolIds.includes(grant.toolId));
    const added = tools.filter((tool) => !current.some((grant) => grant.toolId === tool.id));
    if (removed.length > 0) {
      await tx.toolGrant.deleteMany({ where: { orgId, agentId: agent.id, toolId: { in: removed.map((grant) => grant.toolId) } } });
    }
    if (added.length > 0) {
      await tx.toolGrant.createMany({ data: added.map((tool) => ({ orgId, agentId: agent.id, toolId: tool.id })), skipDuplicates: true });
    }
    if (added.length + removed.length > 0) {
      await appendAudit(tx, {
        orgId,
        action: "agent.tool_grants_changed",
        ...actorOf(principal),
        targetType: "Agent",
        targetId: agent.id,
        data: { agent: agent.slug, added: added.map((tool) => tool.name), removed: removed.map((grant) => grant.tool.name) },
      });
    }
  });
  return listAgentToolGrants(db, principal, input.agentId);
}

export interface RuntimeTool {
  toolId: string;
  serverId: string;
  /** The name the server knows the tool by: what the pool calls. */
  name: string;
  /** Unique among this agent's tools and valid for every provider: what the model sees and calls. */
  modelName: string;
  description: string;
  inputSchema: Record<string, unknown>;
  risk: ToolRisk | null;
  idempotent: boolean;
  status: ToolStatus;
  server: ServerConnectionSpec;
}

/**
 * The tools an agent may use right now, for the runtime: granted, ACTIVE, on a server that is not DISABLED, with
 * each server's secrets decrypted. Unclassified tools are included (risk null) so the policy gate can refuse them
 * with a recorded decision. Ordered by server then tool name, which keeps `modelName`s stable across resumes.
 * Throws InvalidInput when a granted server's secret is missing: a run must not silently lose tools.
 */
export async function loadAgentTools(db: DbOrTx, orgId: string, agentId: string, options: { encryptionKey: Buffer }): Promise<RuntimeTool[]> {
  // One statement: the kernel reads this before every run's first step.
  type GrantedTool = { id: string; serverId: string; name: string; description: string; inputSchema: unknown; risk: ToolRisk | null; idempotent: boolean; status: ToolStatus };
  type GrantedServer = Parameters<typeof connectionSpecOf>[2];
  const [row] = await sqlFor(db).query<{ agent_exists: boolean; grants: { tool: GrantedTool; server: GrantedServer }[] }>(
    `SELECT EXISTS (SELECT 1 FROM agents WHERE id = $1 AND org_id = $2) AS agent_exists,
            COALESCE((SELECT json_agg(json_build_object(
                        'tool', json_build_object('id', t.id, 'serverId', t.server_id, 'name', t.name, 'description', t.description,
                                  'inputSchema', t.input_schema, 'risk', t.risk::text, 'idempotent', t.idempotent, 'status', t.status::text),
                        'server', json_build_object('id', ts.id, 'name', ts.name, 'transport', ts.transport::text, 'command', ts.command, 'args', ts.args,
                                  'envSecrets', ts.env_secrets, 'url', ts.url, 'headerSecrets', ts.header_secrets,
                                  'callTimeoutMs', ts.call_timeout_ms, 'maxResultBytes', ts.max_result_bytes))
                      ORDER BY ts.name, t.name)
                 FROM tool_grants g JOIN tools t ON t.id = g.tool_id JOIN tool_servers ts ON ts.id = t.server_id
                WHERE g.agent_id = $1 AND g.org_id = $2 AND t.status = 'ACTIVE' AND ts.status <> 'DISABLED'), '[]'::json) AS grants`,
    [agentId, orgId],
  );
  if (!row?.agent_exists) throw new NotFound("Agent");
  const specs = new Map<string, ServerConnectionSpec>();
  for (const { server } of row.grants) {
    if (!specs.has(server.id)) specs.set(server.id, await connectionSpecOf(db, orgId, server, options.encryptionKey));
  }
  const modelNames = assignModelNames(row.grants.map(({ tool, server }) => ({ serverName: server.name, name: tool.name })));
  return row.grants.map(({ tool, server }, i) => ({
    toolId: tool.id,
    serverId: tool.serverId,
    name: tool.name,
    modelName: modelNames[i] ?? tool.name,
    description: tool.description,
    inputSchema: (tool.inputSchema ?? {}) as Record<string, unknown>,
    risk: tool.risk,
    idempotent: tool.idempotent,
    status: tool.status,
    server: specs.get(server.id)!, // set just above for every server
  }));
}
