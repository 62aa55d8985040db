import { getDatabase } from "@/server/db";
import { metricsAccessAllowed, renderMetrics } from "@/server/observability/metrics";

export const dynamic = "force-dynamic";

/** Prometheus scrape target: this process's kernel metrics plus runs by status and the queue (from the database). */
export async function GET(request: Request): Promise<Response> {
  if (!metricsAccessAllowed(request.headers.get("authorization"))) {
    return Response.json(
      { error: { code: "UNAUTHORIZED", message: "Send Authorization: Bearer <SWITCHBOARD_METRICS_TOKEN>." } },
      { status: 401, headers: { "WWW-Authenticate": 'Bearer realm="switchboard-metrics"' } },
    );
  }
  const metrics = await renderMetrics({ db: (await getDatabase()).db });
  return new Response(metrics.body, { headers: { "Content-Type": metrics.contentType, "Cache-Control": "no-store" } });
}
