import { sessionPrincipal } from "@/server/auth";
import { getDb } from "@/server/db";
import { exportAuditEvents } from "@/server/domain/audit/audit-query";
import { Unauthorized } from "@/server/domain/errors";
import { logger } from "@/server/logger";
import { errorResponse } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

/**
 * GET /api/audit/export?action=&actorType=&actorId=&targetType=&targetId=&from=&to= — the console's audit log
 * download: the signed-in person's org (session cookie; the domain requires audit:read), the same filter as the
 * audit page, streamed as JSON lines. A route rather than tRPC so the browser downloads the file itself, however
 * large, instead of holding it in memory.
 */
export async function GET(request: Request): Promise<Response> {
  try {
    const principal = await sessionPrincipal();
    if (!principal) throw new Unauthorized("Sign in to export the audit log.");
    const filter = Object.fromEntries(new URL(request.url).searchParams);
    const exported = await exportAuditEvents(await getDb(), principal, filter);
    return new Response(streamOf(exported.lines), {
      headers: {
        "content-type": "application/x-ndjson; charset=utf-8",
        "content-disposition": `attachment; filename="${exported.fileName.replace(/[^A-Za-z0-9._-]/g, "_")}"`,
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
      },
    });
  } catch (error) {
    return errorResponse(error, { method: "GET", path: "/api/audit/export" });
  }
}

function streamOf(lines: AsyncIterable<string>): ReadableStream<Uint8Array> {
  const iterator = lines[Symbol.asyncIterator]();
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await iterator.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      } catch (error) {
        // Headers are gone already: the download ends early and the cause is logged.
        logger.error("audit export failed while streaming", { error });
        controller.error(error);
      }
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}
