import { getDatabase } from "../db";
import { env } from "../env";
import { logger } from "../logger";
import { createKernelDeps } from "./deps";
import { listenForRunnableRuns } from "./doorbell";
import { reclaimOrphansOnEmbeddedStart, Worker } from "./worker";

const globalForWorker = globalThis as unknown as { switchboardWebWorker?: Worker };

/**
 * The worker inside the web server. On the embedded database it is the only possible worker (one process owns the
 * data folder); on PostgreSQL it is optional (SWITCHBOARD_WEB_WORKER=0) because `npm run worker` scales out.
 */
export async function startWebWorker(): Promise<void> {
  if (globalForWorker.switchboardWebWorker) return;
  const handle = await getDatabase();
  if (handle.target.kind === "postgres" && env.SWITCHBOARD_WEB_WORKER === "0") return;
  const deps = createKernelDeps(handle.db);
  if (handle.target.kind === "pglite") {
    const orphans = await reclaimOrphansOnEmbeddedStart(deps);
    if (orphans > 0) logger.info("resuming runs interrupted by the previous shutdown", { runs: orphans });
  }
  const worker = new Worker(deps);
  globalForWorker.switchboardWebWorker = worker;
  worker.start();
  // On PostgreSQL, runs queued by other processes (another web process, the API on another machine) ring it too.
  const doorbell = handle.target.kind === "postgres" ? listenForRunnableRuns(handle.target.url) : null;
  process.once("SIGTERM", () => void (doorbell?.close() ?? Promise.resolve()).then(() => worker.stop(5_000)).then(() => deps.close()));
}
