import { monitorEventLoopDelay } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { closeDatabase, getDatabase } from "../db";
import { logger } from "../logger";
import { createKernelDeps } from "./deps";
import { Worker } from "./worker";
import { startWorkerHealthServer } from "../observability/worker-health";
import { listenForRunnableRuns } from "./doorbell";

/**
 * `npm run worker`: a standalone worker process. Needs DATABASE_URL (PostgreSQL): the embedded database belongs to
 * the `npm start` process, which runs its own worker. Run as many as you like, on any machine that reaches the DB.
 */
const { values } = parseArgs({
  options: {
    concurrency: { type: "string", default: "100" },
    // For tests that kill workers on purpose: a short lease makes their runs claimable again quickly.
    "lease-ms": { type: "string" },
    "heartbeat-ms": { type: "string" },
    // How often an idle worker looks for runs (default 500); runs queued on PostgreSQL also wake it at once.
    "poll-ms": { type: "string" },
    // Comma-separated organisation ids: a worker dedicated to some tenants (default: every organisation).
    orgs: { type: "string" },
    // Serve GET /healthz, /readyz and /metrics on this port (0 picks a free port); the port is printed at start.
    "health-port": { type: "string" },
    // Runs of one organisation in progress at once across all workers (default 50).
    "max-runs-per-org": { type: "string" },
    // Every N ms, print one `worker-stats {json}` line (event-loop delay, memory, runs in progress): benchmarks read it.
    "stats-ms": { type: "string" },
  },
});

function positiveInteger(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`${flag} must be a whole number above 0, not "${value}".`);
  return parsed;
}

/**
 * Prints `worker-stats {json}` every `intervalMs`: the event-loop delay p99 and max since the last line, RSS and heap,
 * and the runs in progress — what a benchmark needs from a worker it cannot measure from outside.
 */
function reportStats(worker: Worker, intervalMs: number): void {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const timer = setInterval(() => {
    const memory = process.memoryUsage();
    const stats = {
      workerId: worker.workerId,
      activeRuns: worker.activeRuns,
      eventLoopP99Ms: delay.percentile(99) / 1e6,
      eventLoopMaxMs: delay.max / 1e6,
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
    };
    delay.reset();
    console.log(`worker-stats ${JSON.stringify(stats)}`);
  }, intervalMs);
  timer.unref();
}

async function main(): Promise<void> {
  const handle = await getDatabase();
  if (handle.target.kind !== "postgres") {
    console.error("npm run worker needs DATABASE_URL=postgresql://…; on the embedded database `npm start` runs the worker itself.");
    process.exit(1);
  }
  const options = {
    concurrency: positiveInteger("--concurrency", values.concurrency),
    leaseMs: positiveInteger("--lease-ms", values["lease-ms"]),
    heartbeatMs: positiveInteger("--heartbeat-ms", values["heartbeat-ms"]),
    pollMs: positiveInteger("--poll-ms", values["poll-ms"]),
    ...(values.orgs ? { orgIds: values.orgs.split(",").map((id) => id.trim()).filter(Boolean) } : {}),
    maxRunsPerOrg: positiveInteger("--max-runs-per-org", values["max-runs-per-org"]),
  };
  if (options.leaseMs !== undefined && (options.heartbeatMs ?? 5_000) >= options.leaseMs) {
    throw new Error("--heartbeat-ms must be shorter than --lease-ms, or a busy worker would lose its runs.");
  }
  const healthPort = values["health-port"] === undefined ? undefined : Number(values["health-port"]);
  if (healthPort !== undefined && !(Number.isInteger(healthPort) && healthPort >= 0 && healthPort <= 65535)) {
    throw new Error(`--health-port must be a port number (0-65535), not "${values["health-port"]}".`);
  }
  const deps = createKernelDeps(handle.db);
  const worker = new Worker(deps, options);
  worker.start();
  const doorbell = listenForRunnableRuns(handle.target.url);
  console.log(`worker ${worker.workerId} ready`);
  const statsMs = positiveInteger("--stats-ms", values["stats-ms"]);
  if (statsMs !== undefined) reportStats(worker, statsMs);

  let stopping = false;
  if (healthPort !== undefined) {
    // /readyz turns 503 as soon as the drain below starts, so orchestrators stop counting on this worker.
    const health = await startWorkerHealthServer({ port: healthPort, db: handle.db, worker, isDraining: () => stopping });
    console.log(`worker ${worker.workerId} health endpoints on port ${health.port}`);
  }
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      logger.info("draining worker", { signal });
      void doorbell
        .close()
        .then(() => worker.stop())
        .then(() => deps.close())
        .then(() => closeDatabase())
        .then(() => process.exit(0));
    });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
