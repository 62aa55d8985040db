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
  },
});

const handle = await getDatabase();
if (handle.target.kind !== "postgres") {
  console.error("npm run worker needs DATABASE_URL=postgresql://…; on the embedded database `npm start` runs the worker itself.");
  process.exit(1);
}
const deps = await createKernelDeps(handle.db);
const worker = new Worker(deps, {
  concurrency: Number(values.concurrency),
  leaseMs: values["lease-ms"] ? Number(values["lease-ms"]) : undefined,
  heartbeatMs: values["heartbeat-ms"] ? Number(values["heartbeat-ms"]) : undefined,
});
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
