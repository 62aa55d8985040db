import type { z } from "zod";
import type { Prisma } from "@/server/generated/prisma/client";
import { inTransaction, type DbOrTx, type Tx } from "@/server/db";
import { voidPendingApprovals } from "../approvals/approvals";
import { requestCancellation } from "../runs/runs";
import { appendAudit } from "../audit/audit-log";
import { canonicalJson } from "../canonical";
import { Conflict, InvalidInput, NotFound, type FieldErrors } from "../errors";
import { actorOf, requireScope, type Principal } from "../identity/principal";
import { listModelConfigs } from "../models/model-configs";
import { fieldErrorsFromZod, isUniqueViolation } from "../models/validation";
import {
  addFieldError,
  CreateAgentInput,
  parseScript,
  UpdateAgentInput,
  type CreateAgentInput as CreateAgentInputType,
  type ParsedAgentInput,
  type ScriptInput,
  type UpdateAgentInput as UpdateAgentInputType,
} from "./agent-input";
import type { AgentVersionConfig } from "./config";
import { configJson, formatScript, readStoredConfig, storableConfig } from "./stored-config";

export type AgentStatusName = "ACTIVE" | "DISABLED" | "ARCHIVED";

const agentSummarySelect = {
  id: true,
  slug: true,
  name: true,
  description: true,
  status: true,
  createdAt: true,
  updatedAt: true,
  currentVersion: {
    select: { id: true, version: true, modelConfig: { select: { name: true, provider: true, model: true } } },
  },
} as const;

/** Active and disabled agents by name; archived ones only when asked for. */
export async function listAgents(db: DbOrTx, principal: Principal, options: { includeArchived?: boolean } = {}) {
  requireScope(principal, "agents:read");
  return db.agent.findMany({
    where: { orgId: principal.orgId, ...(options.includeArchived ? {} : { status: { not: "ARCHIVED" } }) },
    select: agentSummarySelect,
    orderBy: { name: "asc" },
  });
}

/** Looks an agent up by id or slug, always inside the caller's org: another org's agent is simply not found. */
export async function getAgent(db: DbOrTx, principal: Principal, idOrSlug: string) {
  requireScope(principal, "agents:read");
  const agent = await db.agent.findFirst({
    where: { orgId: principal.orgId, OR: [{ id: idOrSlug }, { slug: idOrSlug }] },
    select: agentSummarySelect,
  });
  if (!agent) throw new NotFound("Agent");
  return agent;
}

const modelRefSelect = { select: { id: true, name: true, provider: true, model: true } } as const;

export const versionDetailSelect = {
  id: true,
  version: true,
  instructions: true,
  config: true,
  createdAt: true,
  createdBy: { select: { email: true, name: true } },
  modelConfig: modelRefSelect,
  fallbackModel: modelRefSelect,
} as const;

type VersionDetailRow = Prisma.AgentVersionGetPayload<{ select: typeof versionDetailSelect }>;

export function presentVersion(row: VersionDetailRow) {
  const { config: raw, ...rest } = row;
  const { config, readable } = readStoredConfig(raw);
  return { ...rest, config, configReadable: readable, scriptText: formatScript(config.script) };
}

const grantSelect = {
  select: {
    tool: {
      select: { id: true, name: true, description: true, risk: true, status: true, server: { select: { id: true, name: true } } },
    },
  },
} as const;

/** The agent page: the summary plus the current version in full, the granted tools and counts. */
export async function getAgentDetail(db: DbOrTx, principal: Principal, idOrSlug: string) {
  requireScope(principal, "agents:read");
  const agent = await db.agent.findFirst({
    where: { orgId: principal.orgId, OR: [{ id: idOrSlug }, { slug: idOrSlug }] },
    select: {
      id: true,
      slug: true,
      name: true,
      description: true,
      status: true,
      schedule: true,
      createdAt: true,
      updatedAt: true,
      currentVersion: { select: versionDetailSelect },
      toolGrants: grantSelect,
      _count: { select: { versions: true, runs: true } },
    },
  });
  if (!agent) throw new NotFound("Agent");
  const { toolGrants, currentVersion, _count, ...rest } = agent;
  return {
    ...rest,
    currentVersion: currentVersion ? presentVersion(currentVersion) : null,
    tools: toolGrants.map((grant) => grant.tool).sort((a, b) => a.server.name.localeCompare(b.server.name) || a.name.localeCompare(b.name)),
    versionCount: _count.versions,
    runCount: _count.runs,
  };
}

