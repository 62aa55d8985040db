import { z } from "zod";
import { hasScope } from "@/lib/scopes";
import type { DbOrTx } from "@/server/db";
import { Prisma } from "@/server/generated/prisma/client";
import { requireScope, type Principal } from "../identity/principal";
import { parseInput } from "../tools/input";
import { spendSummary, type SpendSummary } from "../spend/limits";
import { safeTimeZone } from "../spend/periods";
import { DASHBOARD_RANGES, timeBuckets, type BucketUnit, type DashboardRange, type TimeBuckets } from "./buckets";

/**
 * The supervisor's dashboard: what runs now, what waits for a person, what the agents cost and how well they do.
 *
 * What must stay true:
 * - Everything is aggregated in SQL (a handful of statements, none returning per-run rows) and every statement
 *   filters by the principal's org, with an index that starts with org_id available to it: the page polls every
 *   few seconds and must stay fast (bench/dashboard.ts: under 300 ms on the embedded database with 1,000+ runs).
 * - "In the range" means created in [first bucket start, now): runs by runs.created_at, model calls by
 *   spend_entries.created_at, tool calls by the run they belong to (so the runs index is used, not a scan of events).
 * - "Failed in the last 24 h" is created in the last 24 h exactly, the same filter as the runs list's "Last 24 hours".
 * - Parts the principal may not read (approvals, inbox, spend) are null, never zero: zero would be a claim.
 */

export { DASHBOARD_RANGES, type DashboardRange };

export const DashboardInput = z.object({
  range: z.enum(DASHBOARD_RANGES, { error: "Choose a range: 24h, 7d or 30d." }).default("24h"),
});
export type DashboardInput = z.input<typeof DashboardInput>;

const DAY_MS = 86_400_000;
const TOP_FAILING_TOOLS = 5;

/**
 * Error kinds the kernel writes on TOOL_CALL events that policy, a person or the identity gate refused
 * (server/runtime/execute-run.ts). The tool never ran, so they are counted as refusals, not as the tool failing.
 */
const REFUSAL_KINDS = ["denied", "rejected", "forbidden", "not_granted"] as const;

export interface LiveRunCounts {
  queued: number;
  running: number;
  waitingChildren: number;
  waitingApproval: number;
  waitingReview: number;
  /** Runs created in the last 24 hours that failed. */
  failedLast24h: number;
  /** The start of that 24-hour window. */
  failedSince: Date;
}

export interface PendingWork {
  count: number;
  /** The one waiting longest: an approval's tool name or a draft's title. */
  oldest: { id: string; label: string; createdAt: Date } | null;
}

export interface RunOutcomes {
  succeeded: number;
  failed: number;
  halted: number;
  cancelled: number;
  /** Not ended yet: queued, running or waiting. */
  inProgress: number;
}

export interface RunStats extends RunOutcomes {
  total: number;
  ended: number;
  /** failed ÷ ended; null when nothing ended. */
  failureRate: number | null;
  /** Wall-clock time from start to end of the ended runs that started; null when there are none. */
  durationMs: { p50: number; p95: number; samples: number } | null;
}

export interface UsagePoint {
  tokens: number;
  costMicros: number;
}

export interface UsageSeries {
  /** The model name, or the agent id ("deleted" for spend of an agent that no longer exists). */
  id: string;
  label: string;
  /** The agent's slug; null for models. */
  detail: string | null;
  inputTokens: number;
  outputTokens: number;
  costMicros: number;
  modelCalls: number;
  /** One point per bucket, aligned with `buckets`. */
  points: UsagePoint[];
}

export interface FailingTool {
  name: string;
  /** Calls that ran and failed (an error or an error result). */
  errors: number;
  /** Calls refused before running: denied by policy, rejected by a person, not granted. */
  refused: number;
  /** Every finished call of the tool in the range. */
  calls: number;
  /** errors ÷ calls */
  errorRate: number;
  lastFailedAt: Date;
  lastFailedRunId: string;
}

export interface Dashboard {
  generatedAt: Date;
  timeZone: string;
  range: { key: DashboardRange; unit: BucketUnit; start: Date; end: Date };
  live: LiveRunCounts;
  /** Null when the principal may not read approvals. */
  pendingApprovals: PendingWork | null;
  /** Null when the principal may not read the inbox. */
  pendingDrafts: PendingWork | null;
  /** Null when the principal may not read spend. */
  spend: SpendSummary | null;
  runs: RunStats;
  /** Bucket starts of the charts, ascending. */
  buckets: Date[];
  /** Runs created per bucket by how they ended (or that they have not yet). */
  outcomes: RunOutcomes[];
  usage: {
    inputTokens: number;
    outputTokens: number;
    costMicros: number;
    modelCalls: number;
    /** Most expensive first. */
    byModel: UsageSeries[];
    byAgent: UsageSeries[];
  };
  /** Most errors first; only tools that failed at least once. */
  failingTools: FailingTool[];
}

