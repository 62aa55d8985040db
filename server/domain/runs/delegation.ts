import type { DbOrTx } from "@/server/db";
import { appendAudit } from "../audit/audit-log";
import { NotFound } from "../errors";
import { isUniqueViolation } from "../tools/input";
import { requireScope, type Principal } from "../identity/principal";
import { signalRunnable } from "./wakeup";

/**
 * Multi-agent work: a run delegates a task to another agent as a child run — the child's own agent identity,
 * version, limits and trace, acting for the same person — and waits for it (WAITING_CHILDREN). Costs roll up:
 * a run's tree cost is its own plus every descendant's.
 */

/** Delegation chains deeper than this are refused: A → B → A → … would otherwise never end. */
export const MAX_DELEGATION_DEPTH = 5;

export const TERMINAL_RUN_STATUSES = ["SUCCEEDED", "FAILED", "CANCELLED", "HALTED"] as const;

export interface ChildRunRequest {
  orgId: string;
  parentRunId: string;
  /** Chosen by the parent before it writes its DELEGATION event, so a resumed parent creates the same child. */
  childRunId: string;
  agentId: string;
  task: string;
  onBehalfOfUserId: string;
}

/** Creates the child run (idempotent on `childRunId`). Returns a reason in words when the delegation is refused. */
export async function startChildRun(db: DbOrTx, request: ChildRunRequest): Promise<{ ok: true } | { ok: false; reason: string }> {
  const existing = await db.run.findFirst({ where: { id: request.childRunId, orgId: request.orgId }, select: { id: true } });
  if (existing) return { ok: true };
  const agent = await db.agent.findFirst({ where: { id: request.agentId, orgId: request.orgId }, select: { id: true, slug: true, status: true, currentVersionId: true } });
  if (!agent) return { ok: false, reason: "That agent no longer exists." };
  if (agent.status !== "ACTIVE") return { ok: false, reason: `The agent "${agent.slug}" is ${agent.status.toLowerCase()}, so it cannot take the task.` };
  if (!agent.currentVersionId) return { ok: false, reason: `The agent "${agent.slug}" has no saved version.` };
  const depth = await ancestry(db, request.orgId, request.parentRunId);
  if (depth.length >= MAX_DELEGATION_DEPTH) {
    return { ok: false, reason: `Delegation is limited to ${MAX_DELEGATION_DEPTH} levels; this run is already ${depth.length} levels deep.` };
  }
  try {
    await db.run.create({
      data: {
        id: request.childRunId,
        orgId: request.orgId,
        agentId: agent.id,
        agentVersionId: agent.currentVersionId,
        onBehalfOfUserId: request.onBehalfOfUserId,
        trigger: "DELEGATION",
        parentRunId: request.parentRunId,
        input: request.task,
      },
    });
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
  }
  await appendAudit(db, {
    orgId: request.orgId,
    action: "run.delegated",
    actorType: "AGENT",
    targetType: "Run",
    targetId: request.childRunId,
    data: { parentRunId: request.parentRunId, agent: agent.slug },
  });
  signalRunnable();
  return { ok: true };
}

/** The run ids from `runId`'s parent up to the root. */
async function ancestry(db: DbOrTx, orgId: string, runId: string): Promise<string[]> {
  const rows = await db.$queryRaw<{ id: string }[]>`
    WITH RECURSIVE up AS (
      SELECT id, parent_run_id, 1 AS depth FROM runs WHERE id = ${runId} AND org_id = ${orgId}
      UNION ALL
      SELECT r.id, r.parent_run_id, up.depth + 1 FROM runs r JOIN up ON r.id = up.parent_run_id
       WHERE r.org_id = ${orgId} AND up.depth < 50
    )
    SELECT id FROM up`;
  return rows.map((row) => row.id);
}

export interface ChildOutcome {
  id: string;
  status: string;
  output: string | null;
  error: string | null;
  costMicros: number;
}

export async function readChildRuns(db: DbOrTx, orgId: string, ids: readonly string[]): Promise<ChildOutcome[]> {
  if (ids.length === 0) return [];
  return db.run.findMany({ where: { orgId, id: { in: [...ids] } }, select: { id: true, status: true, output: true, error: true, costMicros: true } });
}

export interface RunTreeNode {
  id: string;
  parentRunId: string | null;
  depth: number;
  status: string;
  trigger: string;
  input: string;
  agent: { id: string; slug: string; name: string };
  costMicros: number;
  inputTokens: number;
  outputTokens: number;
  /** This run's cost plus every descendant's. */
  treeCostMicros: number;
  createdAt: Date;
  startedAt: Date | null;
  endedAt: Date | null;
}

/**
 * The whole tree a run belongs to (from its root down), each node with its own and its rolled-up cost, in
 * depth-first order so the console can indent it directly.
 */
export async function getRunTree(db: DbOrTx, principal: Principal, runId: string): Promise<{ rootId: string; nodes: RunTreeNode[] }> {
  requireScope(principal, "runs:read");
  const { orgId } = principal;
  const chain = await ancestry(db, orgId, runId);
  const rootId = chain[chain.length - 1];
  if (!rootId) throw new NotFound("Run");
  const rows = await db.$queryRaw<
    {
      id: string;
      parent_run_id: string | null;
      depth: number;
      status: string;
      trigger: string;
      input: string;
      agent_id: string;
      slug: string;
      name: string;
      cost_micros: number;
      input_tokens: number;
      output_tokens: number;
      created_at: Date;
      started_at: Date | null;
      ended_at: Date | null;
    }[]
  >`
    WITH RECURSIVE down AS (
      SELECT id, 0 AS depth FROM runs WHERE id = ${rootId} AND org_id = ${orgId}
      UNION ALL
      SELECT r.id, down.depth + 1 FROM runs r JOIN down ON r.parent_run_id = down.id
       WHERE r.org_id = ${orgId} AND down.depth < 50
    )
    SELECT r.id, r.parent_run_id, down.depth, r.status::text AS status, r.trigger::text AS trigger, r.input,
           a.id AS agent_id, a.slug, a.name, r.cost_micros, r.input_tokens, r.output_tokens,
           r.created_at, r.started_at, r.ended_at
      FROM down JOIN runs r ON r.id = down.id JOIN agents a ON a.id = r.agent_id
     ORDER BY r.created_at, r.id`;
  const byParent = new Map<string | null, typeof rows>();
  for (const row of rows) {
    const siblings = byParent.get(row.parent_run_id) ?? [];
    siblings.push(row);
    byParent.set(row.parent_run_id, siblings);
  }
  const nodes: RunTreeNode[] = [];
  const visit = (row: (typeof rows)[number]): number => {
    const node: RunTreeNode = {
      id: row.id,
      parentRunId: row.id === rootId ? null : row.parent_run_id,
      depth: Number(row.depth),
      status: row.status,
      trigger: row.trigger,
      input: row.input,
      agent: { id: row.agent_id, slug: row.slug, name: row.name },
      costMicros: Number(row.cost_micros),
      inputTokens: Number(row.input_tokens),
      outputTokens: Number(row.output_tokens),
      treeCostMicros: 0,
      createdAt: row.created_at,
      startedAt: row.started_at,
      endedAt: row.ended_at,
    };
    nodes.push(node);
    let total = node.costMicros;
    for (const child of byParent.get(row.id) ?? []) total += visit(child);
    node.treeCostMicros = total;
    return total;
  };
  const root = rows.find((row) => row.id === rootId);
  if (root) visit(root);
  return { rootId, nodes };
}
