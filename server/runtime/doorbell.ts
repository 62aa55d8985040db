import pg from "pg";
import { signalRunnable } from "../domain/runs/wakeup";
import { logger } from "../logger";

/** The channel the runs table's triggers notify when a run becomes QUEUED (migration 20261202174500_runnable_doorbell). */
export const RUNNABLE_CHANNEL = "switchboard_runnable";
const RECONNECT_MS = 2_000;

/**
 * Listens on PostgreSQL for runs becoming runnable anywhere (another process created, approved or resumed one) and
 * rings this process's doorbell (signalRunnable), so its workers claim at once instead of at their next poll. A lost
 * connection is opened again after a pause; meanwhile polling finds the runs, only later.
 */
export function listenForRunnableRuns(connectionString: string): { close(): Promise<void> } {
  let client: pg.Client | null = null;
  let closed = false;
  let retry: NodeJS.Timeout | null = null;

  const connect = async () => {
    const next = new pg.Client({ connectionString, application_name: "switchboard-doorbell" });
    const reconnect = (error?: Error) => {
      if (client !== next) return;
      client = null;
      void next.end().catch(() => undefined);
      if (closed) return;
      if (error) logger.warn("lost the run doorbell's database connection; polling until it is back", { error: error.message });
      retry = setTimeout(() => void connect(), RECONNECT_MS);
      retry.unref();
    };
    client = next;
    next.on("notification", () => signalRunnable());
    next.on("error", reconnect);
    next.on("end", () => reconnect());
    try {
      await next.connect();
      await next.query(`LISTEN ${RUNNABLE_CHANNEL}`);
      // Runs queued while nobody listened are found now rather than at the next poll.
      signalRunnable();
    } catch (error) {
      reconnect(error instanceof Error ? error : new Error(String(error)));
    }
  };
  void connect();

  return {
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      const current = client;
      client = null;
      await current?.end().catch(() => undefined);
    },
  };
}
