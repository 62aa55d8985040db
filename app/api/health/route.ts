import { getDatabase } from "@/server/db";
import { checkHealth } from "@/server/domain/health";

export const dynamic = "force-dynamic";

export async function GET(): Promise<Response> {
  const health = await checkHealth(await getDatabase());
  return Response.json(health, { status: health.status === "ok" ? 200 : 503 });
}
