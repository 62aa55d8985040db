import crypto from "node:crypto";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Db } from "../db";
import { env } from "../env";
import type { ObservedEvent } from "../runtime/kernel-deps";

/**
 * Prometheus metrics. Two kinds:
 * - in-process (this file's registry): what this process's kernel did — step latency, tokens, cost, tool errors —
 *   plus Node's own process metrics. Each web process (with its embedded worker) and each `npm run worker` has its
 *   own; Prometheus sums them across targets.
 * - from the database at scrape time (`databaseMetrics`): runs by status and the queue. Served by the web process
 *   only, so the totals are not multiplied by the number of workers scraped.
 * Labels never carry prompt or tool content, arguments, secrets, or tenant data beyond model and tool names.
 */
export interface ProcessMetrics {
  registry: Registry;
  stepSeconds: Histogram<"step">;
  modelTokens: Counter<"model" | "direction">;
  modelCostUsd: Counter<"model">;
  toolErrors: Counter<"tool" | "kind">;
}

export const RUN_STATUSES = ["QUEUED", "RUNNING", "WAITING_APPROVAL", "WAITING_REVIEW", "WAITING_CHILDREN", "SUCCEEDED", "FAILED", "CANCELLED", "HALTED"] as const;

/** Seconds: from an instant tool to a slow model answer with retries. */
const STEP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** Tool-call errors that happened before anything ran: no latency to measure. */
const NOT_EXECUTED = new Set(["not_granted", "denied", "rejected", "forbidden", "interrupted"]);

function createProcessMetrics(): ProcessMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    stepSeconds: new Histogram({
      name: "switchboard_step_duration_seconds",
      help: "Duration of kernel steps executed by this process, from intent to result.",
      labelNames: ["step"],
      buckets: STEP_BUCKETS,
      registers: [registry],
    }),
    modelTokens: new Counter({
      name: "switchboard_model_tokens_total",
      help: "Model tokens used by runs this process drove.",
      labelNames: ["model", "direction"],
      registers: [registry],
    }),
    modelCostUsd: new Counter({
      name: "switchboard_model_cost_usd_total",
      help: "Model cost in US dollars of runs this process drove, at the configured prices.",
      labelNames: ["model"],
      registers: [registry],
    }),
    toolErrors: new Counter({
      name: "switchboard_tool_errors_total",
      help: "Tool calls that ended in an error, by tool and kind (failed, tool_error, denied, rejected, ...).",
      labelNames: ["tool", "kind"],
      registers: [registry],
    }),
  };
}

// One registry per process: Next.js may evaluate this module in several layers (instrumentation, route handlers),
// and the worker started by instrumentation must record into the registry the /api/metrics route serves.
const globalForMetrics = globalThis as unknown as { switchboardMetrics?: ProcessMetrics };

export function processMetrics(): ProcessMetrics {
  globalForMetrics.switchboardMetrics ??= createProcessMetrics();
  return globalForMetrics.switchboardMetrics;
}

interface StepPayload {
  model?: string;
  interrupted?: boolean;
  builtin?: boolean;
  result?: { isError?: boolean };
  error?: { kind?: string } | string | null;
}

/** Records one ended trace event (called by the kernel's observer). */
export function recordEvent(event: ObservedEvent): void {
  const metrics = processMetrics();
  const payload = (event.payload ?? {}) as StepPayload;
  const seconds = event.startedAt ? Math.max(0, (event.endedAt.getTime() - event.startedAt.getTime()) / 1000) : null;
  if (event.type === "MODEL_CALL") {
    // An interrupted call was started by a worker that died: its "duration" is the outage, not the model.
    if (seconds !== null && !payload.interrupted) metrics.stepSeconds.observe({ step: "model_call" }, seconds);
    const model = payload.model ?? event.name;
    if (event.inputTokens > 0) metrics.modelTokens.inc({ model, direction: "input" }, event.inputTokens);
    if (event.outputTokens > 0) metrics.modelTokens.inc({ model, direction: "output" }, event.outputTokens);
    if (event.costMicros > 0) metrics.modelCostUsd.inc({ model }, event.costMicros / 1e6);
    return;
  }
  if (event.type !== "TOOL_CALL") return;
  const kind = payload.error && typeof payload.error === "object" ? (payload.error.kind ?? "failed") : payload.result?.isError ? "tool_error" : null;
  // A built-in's answer is written in one go (its work is another step): only calls that ran something are timed.
  if (seconds !== null && !payload.builtin && !(kind && NOT_EXECUTED.has(kind))) metrics.stepSeconds.observe({ step: "tool_call" }, seconds);
  if (event.status === "ERROR") {
    // A name the model made up is not a tool: one label value for all of them keeps the cardinality bounded.
    metrics.toolErrors.inc({ tool: kind === "not_granted" ? "(not granted)" : event.name, kind: kind ?? "failed" });
  }
}