/** Every tool of the org, grouped by its MCP server, for the agent form's tool picker. */
export async function listGrantableTools(db: DbOrTx, principal: Principal) {
  requireScope(principal, "agents:read");
  return db.toolServer.findMany({
    where: { orgId: principal.orgId },
    select: {
      id: true,
      name: true,
      status: true,
      tools: { select: { id: true, name: true, description: true, risk: true, status: true }, orderBy: { name: "asc" } },
    },
    orderBy: { name: "asc" },
  });
}

function editableVersion<V extends { config: unknown }>(version: V) {
  const { config } = readStoredConfig(version.config);
  return { ...version, config, scriptText: formatScript(config.script) };
}

/** An agent as editing sees it: its fields, its current version and its grants. */
const editableAgentSelect = {
  id: true,
  slug: true,
  name: true,
  description: true,
  status: true,
  currentVersion: {
    select: { id: true, version: true, instructions: true, modelConfigId: true, fallbackModelConfigId: true, config: true },
  },
  toolGrants: { select: { toolId: true } },
} satisfies Prisma.AgentSelect;

/** What the edit form starts from: the current version's fields, the grants and the models to choose from. */
export async function getAgentForEditing(db: DbOrTx, principal: Principal, agentId: string) {
  requireScope(principal, "agents:write");
  const agent = await db.agent.findFirst({
    where: { id: agentId, orgId: principal.orgId },
    select: editableAgentSelect,
  });
  if (!agent) throw new NotFound("Agent");
  const { currentVersion, toolGrants, ...rest } = agent;
  const modelConfigs = await listModelConfigs(db, principal);
  return {
    agent: rest,
    version: currentVersion ? editableVersion(currentVersion) : null,
    toolIds: toolGrants.map((grant) => grant.toolId).sort(),
    modelConfigs,
  };
}

// ─── Saving ──────────────────────────────────────────────────────────────────────────────────────────

function invalid(errors: FieldErrors): InvalidInput {
  const count = Object.keys(errors).length;
  return new InvalidInput(count === 1 ? "One field needs attention." : `${count} fields need attention.`, errors);
}

/**
 * Parses agent input; on failure the script is checked too, so the form gets every problem it can in one answer
 * (the script is validated outside zod to name the turn).
 */
function parseAgentInput<S extends typeof CreateAgentInput | typeof UpdateAgentInput>(schema: S, raw: unknown): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data as z.output<S>;
  const errors = fieldErrorsFromZod(result.error);
  const scriptErrors: string[] = [];
  parseScript((raw as { config?: { script?: ScriptInput } } | null)?.config?.script, scriptErrors);
  for (const message of scriptErrors) addFieldError(errors, "config.script", message);
  throw invalid(errors);
}

interface VersionContent {
  instructions: string;
  modelConfigId: string;
  fallbackModelConfigId: string | null;
  config: AgentVersionConfig;
  toolIds: string[];
  modelName: string;
}

/**
 * Locks the model config row against deletion until the transaction ends (pairs with FOR UPDATE in
 * deleteModelConfig), and returns it; null when it does not exist in the org.
 */
async function lockModelConfig(tx: Tx, orgId: string, id: string) {
  const rows = await tx.$queryRaw<{ id: string; name: string; provider: string }[]>`
    SELECT id, name, provider::text AS provider FROM model_configs WHERE id = ${id} AND org_id = ${orgId} FOR SHARE`;
  return rows[0] ?? null;
}

/**
 * Checks everything that needs the database (models, tools, slug) and the script, collecting every problem so
 * the form shows them all at once. Returns the content of the version this input describes.
 */
