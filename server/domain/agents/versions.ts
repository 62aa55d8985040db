import { z } from "zod";
import type { DbOrTx } from "@/server/db";
import { canonicalJson } from "../canonical";
import { NotFound } from "../errors";
import { requireScope, type Principal } from "../identity/principal";
import { presentVersion, versionDetailSelect } from "./agents";
import { diffLines, diffStats, type DiffLine } from "./line-diff";
import { formatScript, prettyJson } from "./stored-config";

export const AgentVersionRef = z.object({ agentId: z.string().min(1), version: z.number().int().min(1) });
export type AgentVersionRef = z.infer<typeof AgentVersionRef>;

export const DiffAgentVersionsInput = z.object({
  agentId: z.string().min(1),
  from: z.number().int().min(1),
  to: z.number().int().min(1),
});
export type DiffAgentVersionsInput = z.infer<typeof DiffAgentVersionsInput>;

async function findAgent(db: DbOrTx, principal: Principal, agentId: string) {
  const agent = await db.agent.findFirst({
    where: { id: agentId, orgId: principal.orgId },
    select: { id: true, slug: true, name: true, currentVersionId: true },
  });
  if (!agent) throw new NotFound("Agent");
  return agent;
}

/** Every version of an agent, newest first, with who saved it and how many runs pinned it. */
export async function listAgentVersions(db: DbOrTx, principal: Principal, agentId: string) {
  requireScope(principal, "agents:read");
  const agent = await findAgent(db, principal, agentId);
  const versions = await db.agentVersion.findMany({
    where: { agentId: agent.id, orgId: principal.orgId },
    select: {
      id: true,
      version: true,
      createdAt: true,
      createdBy: { select: { email: true, name: true } },
      modelConfig: { select: { id: true, name: true } },
      fallbackModel: { select: { id: true, name: true } },
      _count: { select: { runs: true } },
    },
    orderBy: { version: "desc" },
  });
  return versions.map(({ _count, ...version }) => ({ ...version, runCount: _count.runs, isCurrent: version.id === agent.currentVersionId }));
}

async function loadVersion(db: DbOrTx, principal: Principal, agentId: string, version: number) {
  const row = await db.agentVersion.findFirst({
    where: { agentId, orgId: principal.orgId, version },
    select: versionDetailSelect,
  });
  if (!row) throw new NotFound(`Version ${version}`);
  return presentVersion(row);
}

export async function getAgentVersion(db: DbOrTx, principal: Principal, ref: AgentVersionRef) {
  requireScope(principal, "agents:read");
  const agent = await findAgent(db, principal, ref.agentId);
  const version = await loadVersion(db, principal, agent.id, ref.version);
  return { ...version, isCurrent: version.id === agent.currentVersionId };
}

type Scalar = string | number | boolean | null;

/** How the console should show a changed value. */
export type ChangeFormat = "text" | "number" | "usd" | "duration" | "boolean";

export interface FieldChange {
  field: string;
  label: string;
  format: ChangeFormat;
  before: Scalar;
  after: Scalar;
}

export interface TextDiff {
  changed: boolean;
  added: number;
  removed: number;
  lines: DiffLine[];
}

function textDiff(before: string, after: string): TextDiff {
  const lines = diffLines(before, after);
  const { added, removed } = diffStats(lines);
  return { changed: before !== after, added, removed, lines };
}


/**
 * What changed from one version to another: scalar fields (models, limits, memory), granted tools, and line
 * diffs of the instructions, the script and the whole config as pretty JSON. `from` may be newer than `to`.
 */
export async function diffAgentVersions(db: DbOrTx, principal: Principal, input: DiffAgentVersionsInput) {
  requireScope(principal, "agents:read");
  const agent = await findAgent(db, principal, input.agentId);
  const a = await loadVersion(db, principal, agent.id, input.from);
  const b = await loadVersion(db, principal, agent.id, input.to);

  const candidates: FieldChange[] = [
    { field: "model", label: "Model", format: "text", before: a.modelConfig.name, after: b.modelConfig.name },
    { field: "fallbackModel", label: "Fallback model", format: "text", before: a.fallbackModel?.name ?? null, after: b.fallbackModel?.name ?? null },
    { field: "limits.maxSteps", label: "Max steps", format: "number", before: a.config.limits.maxSteps, after: b.config.limits.maxSteps },
    { field: "limits.maxCostMicros", label: "Max cost per run", format: "usd", before: a.config.limits.maxCostMicros, after: b.config.limits.maxCostMicros },
    { field: "limits.timeoutMs", label: "Timeout", format: "duration", before: a.config.limits.timeoutMs, after: b.config.limits.timeoutMs },
    { field: "memory.recallEnabled", label: "Recall memories", format: "boolean", before: a.config.memory.recallEnabled, after: b.config.memory.recallEnabled },
    { field: "memory.recallTopK", label: "Memories recalled", format: "number", before: a.config.memory.recallTopK, after: b.config.memory.recallTopK },
    { field: "submitDrafts", label: "Submit drafts for review", format: "boolean", before: a.config.submitDrafts, after: b.config.submitDrafts },
  ];
  const fields = candidates.filter((change) => change.before !== change.after);

  const toolsBefore = new Set(a.config.toolNames);
  const toolsAfter = new Set(b.config.toolNames);
  const { script: scriptA, ...restA } = a.config;
  const { script: scriptB, ...restB } = b.config;

  const header = (v: typeof a) => ({ id: v.id, version: v.version, createdAt: v.createdAt, createdBy: v.createdBy, isCurrent: v.id === agent.currentVersionId });
  const instructions = textDiff(a.instructions, b.instructions);
  const script = textDiff(formatScript(scriptA), formatScript(scriptB));
  const config = textDiff(prettyJson(restA), prettyJson(restB));
  const tools = {
    added: b.config.toolNames.filter((name) => !toolsBefore.has(name)),
    removed: a.config.toolNames.filter((name) => !toolsAfter.has(name)),
  };
  return {
    agent: { id: agent.id, slug: agent.slug, name: agent.name },
    from: header(a),
    to: header(b),
    identical: canonicalJson([a.instructions, a.modelConfig.id, a.fallbackModel?.id, a.config]) === canonicalJson([b.instructions, b.modelConfig.id, b.fallbackModel?.id, b.config]),
    fields,
    tools,
    instructions,
    script,
    config,
  };
}
