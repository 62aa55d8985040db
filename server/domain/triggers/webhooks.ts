import crypto from "node:crypto";
import type { z } from "zod";
import { inTransaction, type DbOrTx } from "@/server/db";
import { appendAudit } from "../audit/audit-log";
import { sha256Hex } from "../canonical";
import { Conflict, InvalidInput, NotFound, PayloadTooLarge, RateLimited } from "../errors";
import { userMayActFor } from "../identity/acting-for";
import { actorOf, requireScope, type Principal } from "../identity/principal";
import { SlidingWindowLimiter } from "../identity/rate-limit";
import { parseInput } from "../models/validation";
import { assertAgentCanStartRuns, queueRun } from "../runs/runs";
import { actingUserOf, AgentRef, getAgentTriggers, loadAgentForTriggers, requireUserMayRunAgents } from "./schedules";

/**
 * Inbound webhooks. Each agent may have one secret; its URL is
 *
 *     POST /api/hooks/agents/{agentId}/{secret}
 *
 * The secret is shown once and stored as SHA-256 (like API keys); rotating replaces it, revoking removes it. The
 * request body becomes the run's input, and the run acts for the person who created the secret. The URL is the
 * credential: a wrong secret and an unknown agent get the same 404, so the endpoint reveals nothing.
 */

const SECRET_PREFIX = "whk_";
/** 32 random bytes, base64url: whk_ + 43 characters. */
const SECRET_PATTERN = /^whk_[A-Za-z0-9_-]{43}$/;
export const MAX_WEBHOOK_PAYLOAD_BYTES = 64 * 1024;
/** Accepted calls per agent and minute, and failed calls per client in ten minutes (per process, like sign-in). */
export const WEBHOOK_CALLS_PER_MINUTE = 60;
const WEBHOOK_FAILURES_PER_CLIENT = 30;

const globalForLimits = globalThis as unknown as { switchboardWebhookLimits?: { byAgent: SlidingWindowLimiter; failuresByClient: SlidingWindowLimiter } };
const limits = (globalForLimits.switchboardWebhookLimits ??= {
  byAgent: new SlidingWindowLimiter(WEBHOOK_CALLS_PER_MINUTE, 60_000),
  failuresByClient: new SlidingWindowLimiter(WEBHOOK_FAILURES_PER_CLIENT, 10 * 60_000),
});

/** Tests: start from fresh rate-limit windows. */
export function resetWebhookRateLimits(): void {
  limits.byAgent = new SlidingWindowLimiter(WEBHOOK_CALLS_PER_MINUTE, 60_000);
  limits.failuresByClient = new SlidingWindowLimiter(WEBHOOK_FAILURES_PER_CLIENT, 10 * 60_000);
}

export function webhookPath(agentId: string, secret: string): string {
  return `/api/hooks/agents/${encodeURIComponent(agentId)}/${secret}`;
}

/**
 * Creates the agent's webhook secret, or replaces it (the old URL stops working at once). Returns the path with
 * the secret: the only time it is ever shown.
 */
export async function issueWebhookSecret(db: DbOrTx, principal: Principal, raw: z.input<typeof AgentRef>) {
  requireScope(principal, "agents:write");
  const input = parseInput(AgentRef, raw);
  const actingUserId = actingUserOf(principal, "Webhook runs");
  const secret = SECRET_PREFIX + crypto.randomBytes(32).toString("base64url");
  const rotated = await inTransaction(db, async (tx) => {
    const agent = await loadAgentForTriggers(tx, principal, input.agentId);
    await requireUserMayRunAgents(tx, principal.orgId, actingUserId, "Webhook runs");
    const before = await tx.agent.findFirst({ where: { id: agent.id, orgId: principal.orgId }, select: { webhookSecretHash: true } });
    await tx.agent.updateMany({
      where: { id: agent.id, orgId: principal.orgId },
      data: { webhookSecretHash: sha256Hex(secret), webhookUserId: actingUserId },
    });
    const replaced = Boolean(before?.webhookSecretHash);
    await appendAudit(tx, {
      orgId: principal.orgId,
      action: replaced ? "agent.webhook_rotated" : "agent.webhook_created",
      ...actorOf(principal),
      targetType: "Agent",
      targetId: agent.id,
      data: { slug: agent.slug, actsForUserId: actingUserId },
    });
    return replaced;
  });
  return { path: webhookPath(input.agentId, secret), secret, rotated, triggers: await getAgentTriggers(db, principal, input.agentId) };
}