/** Timestamps are stored as UTC wall-clock values in `timestamp(3)` columns; casting ISO text keeps that exact. */
const sqlTimestamp = (date: Date) => date.toISOString();

/** width_bucket(ts, thresholds) is 1 for the first bucket and n for the last (and anything after it). */
function thresholdsSql(buckets: TimeBuckets): Prisma.Sql {
  return Prisma.sql`string_to_array(${buckets.starts.map(sqlTimestamp).join(",")}, ',')::timestamp[]`;
}

export async function getDashboard(db: DbOrTx, principal: Principal, rawInput: DashboardInput = {}): Promise<Dashboard> {
  requireScope(principal, "runs:read");
  const { range } = parseInput(DashboardInput, rawInput);
  const orgId = principal.orgId;
  const org = await db.org.findUniqueOrThrow({ where: { id: orgId }, select: { timeZone: true } });
  const timeZone = safeTimeZone(org.timeZone);
  const now = new Date();
  const buckets = timeBuckets(range, now, timeZone);
  const window: QueryWindow = { orgId, buckets, start: buckets.starts[0] ?? now };

  const [live, outcomeRows, durations, usageRows, failingTools, pendingApprovals, pendingDrafts, spend] = await Promise.all([
    liveRunCounts(db, orgId, new Date(now.getTime() - DAY_MS)),
    outcomesByBucket(db, window),
    runDurations(db, window),
    usageByBucket(db, window),
    topFailingTools(db, window),
    hasScope(principal, "approvals:read") ? oldestPendingApproval(db, orgId) : null,
    hasScope(principal, "inbox:read") ? oldestPendingDraft(db, orgId) : null,
    hasScope(principal, "spend:read") ? spendSummary(db, principal) : null,
  ]);

  const outcomes = buckets.starts.map((): RunOutcomes => ({ succeeded: 0, failed: 0, halted: 0, cancelled: 0, inProgress: 0 }));
  const totals: RunOutcomes = { succeeded: 0, failed: 0, halted: 0, cancelled: 0, inProgress: 0 };
  for (const row of outcomeRows) {
    const key = OUTCOME_OF_STATUS[row.status] ?? "inProgress";
    const bucket = outcomes[row.bucket - 1];
    if (bucket) bucket[key] += row.runs;
    totals[key] += row.runs;
  }
  const ended = totals.succeeded + totals.failed + totals.halted + totals.cancelled;

  return {
    generatedAt: now,
    timeZone,
    range: { key: range, unit: buckets.unit, start: window.start, end: now },
    live,
    pendingApprovals,
    pendingDrafts,
    spend,
    runs: {
      ...totals,
      total: ended + totals.inProgress,
      ended,
      failureRate: ended > 0 ? totals.failed / ended : null,
      durationMs: durations,
    },
    buckets: buckets.starts,
    outcomes,
    usage: await usageSeries(db, orgId, buckets, usageRows),
    failingTools,
  };
}

interface QueryWindow {
  orgId: string;
  buckets: TimeBuckets;
  start: Date;
}

const OUTCOME_OF_STATUS: Record<string, keyof RunOutcomes | undefined> = {
  SUCCEEDED: "succeeded",
  FAILED: "failed",
  HALTED: "halted",
  CANCELLED: "cancelled",
};

// ─── Queries ───────────────────────────────────────────────────────────────────────────────────────────────────

/** Current states come from the (org_id, status, created_at) index: only live runs and recent failures are read. */
async function liveRunCounts(db: DbOrTx, orgId: string, failedSince: Date): Promise<LiveRunCounts> {
  const [row] = await db.$queryRaw<Omit<LiveRunCounts, "failedSince">[]>`
    SELECT COUNT(*) FILTER (WHERE status = 'QUEUED')::int AS "queued",
           COUNT(*) FILTER (WHERE status = 'RUNNING')::int AS "running",
           COUNT(*) FILTER (WHERE status = 'WAITING_CHILDREN')::int AS "waitingChildren",
           COUNT(*) FILTER (WHERE status = 'WAITING_APPROVAL')::int AS "waitingApproval",
           COUNT(*) FILTER (WHERE status = 'WAITING_REVIEW')::int AS "waitingReview",
           COUNT(*) FILTER (WHERE status = 'FAILED')::int AS "failedLast24h"
      FROM runs
     WHERE org_id = ${orgId}
       AND (status IN ('QUEUED', 'RUNNING', 'WAITING_CHILDREN', 'WAITING_APPROVAL', 'WAITING_REVIEW')
            OR (status = 'FAILED' AND created_at >= ${sqlTimestamp(failedSince)}::timestamp))`;
  return {
    queued: row?.queued ?? 0,
    running: row?.running ?? 0,
    waitingChildren: row?.waitingChildren ?? 0,
    waitingApproval: row?.waitingApproval ?? 0,
    waitingReview: row?.waitingReview ?? 0,
    failedLast24h: row?.failedLast24h ?? 0,
    failedSince,
  };
}

