import { getDb } from "../db";
import { PayloadTooLarge } from "../domain/errors";
import { createWebhookRun, MAX_WEBHOOK_PAYLOAD_BYTES } from "../domain/triggers/webhooks";
import { endpoints } from "./endpoints";
import { errorResponse } from "./handler";

interface WebhookRouteContext {
  params: Promise<{ agentId: string; secret: string }>;
}

function tooLarge(): PayloadTooLarge {
  return new PayloadTooLarge(`The webhook body is larger than ${MAX_WEBHOOK_PAYLOAD_BYTES / 1024} KB. Send less (or a link to the data).`);
}

/**
 * Reads at most `maxBytes` of the body and stops as soon as a sender goes past it: an unauthenticated endpoint must
 * not buffer whatever it is sent.
 */
async function readCappedText(request: Request, maxBytes: number): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? "");
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge();
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function clientKey(request: Request): string {
  return request.headers.get("x-forwarded-for")?.split(",")[0]?.trim() || "local";
}

/** POST /api/hooks/agents/{agentId}/{secret}: see server/domain/triggers/webhooks.ts. */
export async function handleAgentWebhook(request: Request, context: WebhookRouteContext): Promise<Response> {
  try {
    const { agentId, secret } = await context.params;
    const body = await readCappedText(request, MAX_WEBHOOK_PAYLOAD_BYTES);
    const run = await createWebhookRun(await getDb(), {
      agentId,
      secret,
      payload: { body, contentType: request.headers.get("content-type") },
      clientKey: clientKey(request),
    });
    return Response.json({ id: run.id, status: run.status.toLowerCase() }, { status: 201, headers: { "cache-control": "no-store" } });
  } catch (error) {
    return errorResponse(error, endpoints.agentWebhook);
  }
}