export async function revokeWebhookSecret(db: DbOrTx, principal: Principal, raw: z.input<typeof AgentRef>) {
  requireScope(principal, "agents:write");
  const input = parseInput(AgentRef, raw);
  await inTransaction(db, async (tx) => {
    const agent = await tx.agent.findFirst({ where: { id: input.agentId, orgId: principal.orgId }, select: { id: true, slug: true } });
    if (!agent) throw new NotFound("Agent");
    const { count } = await tx.agent.updateMany({
      where: { id: agent.id, orgId: principal.orgId, webhookSecretHash: { not: null } },
      data: { webhookSecretHash: null, webhookUserId: null },
    });
    if (count === 0) throw new Conflict("This agent has no webhook to revoke.");
    await appendAudit(tx, { orgId: principal.orgId, action: "agent.webhook_revoked", ...actorOf(principal), targetType: "Agent", targetId: agent.id, data: { slug: agent.slug } });
  });
  return getAgentTriggers(db, principal, input.agentId);
}

export interface WebhookPayload {
  body: string;
  contentType: string | null;
}

export interface WebhookCall {
  agentId: string;
  secret: string;
  payload: WebhookPayload;
  /** Who is calling (e.g. the client IP), for the failed-attempt limit. */
  clientKey?: string;
}

const NOT_FOUND_WHAT = "Webhook";
/** Compared against when there is no stored hash, so a missing agent costs the same as a wrong secret. */
const DUMMY_HASH = sha256Hex("no webhook here");

function sameHash(a: string, b: string): boolean {
  return crypto.timingSafeEqual(Buffer.from(a, "hex"), Buffer.from(b, "hex"));
}

/**
 * Starts a run from an inbound webhook call, unauthenticated except for the secret. Checks, in an order that leaks
 * nothing: rate limits, then the secret in constant time (unknown agent or wrong secret → the same NotFound), and
 * only then facts only a secret holder may learn (agent disabled, owner gone, payload problems).
 */
export async function createWebhookRun(db: DbOrTx, call: WebhookCall) {
  const clientKey = call.clientKey ?? "unknown";
  if (limits.failuresByClient.isLimited(clientKey)) throw new RateLimited("Too many failed webhook calls from here. Wait a few minutes and try again.");
  const agent =
    call.agentId.length <= 100 && SECRET_PATTERN.test(call.secret)
      ? await db.agent.findUnique({
          where: { id: call.agentId },
          select: { id: true, orgId: true, slug: true, status: true, currentVersionId: true, webhookSecretHash: true, webhookUserId: true },
        })
      : null;
  const matches = sameHash(sha256Hex(call.secret), agent?.webhookSecretHash ?? DUMMY_HASH);
  if (!agent?.webhookSecretHash || !matches) {
    limits.failuresByClient.hit(clientKey);
    throw new NotFound(NOT_FOUND_WHAT);
  }
  if (limits.byAgent.isLimited(agent.id)) {
    throw new RateLimited(`This webhook accepts at most ${WEBHOOK_CALLS_PER_MINUTE} calls a minute. Wait a moment and try again.`);
  }
  assertAgentCanStartRuns(agent);
  const actsFor = agent.webhookUserId;
  if (!actsFor) throw new Conflict("The person who created this webhook no longer has an account. Create a new webhook URL.");
  const problem = await userMayActFor(db, agent.orgId, actsFor);
  if (problem) throw new Conflict(`Webhook runs act for the person who created the webhook. ${problem} Create a new webhook URL.`);
  const input = webhookInput(call.payload);
  limits.byAgent.hit(agent.id);
  return queueRun(db, { orgId: agent.orgId, agentId: agent.id, agentVersionId: agent.currentVersionId, onBehalfOfUserId: actsFor, trigger: "WEBHOOK", input });
}

/** The run's input: JSON re-indented so the agent reads it easily, anything else as sent. */
export function webhookInput(payload: WebhookPayload): string {
  const bytes = Buffer.byteLength(payload.body, "utf8");
  if (bytes > MAX_WEBHOOK_PAYLOAD_BYTES) {
    throw new PayloadTooLarge(`The webhook body is ${Math.ceil(bytes / 1024)} KB; the limit is ${MAX_WEBHOOK_PAYLOAD_BYTES / 1024} KB. Send less (or a link to the data).`);
  }
  if (payload.body.trim() === "") return "The webhook was called without a body.";
  if (/\bjson\b/i.test(payload.contentType ?? "")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload.body);
    } catch {
      throw new InvalidInput("The body is sent as JSON but is not valid JSON.", { body: ["Not valid JSON."] });
    }
    return JSON.stringify(parsed, null, 2);
  }
  return payload.body;
}
