import type { DatabaseHandle } from "../db";

/** Liveness plus a real round trip to the database, so a load balancer stops sending traffic to a broken process. */
export async function checkHealth(handle: DatabaseHandle) {
  const database = handle.target.kind === "pglite" ? ("embedded" as const) : ("postgresql" as const);
  try {
    await handle.db.$queryRaw`SELECT 1`;
    return { status: "ok" as const, database, checks: { database: "ok" } };
  } catch (error) {
    return { status: "degraded" as const, database, checks: { database: error instanceof Error ? error.message : "unreachable" } };
  }
}