async function resolveVersionContent(tx: Tx, orgId: string, input: ParsedAgentInput, agentId: string | null): Promise<VersionContent> {
  const errors: FieldErrors = {};
  const fallbackId = input.fallbackModelConfigId || null;

  const model = await lockModelConfig(tx, orgId, input.modelConfigId);
  if (!model) addFieldError(errors, "modelConfigId", "This model no longer exists. Choose another one.");
  const fallback = fallbackId ? await lockModelConfig(tx, orgId, fallbackId) : null;
  if (fallbackId && !fallback) addFieldError(errors, "fallbackModelConfigId", "This model no longer exists. Choose another one, or none.");
  if (fallbackId && fallbackId === input.modelConfigId) {
    addFieldError(errors, "fallbackModelConfigId", "The fallback must differ from the main model; choose another one, or none.");
  }

  const scriptErrors: string[] = [];
  const script = parseScript(input.config.script, scriptErrors);
  const scripted = model?.provider === "SCRIPTED" || fallback?.provider === "SCRIPTED";
  for (const message of scriptErrors) addFieldError(errors, "config.script", message);
  if (scripted && scriptErrors.length === 0 && !script) {
    addFieldError(errors, "config.script", "A scripted model needs a script: a JSON array of turns, ending with a “final” answer.");
  }

  const toolIds = [...new Set(input.toolIds)].sort();
  const tools = toolIds.length
    ? await tx.tool.findMany({ where: { orgId, id: { in: toolIds } }, select: { name: true, server: { select: { name: true } } } })
    : [];
  if (tools.length !== toolIds.length) {
    const missing = toolIds.length - tools.length;
    addFieldError(errors, "toolIds", `${missing === 1 ? "One chosen tool no longer exists" : `${missing} chosen tools no longer exist`}. Reload the page to see the current list.`);
  }

  const delegateAgentIds = [...new Set(input.config.delegateAgentIds)].sort();
  if (agentId && delegateAgentIds.includes(agentId)) addFieldError(errors, "config.delegateAgentIds", "An agent cannot delegate to itself.");
  const delegates = delegateAgentIds.length
    ? await tx.agent.findMany({ where: { orgId, id: { in: delegateAgentIds }, status: { not: "ARCHIVED" } }, select: { id: true } })
    : [];
  if (delegates.length !== delegateAgentIds.length) {
    addFieldError(errors, "config.delegateAgentIds", "A chosen agent no longer exists or is archived. Reload the page to see the current list.");
  }

  const slugTaken = await tx.agent.findFirst({
    where: { orgId, slug: input.slug, ...(agentId ? { id: { not: agentId } } : {}) },
    select: { id: true },
  });
  if (slugTaken) addFieldError(errors, "slug", "Another agent already uses this slug.");

  if (Object.keys(errors).length > 0 || !model) throw invalid(errors);
  return {
    instructions: input.instructions,
    modelConfigId: model.id,
    fallbackModelConfigId: fallback?.id ?? null,
    // A script only means something to a scripted model; other versions do not carry a dead one along.
    config: storableConfig({
      limits: input.config.limits,
      memory: input.config.memory,
      script: scripted ? script : undefined,
      toolNames: tools.map((tool) => `${tool.server.name}/${tool.name}`).sort(),
      submitDrafts: input.config.submitDrafts,
      delegateAgentIds,
    }),
    toolIds,
    modelName: model.name,
  };
}

const slugTaken = () => invalid({ slug: ["Another agent already uses this slug."] });

export interface SaveAgentResult {
  agentId: string;
  slug: string;
  /** The agent's current version number after the save. */
  version: number;
  versionId: string;
  /** False when the save changed nothing a run uses (no new version was written). */
  createdVersion: boolean;
}

