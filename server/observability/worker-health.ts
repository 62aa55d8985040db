import http from "node:http";
import type { AddressInfo } from "node:net";
import { Gauge, Registry } from "prom-client";
import type { Db } from "../db";
import { logger } from "../logger";
import { metricsAccessAllowed, renderMetrics } from "./metrics";
import { checkWorkerReadiness } from "./readiness";

export interface WorkerHealthServer {
  port: number;
  close(): Promise<void>;
}

/**
 * `npm run worker --health-port <port>`: a tiny HTTP server for orchestrators and Prometheus.
 *   GET /healthz  200 while the process answers (liveness)
 *   GET /readyz   200 while the database answers and the worker is not draining; 503 with a JSON reason otherwise
 *   GET /metrics  this worker's Prometheus metrics (Bearer SWITCHBOARD_METRICS_TOKEN when that is set)
 * It stays up during the SIGTERM drain, so /readyz reports the drain until the process exits.
 */
export async function startWorkerHealthServer(options: {
  port: number;
  host?: string;
  db: Db;
  worker: { workerId: string; activeRuns: number };
  isDraining(): boolean;
  metricsToken?: string;
}): Promise<WorkerHealthServer> {
  const registry = new Registry();
  new Gauge({
    name: "switchboard_worker_active_runs",
    help: "Runs this worker is driving now.",
    registers: [registry],
    collect() {
      this.set(options.worker.activeRuns);
    },
  });
  new Gauge({
    name: "switchboard_worker_draining",
    help: "1 once the worker received SIGTERM and stopped claiming runs.",
    registers: [registry],
    collect() {
      this.set(options.isDraining() ? 1 : 0);
    },
  });

  const server = http.createServer((request, response) => {
    void route(request, response).catch((error: unknown) => {
      logger.error("worker health endpoint failed", { url: request.url, error });
      if (!response.headersSent) json(response, 500, { status: "error", reason: "internal error; see the worker's log" });
      else response.end();
    });
  });

  async function route(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const path = new URL(request.url ?? "/", "http://worker").pathname;
    if (request.method !== "GET" && request.method !== "HEAD") return json(response, 405, { status: "error", reason: "use GET" });
    if (path === "/healthz") return json(response, 200, { status: "ok", workerId: options.worker.workerId, activeRuns: options.worker.activeRuns, draining: options.isDraining() });
    if (path === "/readyz") {
      const readiness = await checkWorkerReadiness(options.db, options.isDraining());
      return json(response, readiness.status === "ready" ? 200 : 503, { ...readiness, workerId: options.worker.workerId });
    }
    if (path === "/metrics") {
      if (!metricsAccessAllowed(request.headers.authorization, options.metricsToken)) {
        response.writeHead(401, { "WWW-Authenticate": 'Bearer realm="switchboard-metrics"', "Content-Type": "application/json" });
        response.end(JSON.stringify({ status: "error", reason: "send Authorization: Bearer <SWITCHBOARD_METRICS_TOKEN>" }));
        return;
      }
      const metrics = await renderMetrics({ extra: [registry] });
      response.writeHead(200, { "Content-Type": metrics.contentType });
      response.end(metrics.body);
      return;
    }
    json(response, 404, { status: "error", reason: "not found: try /healthz, /readyz or /metrics" });
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  // Probes must not keep a draining worker alive, nor wait on idle keep-alive sockets at exit.
  server.unref();
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function json(response: http.ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "Content-Type": "application/json", "Cache-Control": "no-store" });
  response.end(JSON.stringify(body));
}
