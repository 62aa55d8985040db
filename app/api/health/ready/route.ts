import { getDatabase } from "@/server/db";
import { checkWebReadiness } from "@/server/observability/readiness";

export const dynamic = "force-dynamic";

/** Readiness: the database answers and has every migration this build ships (503 with the reason otherwise). */
export async function GET(): Promise<Response> {
  let readiness;
  try {
    readiness = await checkWebReadiness(await getDatabase());
  } catch (error) {
    const reason = `the database could not be opened: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`;
    readiness = { status: "not_ready" as const, reason, checks: { database: reason } };
  }
  return Response.json(readiness, { status: readiness.status === "ready" ? 200 : 503, headers: { "Cache-Control": "no-store" } });
}