function outcomesByBucket(db: DbOrTx, { orgId, buckets, start }: QueryWindow) {
  return db.$queryRaw<{ bucket: number; status: string; runs: number }[]>`
    SELECT width_bucket(created_at, ${thresholdsSql(buckets)}) AS bucket, status::text AS status, COUNT(*)::int AS runs
      FROM runs
     WHERE org_id = ${orgId} AND created_at >= ${sqlTimestamp(start)}::timestamp
     GROUP BY 1, 2`;
}

/** p50 and p95 are interpolated (percentile_cont), the same on PGlite and PostgreSQL. */
async function runDurations(db: DbOrTx, { orgId, start }: QueryWindow): Promise<RunStats["durationMs"]> {
  const [row] = await db.$queryRaw<{ samples: number; p50: number | null; p95: number | null }[]>`
    SELECT COUNT(*)::int AS samples,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM ended_at - started_at) * 1000) AS p50,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM ended_at - started_at) * 1000) AS p95
      FROM runs
     WHERE org_id = ${orgId} AND created_at >= ${sqlTimestamp(start)}::timestamp
       AND status IN ('SUCCEEDED', 'FAILED', 'CANCELLED', 'HALTED')
       AND started_at IS NOT NULL AND ended_at IS NOT NULL`;
  if (!row || row.samples === 0 || row.p50 === null || row.p95 === null) return null;
  return { p50: Math.round(Number(row.p50)), p95: Math.round(Number(row.p95)), samples: row.samples };
}

interface UsageRow {
  bucket: number;
  model: string;
  agentId: string | null;
  inputTokens: number;
  outputTokens: number;
  costMicros: number;
  calls: number;
}

/** One row per bucket, model and agent from the spend ledger (one entry per completed model call). */
function usageByBucket(db: DbOrTx, { orgId, buckets, start }: QueryWindow) {
  // Sums as float8: exact for integers below 2^53, and they arrive as numbers rather than BigInts.
  return db.$queryRaw<UsageRow[]>`
    SELECT width_bucket(created_at, ${thresholdsSql(buckets)}) AS bucket, model, agent_id AS "agentId",
           SUM(input_tokens)::float8 AS "inputTokens", SUM(output_tokens)::float8 AS "outputTokens",
           SUM(cost_micros)::float8 AS "costMicros", COUNT(*)::int AS calls
      FROM spend_entries
     WHERE org_id = ${orgId} AND created_at >= ${sqlTimestamp(start)}::timestamp
     GROUP BY 1, 2, 3`;
}

const DELETED_AGENT = "deleted";

async function usageSeries(db: DbOrTx, orgId: string, buckets: TimeBuckets, rows: UsageRow[]): Promise<Dashboard["usage"]> {
  const agentIds = [...new Set(rows.map((row) => row.agentId).filter((id): id is string => id !== null))];
  const agents = agentIds.length
    ? await db.agent.findMany({ where: { orgId, id: { in: agentIds } }, select: { id: true, slug: true, name: true } })
    : [];
  const agentById = new Map(agents.map((agent) => [agent.id, agent]));

  const empty = (id: string, label: string, detail: string | null): UsageSeries => ({
    id,
    label,
    detail,
    inputTokens: 0,
    outputTokens: 0,
    costMicros: 0,
    modelCalls: 0,
    points: buckets.starts.map(() => ({ tokens: 0, costMicros: 0 })),
  });
  const byModel = new Map<string, UsageSeries>();
  const byAgent = new Map<string, UsageSeries>();
  const totals = { inputTokens: 0, outputTokens: 0, costMicros: 0, modelCalls: 0 };
  const add = (series: UsageSeries, row: UsageRow) => {
    series.inputTokens += row.inputTokens;
    series.outputTokens += row.outputTokens;
    series.costMicros += row.costMicros;
    series.modelCalls += row.calls;
    const point = series.points[row.bucket - 1];
    if (point) {
      point.tokens += row.inputTokens + row.outputTokens;
      point.costMicros += row.costMicros;
    }
  };
  for (const row of rows) {
    let model = byModel.get(row.model);
    if (!model) byModel.set(row.model, (model = empty(row.model, row.model, null)));
    add(model, row);
    const agentKey = row.agentId && agentById.has(row.agentId) ? row.agentId : DELETED_AGENT;
    let agent = byAgent.get(agentKey);
    if (!agent) {
      const known = agentById.get(agentKey);
      byAgent.set(agentKey, (agent = known ? empty(known.id, known.name, known.slug) : empty(DELETED_AGENT, "Deleted agent", null)));
    }
    add(agent, row);
    totals.inputTokens += row.inputTokens;
    totals.outputTokens += row.outputTokens;
    totals.costMicros += row.costMicros;
    totals.modelCalls += row.calls;
  }
  const ranked = (series: Map<string, UsageSeries>) =>
    [...series.values()].sort(
      (a, b) => b.costMicros - a.costMicros || b.inputTokens + b.outputTokens - (a.inputTokens + a.outputTokens) || a.label.localeCompare(b.label),
    );
  return { ...totals, byModel: ranked(byModel), byAgent: ranked(byAgent) };
}

