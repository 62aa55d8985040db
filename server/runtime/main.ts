import { parseArgs } from "node:util";
import { closeDatabase, getDatabase } from "../db";
import { logger } from "../logger";
import { createKernelDeps } from "./deps";
import { Worker } from "./worker";

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
    // Comma-separated organisation ids: a worker dedicated to some tenants (default: every organisation).
    orgs: { type: "string" },
  },
});

function positiveInteger(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`${flag} must be a whole number above 0, not "${value}".`);
  return parsed;
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
    ...(values.orgs ? { orgIds: values.orgs.split(",").map((id) => id.trim()).filter(Boolean) } : {}),
  };
  if (options.leaseMs !== undefined && (options.heartbeatMs ?? 5_000) >= options.leaseMs) {
    throw new Error("--heartbeat-ms must be shorter than --lease-ms, or a busy worker would lose its runs.");
  }
  const deps = createKernelDeps(handle.db);
  const worker = new Worker(deps, options);
  worker.start();
  console.log(`worker ${worker.workerId} ready`);

  let stopping = false;
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      logger.info("draining worker", { signal });
      void worker
        .stop()
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
