import { sessionPrincipal } from "../auth";
import { getDb } from "../db";
import type { TRPCContext } from "./init";

export async function createRequestContext(): Promise<TRPCContext> {
  return { db: await getDb(), principal: await sessionPrincipal() };
}

/**
 * Cookie-authenticated mutations must come from our own pages: a POST whose Origin names another site is refused
 * (SameSite=Lax cookies already block most cross-site posts; this closes the rest).
 */
export function rejectForeignOrigin(request: Request): Response | null {
  if (request.method === "GET") return null;
  const origin = request.headers.get("origin");
  if (!origin) return null;
  const host = request.headers.get("x-forwarded-host") ?? request.headers.get("host");
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    originHost = "";
  }
  if (host && originHost === host) return null;
  return Response.json({ error: { code: "FORBIDDEN", message: "Cross-site request refused." } }, { status: 403 });
}
