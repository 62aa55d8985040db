import type { Db } from "../db";
import { logger } from "../logger";
import type { KernelObserver } from "../runtime/kernel-deps";
import { recordEvent } from "./metrics";
import { RunTraceExporter, tracingConfigFromEnv, type TracingConfig } from "./otel";

export type FlushableObserver = KernelObserver & { flush(): Promise<void> };

/**
 * The kernel's observer: every ended step goes into this process's Prometheus registry; every drive of a run is
 * exported as OTLP spans when tracing is configured (OTEL_EXPORTER_OTLP_ENDPOINT, or `tracing` here). Nothing in
 * here may throw into the kernel or make it wait.
 */
export function createKernelObserver(db: Db, options: { tracing?: TracingConfig | null } = {}): FlushableObserver {
  const tracing = options.tracing === undefined ? tracingConfigFromEnv() : options.tracing;
  const exporter = tracing ? new RunTraceExporter(db, tracing) : null;
  return {
    eventEnded(event) {
      try {
        recordEvent(event);
      } catch (error) {
        logger.warn("could not record a step's metrics", { type: event.type, error });
      }
    },
    runDriven(run) {
      exporter?.exportInBackground(run);
    },
    flush: async () => {
      try {
        await exporter?.flush();
      } catch (error) {
        logger.warn("could not flush run traces", { error });
      }
    },
  };
}