/**
 * Runs by status and the queue, read from the database now. Across every organisation on purpose: this is the
 * operator's view of the whole installation, like the worker's claim query (never shown to a tenant).
 */
export async function databaseMetrics(db: Db): Promise<Registry> {
  const registry = new Registry();
  const up = new Gauge({ name: "switchboard_metrics_database_up", help: "1 when the database answered the metrics queries.", registers: [registry] });
  const runs = new Gauge({ name: "switchboard_runs", help: "Runs by current status (all organisations).", labelNames: ["status"], registers: [registry] });
  const depth = new Gauge({ name: "switchboard_queue_depth", help: "Runnable runs waiting for a worker to claim them.", registers: [registry] });
  const oldest = new Gauge({
    name: "switchboard_queue_oldest_age_seconds",
    help: "How long the longest-waiting runnable run has waited to be claimed (0 when none waits).",
    registers: [registry],
  });
  try {
    const [byStatus, queue] = await Promise.all([
      db.$queryRaw<{ status: string; count: number }[]>`SELECT status::text AS status, count(*)::int AS count FROM runs GROUP BY status`,
      // Runnable exactly as Worker.claim sees it: queued, or running under a lease that expired. A queued run waits
      // since its last status change (a resumed run was queued again then); an orphan since its lease ran out.
      db.$queryRaw<{ depth: number; oldest: number | null }[]>`
        SELECT count(*)::int AS depth,
               EXTRACT(EPOCH FROM (now() - min(CASE WHEN status = 'QUEUED' THEN updated_at ELSE lease_until END)))::float8 AS oldest
          FROM runs
         WHERE status = 'QUEUED' OR (status = 'RUNNING' AND lease_until < now())`,
    ]);
    for (const status of RUN_STATUSES) runs.set({ status }, byStatus.find((row) => row.status === status)?.count ?? 0);
    depth.set(queue[0]?.depth ?? 0);
    oldest.set(Math.max(0, queue[0]?.oldest ?? 0));
    up.set(1);
  } catch {
    // The scrape still answers (process metrics stay useful); the outage shows as switchboard_metrics_database_up 0.
    up.set(0);
  }
  return registry;
}

/** The Prometheus text of this process, plus the database gauges when `db` is given. */
export async function renderMetrics(options: { db?: Db; extra?: Registry[] } = {}): Promise<{ body: string; contentType: string }> {
  const registries = [processMetrics().registry, ...(options.extra ?? [])];
  if (options.db) registries.push(await databaseMetrics(options.db));
  const merged = Registry.merge(registries);
  return { body: await merged.metrics(), contentType: merged.contentType };
}

/**
 * Whether a scrape may read the metrics: always when SWITCHBOARD_METRICS_TOKEN is unset (keep the endpoint on a
 * private network then), otherwise only with `Authorization: Bearer <token>`, compared in constant time.
 */
export function metricsAccessAllowed(authorization: string | null | undefined, token: string | undefined = env.SWITCHBOARD_METRICS_TOKEN): boolean {
  if (!token) return true;
  const presented = /^Bearer\s+(.+)$/i.exec(authorization ?? "")?.[1]?.trim() ?? "";
  const digest = (value: string) => crypto.createHash("sha256").update(value).digest();
  return crypto.timingSafeEqual(digest(presented), digest(token));
}