/** Creates the agent, its version 1 and its tool grants, in one transaction. */
export async function createAgent(db: DbOrTx, principal: Principal, raw: CreateAgentInputType): Promise<SaveAgentResult> {
  requireScope(principal, "agents:write");
  const input = parseAgentInput(CreateAgentInput, raw);
  const { orgId } = principal;
  try {
    return await inTransaction(db, async (tx) => {
      const content = await resolveVersionContent(tx, orgId, input, null);
      const agent = await tx.agent.create({
        data: { orgId, slug: input.slug, name: input.name, description: input.description },
        select: { id: true },
      });
      const version = await tx.agentVersion.create({
        data: {
          orgId,
          agentId: agent.id,
          version: 1,
          instructions: content.instructions,
          modelConfigId: content.modelConfigId,
          fallbackModelConfigId: content.fallbackModelConfigId,
          config: configJson(content.config),
          createdById: principal.userId,
        },
        select: { id: true },
      });
      await tx.agent.update({ where: { id: agent.id }, data: { currentVersionId: version.id } });
      if (content.toolIds.length > 0) {
        await tx.toolGrant.createMany({ data: content.toolIds.map((toolId) => ({ orgId, agentId: agent.id, toolId })) });
      }
      await appendAudit(tx, {
        orgId,
        action: "agent.created",
        ...actorOf(principal),
        targetType: "Agent",
        targetId: agent.id,
        data: { slug: input.slug, name: input.name, version: 1, model: content.modelName, tools: content.config.toolNames },
      });
      return { agentId: agent.id, slug: input.slug, version: 1, versionId: version.id, createdVersion: true };
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw slugTaken();
    throw error;
  }
}

const STALE_MESSAGE =
  "This agent changed since you opened it: someone saved a newer version. Reload to see their changes, then make yours again.";

/**
 * Saves an edit. Whatever a run uses (instructions, models, config, tools) goes into a NEW immutable version;
 * name, slug and description live on the agent and change in place. Both are guarded by a compare-and-set on
 * currentVersionId = the version the editor loaded, so a save based on a stale version is refused, never merged.
 * A save that changes nothing writes nothing.
 */
export async function updateAgent(db: DbOrTx, principal: Principal, raw: UpdateAgentInputType): Promise<SaveAgentResult> {
  requireScope(principal, "agents:write");
  const input = parseAgentInput(UpdateAgentInput, raw);
  const { orgId } = principal;
  try {
    return await inTransaction(db, async (tx) => {
      const agent = await tx.agent.findFirst({
        where: { id: input.agentId, orgId },
        select: { ...editableAgentSelect, currentVersionId: true },
      });
      if (!agent) throw new NotFound("Agent");
      const current = agent.currentVersion;
      if ((current?.version ?? 0) !== input.expectedVersion) throw new Conflict(STALE_MESSAGE);
      if (agent.status === "ARCHIVED") throw new Conflict("This agent is archived. Restore it before editing it.");

      const content = await resolveVersionContent(tx, orgId, input, agent.id);
      const currentConfig = current ? storableConfig(readStoredConfig(current.config).config) : null;
      const currentToolIds = agent.toolGrants.map((grant) => grant.toolId).sort();
      const changed: string[] = [];
      if (input.name !== agent.name) changed.push("name");
      if (input.slug !== agent.slug) changed.push("slug");
      if (input.description !== agent.description) changed.push("description");
      if (!current || content.instructions !== current.instructions) changed.push("instructions");
      if (!current || content.modelConfigId !== current.modelConfigId) changed.push("model");
      if (!current || content.fallbackModelConfigId !== current.fallbackModelConfigId) changed.push("fallbackModel");
      for (const key of ["limits", "memory", "script", "submitDrafts", "delegateAgentIds"] as const) {
        if (canonicalJson(content.config[key]) !== canonicalJson(currentConfig?.[key])) changed.push(key);
      }
      const grantsChanged = canonicalJson(content.toolIds) !== canonicalJson(currentToolIds);
      if (grantsChanged || canonicalJson(content.config.toolNames) !== canonicalJson(currentConfig?.toolNames)) changed.push("tools");

      const unchanged = { agentId: agent.id, slug: agent.slug, version: current?.version ?? 0, versionId: current?.id ?? "", createdVersion: false };
      if (changed.length === 0) return unchanged;

      const metadata = { name: input.name, slug: input.slug, description: input.description };
      const versionChanged = changed.some((field) => !["name", "slug", "description"].includes(field));
      let result: SaveAgentResult = { ...unchanged, slug: input.slug };
      if (versionChanged) {
        const latest = await tx.agentVersion.aggregate({ where: { agentId: agent.id, orgId }, _max: { version: true } });
        const number = (latest._max.version ?? 0) + 1;
        // Unique (agentId, version): of two saves racing from the same version, the second fails here or at the CAS.
        const version = await tx.agentVersion.create({
          data: {
            orgId,
            agentId: agent.id,
            version: number,
            instructions: content.instructions,
            modelConfigId: content.modelConfigId,
            fallbackModelConfigId: content.fallbackModelConfigId,
            config: configJson(content.config),
            createdById: principal.userId,
          },
          select: { id: true },
        });
        const { count } = await tx.agent.updateMany({
          where: { id: agent.id, orgId, currentVersionId: agent.currentVersionId },
          data: { ...metadata, currentVersionId: version.id },
        });
        if (count === 0) throw new Conflict(STALE_MESSAGE);
        if (grantsChanged) {
          await tx.toolGrant.deleteMany({ where: { agentId: agent.id, orgId } });
          if (content.toolIds.length > 0) {
            await tx.toolGrant.createMany({ data: content.toolIds.map((toolId) => ({ orgId, agentId: agent.id, toolId })) });
          }
        }
        result = { agentId: agent.id, slug: input.slug, version: number, versionId: version.id, createdVersion: true };
      } else {
        const { count } = await tx.agent.updateMany({
          where: { id: agent.id, orgId, currentVersionId: agent.currentVersionId },
          data: metadata,
        });
        if (count === 0) throw new Conflict(STALE_MESSAGE);
      }
      await appendAudit(tx, {
        orgId,
        action: "agent.updated",
        ...actorOf(principal),
        targetType: "Agent",
        targetId: agent.id,
        data: { slug: input.slug, changed, version: result.version, previousVersion: current?.version ?? null },
      });
      return result;
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      // Either the slug or (agentId, version): a concurrent save took the version number first.
      const target = JSON.stringify((error as { meta?: unknown }).meta ?? "");
      throw target.includes("slug") ? slugTaken() : new Conflict(STALE_MESSAGE);
    }
    throw error;
  }
}

// ─── Status ──────────────────────────────────────────────────────────────────────────────────────────

interface StatusChange {
  from: AgentStatusName[];
  to: AgentStatusName;
  action: string;
  verb: string;
}

const STATUS_CHANGES = {
  archive: { from: ["ACTIVE", "DISABLED"], to: "ARCHIVED", action: "agent.archived", verb: "archived" },
  restore: { from: ["ARCHIVED"], to: "ACTIVE", action: "agent.restored", verb: "restored" },
  disable: { from: ["ACTIVE"], to: "DISABLED", action: "agent.disabled", verb: "disabled" },
  enable: { from: ["DISABLED"], to: "ACTIVE", action: "agent.enabled", verb: "enabled" },
} as const satisfies Record<string, StatusChange>;

function statusConflict(change: StatusChange, status: AgentStatusName): Conflict {
  if (status === change.to) return new Conflict(`This agent is already ${status.toLowerCase()}.`);
  if (status === "ARCHIVED") return new Conflict(`This agent is archived and cannot be ${change.verb}. Restore it first.`);
  if ((change.from as readonly string[]).includes(status)) {
    return new Conflict("Someone else changed this agent's status just now. Reload and try again.");
  }
  return new Conflict(`A ${status.toLowerCase()} agent cannot be ${change.verb}.`);
}

/** Status changes are a compare-and-set on the expected statuses; zero rows updated is a Conflict, never a no-op. */
async function changeStatus(db: DbOrTx, principal: Principal, agentId: string, change: StatusChange) {
  requireScope(principal, "agents:write");
  const { orgId } = principal;
  await inTransaction(db, async (tx) => {
    const agent = await tx.agent.findFirst({ where: { id: agentId, orgId }, select: { id: true, slug: true, status: true } });
    if (!agent) throw new NotFound("Agent");
    const { count } = await tx.agent.updateMany({
      where: { id: agent.id, orgId, status: { in: change.from } },
      data: { status: change.to },
    });
    if (count === 0) throw statusConflict(change, agent.status);
    // Stopping an agent stops its work: live runs are cancelled and what waited for a person is voided.
    let cancelledRuns = 0;
    if (change.to !== "ACTIVE") {
      const live = await tx.run.findMany({ where: { orgId, agentId: agent.id, status: { in: ["QUEUED", "RUNNING", "WAITING_APPROVAL", "WAITING_REVIEW", "WAITING_CHILDREN"] } }, select: { id: true } });
      const ids = live.map((r) => r.id);
      await voidPendingApprovals(tx, { orgId, runIds: ids }, `The agent was ${change.verb}.`);
      await requestCancellation(tx, orgId, ids);
      cancelledRuns = ids.length;
    }
    await appendAudit(tx, {
      orgId,
      action: change.action,
      ...actorOf(principal),
      targetType: "Agent",
      targetId: agent.id,
      data: { slug: agent.slug, from: agent.status, to: change.to, cancelledRuns },
    });
  });
  return getAgent(db, principal, agentId);
}

/** ACTIVE or DISABLED → ARCHIVED: hidden from lists, no new runs; versions and history stay. */
export const archiveAgent = (db: DbOrTx, principal: Principal, agentId: string) => changeStatus(db, principal, agentId, STATUS_CHANGES.archive);
/** ARCHIVED → ACTIVE. */
export const restoreAgent = (db: DbOrTx, principal: Principal, agentId: string) => changeStatus(db, principal, agentId, STATUS_CHANGES.restore);
/** ACTIVE → DISABLED: stays listed, starts no new runs. */
export const disableAgent = (db: DbOrTx, principal: Principal, agentId: string) => changeStatus(db, principal, agentId, STATUS_CHANGES.disable);
/** DISABLED → ACTIVE. */
export const enableAgent = (db: DbOrTx, principal: Principal, agentId: string) => changeStatus(db, principal, agentId, STATUS_CHANGES.enable);