/**
 * Tool calls of the runs created in the range: starting from runs lets the planner use the (org_id, created_at)
 * index and reach events by their (run_id, seq) key, where filtering events by time would scan the org's whole
 * trace (run_events has no time index). In-flight (PENDING) calls are not counted: they have not ended yet.
 */
async function topFailingTools(db: DbOrTx, { orgId, start }: QueryWindow): Promise<FailingTool[]> {
  const refusal = Prisma.sql`COALESCE(e.payload #>> '{error,kind}', '') IN (${Prisma.join([...REFUSAL_KINDS])})`;
  const rows = await db.$queryRaw<{ name: string; errors: number; refused: number; calls: number; lastFailedAt: Date; lastFailedRunId: string }[]>`
    SELECT e.name,
           COUNT(*) FILTER (WHERE e.status = 'ERROR' AND NOT ${refusal})::int AS errors,
           COUNT(*) FILTER (WHERE e.status = 'ERROR' AND ${refusal})::int AS refused,
           COUNT(*)::int AS calls,
           MAX(e.started_at) FILTER (WHERE e.status = 'ERROR' AND NOT ${refusal}) AS "lastFailedAt",
           (ARRAY_AGG(e.run_id ORDER BY e.started_at DESC, e.id) FILTER (WHERE e.status = 'ERROR' AND NOT ${refusal}))[1] AS "lastFailedRunId"
      FROM runs r
      JOIN run_events e ON e.run_id = r.id AND e.org_id = r.org_id
     WHERE r.org_id = ${orgId} AND r.created_at >= ${sqlTimestamp(start)}::timestamp
       AND e.type = 'TOOL_CALL' AND e.status IN ('OK', 'ERROR')
     GROUP BY e.name
    HAVING COUNT(*) FILTER (WHERE e.status = 'ERROR' AND NOT ${refusal}) > 0
     ORDER BY errors DESC, "lastFailedAt" DESC, e.name
     LIMIT ${TOP_FAILING_TOOLS}`;
  return rows.map((row) => ({ ...row, errorRate: row.calls > 0 ? row.errors / row.calls : 0 }));
}

/** Oldest first through the (org_id, status, created_at) index; the window count costs no second statement. */
async function oldestPendingApproval(db: DbOrTx, orgId: string): Promise<PendingWork> {
  const [row] = await db.$queryRaw<{ id: string; label: string; createdAt: Date; count: number }[]>`
    SELECT id, tool_name AS label, created_at AS "createdAt", (COUNT(*) OVER ())::int AS count
      FROM approvals
     WHERE org_id = ${orgId} AND status = 'PENDING'
     ORDER BY created_at, id
     LIMIT 1`;
  return row ? { count: row.count, oldest: { id: row.id, label: row.label, createdAt: row.createdAt } } : { count: 0, oldest: null };
}

async function oldestPendingDraft(db: DbOrTx, orgId: string): Promise<PendingWork> {
  const [row] = await db.$queryRaw<{ id: string; label: string; createdAt: Date; count: number }[]>`
    SELECT id, title AS label, created_at AS "createdAt", (COUNT(*) OVER ())::int AS count
      FROM inbox_items
     WHERE org_id = ${orgId} AND status = 'PENDING'
     ORDER BY created_at, id
     LIMIT 1`;
  return row ? { count: row.count, oldest: { id: row.id, label: row.label, createdAt: row.createdAt } } : { count: 0, oldest: null };
}
