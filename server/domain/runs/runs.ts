import { z } from "zod";
import type { DbOrTx } from "@/server/db";
import type { RunTrigger } from "@/server/generated/prisma/enums";
import { Conflict, InvalidInput, NotFound } from "../errors";
import { appendAudit } from "../audit/audit-log";
import { actorOf, requireScope, type Principal } from "../identity/principal";
import { signalRunnable } from "./wakeup";

export const RUN_STATUSES = [
  "QUEUED",
  "RUNNING",
  "WAITING_APPROVAL",
  "WAITING_REVIEW",
  "WAITING_CHILDREN",
  "SUCCEEDED",
  "FAILED",
  "CANCELLED",
  "HALTED",
] as const;

export const TERMINAL_STATUSES = ["SUCCEEDED", "FAILED", "CANCELLED", "HALTED"] as const;

export const ListRunsInput = z.object({
  status: z.enum(RUN_STATUSES).optional(),
  agentId: z.string().optional(),
  onBehalfOfUserId: z.string().optional(),
  createdAfter: z.coerce.date().optional(),
  createdBefore: z.coerce.date().optional(),
  cursor: z.string().optional(),
  limit: z.number().int().min(1).max(100).default(50),
});
export type ListRunsInput = z.infer<typeof ListRunsInput>;

const runSummarySelect = {
  id: true,
  status: true,
  trigger: true,
  input: true,
  output: true,
  error: true,
  haltReason: true,
  inputTokens: true,
  outputTokens: true,
  costMicros: true,
  stepCount: true,
  createdAt: true,
  startedAt: true,
  endedAt: true,
  agent: { select: { id: true, slug: true, name: true } },
  onBehalfOf: { select: { id: true, email: true } },
} as const;

export async function listRuns(db: DbOrTx, principal: Principal, input: ListRunsInput) {
  requireScope(principal, "runs:read");
  const rows = await db.run.findMany({
    where: {
      orgId: principal.orgId,
      status: input.status,
      agentId: input.agentId,
      onBehalfOfUserId: input.onBehalfOfUserId,
      createdAt: { gte: input.createdAfter, lte: input.createdBefore },
    },
    select: runSummarySelect,
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: input.limit + 1,
    ...(input.cursor ? { cursor: { id: input.cursor }, skip: 1 } : {}),
  });
  const hasMore = rows.length > input.limit;
  const items = hasMore ? rows.slice(0, input.limit) : rows;
  return { items, nextCursor: hasMore ? items[items.length - 1]?.id : undefined };
}

export async function getRun(db: DbOrTx, principal: Principal, id: string) {
  requireScope(principal, "runs:read");
  const run = await db.run.findFirst({
    where: { id, orgId: principal.orgId },
    select: {
      ...runSummarySelect,
      events: {
        select: { seq: true, type: true, name: true, status: true, startedAt: true, endedAt: true },
        orderBy: { seq: "asc" },
      },
    },
  });
  if (!run) throw new NotFound("Run");
  return run;
}

export const CreateRunInput = z.object({
  agent: z.string().trim().min(1, "Name the agent by slug or id.").max(100),
  input: z.string().max(100_000, "The input is limited to 100,000 characters.").default(""),
  onBehalfOf: z.string().trim().toLowerCase().pipe(z.email("onBehalfOf must be a member's email address.")).optional(),
});
export type CreateRunInput = z.infer<typeof CreateRunInput>;

/**
 * Queues a run of the agent's current version, acting on behalf of a member of the org (the caller by default).
 * The worker that claims it pins nothing new: the version is fixed here, so editing the agent never changes a run.
 */
export async function createRun(
  db: DbOrTx,
  principal: Principal,
  input: CreateRunInput,
  trigger: "CONSOLE" | "API" = principal.kind === "apiKey" ? "API" : "CONSOLE",
) {
  requireScope(principal, "runs:write");
  const agent = await db.agent.findFirst({
    where: { orgId: principal.orgId, OR: [{ slug: input.agent }, { id: input.agent }] },
    select: { id: true, slug: true, status: true, currentVersionId: true },
  });
  if (!agent) throw new NotFound("Agent");
  assertAgentCanStartRuns(agent);

  let onBehalfOfUserId = principal.userId;
  if (input.onBehalfOf) {
    const membership = await db.membership.findFirst({
      where: { orgId: principal.orgId, revokedAt: null, user: { email: input.onBehalfOf, disabledAt: null } },
      select: { userId: true },
    });
    if (!membership) throw new InvalidInput(`${input.onBehalfOf} is not an active member of this organisation.`, { onBehalfOf: ["Not an active member of this organisation."] });
    // Acting for someone else is a supervisor's power: a member may only start runs for themselves.
    if (membership.userId !== principal.userId) requireScope(principal, "approvals:decide");
    onBehalfOfUserId = membership.userId;
  }
  if (!onBehalfOfUserId) throw new InvalidInput("This API key has no owner to act for; pass onBehalfOf.", { onBehalfOf: ["Required for this key."] });

  return queueRun(db, {
    orgId: principal.orgId,
    agentId: agent.id,
    agentVersionId: agent.currentVersionId,
    onBehalfOfUserId,
    createdByUserId: principal.kind === "user" ? principal.userId : null,
    apiKeyId: principal.kind === "apiKey" ? principal.apiKeyId : null,
    trigger,
    input: input.input,
  });
}

/** A run about to be queued. Runs started by a trigger (schedule, webhook) have no creator, only a person they act for. */
export interface NewRun {
  orgId: string;
  agentId: string;
  /** The version the run pins: editing the agent later never changes a run. */
  agentVersionId: string;
  onBehalfOfUserId: string;
  createdByUserId?: string | null;
  apiKeyId?: string | null;
  trigger: RunTrigger;
  input: string;
}

/** Only an active agent that has been saved at least once starts runs, whatever starts them. */
export function assertAgentCanStartRuns<A extends { slug: string; status: string; currentVersionId: string | null }>(
  agent: A,
): asserts agent is A & { currentVersionId: string } {
  if (agent.status !== "ACTIVE") throw new Conflict(`Agent "${agent.slug}" is ${agent.status.toLowerCase()}; enable it to start runs.`);
  if (!agent.currentVersionId) throw new Conflict(`Agent "${agent.slug}" has no saved version yet.`);
}

/** Inserts a queued run and rings the in-process doorbell so a local worker starts it at once. */
export async function queueRun(db: DbOrTx, run: NewRun) {
  const created = await db.run.create({ data: run, select: { id: true, status: true } });
  signalRunnable();
  return created;
}

/**
 * Inserts the run for one schedule tick unless that tick already has one: INSERT … ON CONFLICT DO NOTHING on the
 * unique (agentId, scheduledFor), so any number of workers may try the same tick and exactly one row results. It
 * never raises a unique violation, which matters inside a PostgreSQL transaction (a failed statement aborts it).
 * Returns null when another caller won. Does not signal: the caller rings once after its batch.
 */
export async function queueScheduledRun(db: DbOrTx, run: NewRun & { scheduledFor: Date }) {
  const [created] = await db.run.createManyAndReturn({ data: [run], skipDuplicates: true, select: { id: true, status: true } });
  return created ?? null;
}

/**
 * Cancels a run. A queued run ends at once; a running one is marked and its worker stops between steps (and
 * aborts a waiting tool or model call) at its next heartbeat.
 */
export async function cancelRun(db: DbOrTx, principal: Principal, id: string) {
  requireScope(principal, "runs:cancel");
  const run = await db.run.findFirst({ where: { id, orgId: principal.orgId }, select: { id: true, status: true, createdByUserId: true, onBehalfOfUserId: true } });
  if (!run) throw new NotFound("Run");
  if ((TERMINAL_STATUSES as readonly string[]).includes(run.status)) throw new Conflict(`This run already ended (${run.status.toLowerCase()}).`);
  await requestCancellation(db, principal.orgId, [id]);
  await appendAudit(db, { orgId: principal.orgId, action: "run.cancel_requested", ...actorOf(principal), targetType: "Run", targetId: id });
  return getRun(db, principal, id);
}

/**
 * Cancels runs wherever they are: a queued run that never started ends at once; a running one stops at its next
 * step; a run parked on a person (approval or review) is queued again with the request, so a worker ends it
 * properly (voiding what waited) and its trace says so.
 */
export async function requestCancellation(db: DbOrTx, orgId: string, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  const now = new Date();
  await db.run.updateMany({
    where: { id: { in: ids }, orgId, status: "QUEUED", startedAt: null },
    data: { status: "CANCELLED", cancelRequestedAt: now, endedAt: now, error: "Cancelled before it started." },
  });
  await db.run.updateMany({
    where: { id: { in: ids }, orgId, status: { in: ["WAITING_APPROVAL", "WAITING_REVIEW", "WAITING_CHILDREN"] } },
    data: { status: "QUEUED", cancelRequestedAt: now },
  });
  await db.run.updateMany({
    where: { id: { in: ids }, orgId, status: { notIn: [...TERMINAL_STATUSES] }, cancelRequestedAt: null },
    data: { cancelRequestedAt: now },
  });
  signalRunnable();
}

/** Halts a person may lift: a budget that has since been raised, or an interrupted call they have checked. */
const RESUMABLE_HALTS = ["budget", "interrupted"];

export async function resumeRun(db: DbOrTx, principal: Principal, id: string) {
  requireScope(principal, "runs:write");
  const run = await db.run.findFirst({ where: { id, orgId: principal.orgId }, select: { id: true, status: true, haltReason: true } });
  if (!run) throw new NotFound("Run");
  if (run.status !== "HALTED" || !RESUMABLE_HALTS.includes(run.haltReason ?? "")) {
    throw new Conflict(
      run.status === "HALTED"
        ? `A run halted for "${run.haltReason ?? "unknown"}" cannot be resumed; only budget and interrupted halts can.`
        : `Only a halted run can be resumed; this one is ${run.status.toLowerCase().replace("_", " ")}.`,
    );
  }
  const { count } = await db.run.updateMany({
    where: { id, orgId: principal.orgId, status: "HALTED" },
    data: { status: "QUEUED", haltReason: null, error: null, endedAt: null, cancelRequestedAt: null },
  });
  if (count !== 1) throw new Conflict("The run changed while you were resuming it; reload and try again.");
  await appendAudit(db, { orgId: principal.orgId, action: "run.resumed", ...actorOf(principal), targetType: "Run", targetId: id, data: { haltReason: run.haltReason } });
  signalRunnable();
  return getRun(db, principal, id);
}

/** The whole trace: every event with its payload, tokens, cost and timing, in order. */
export async function getRunTrace(db: DbOrTx, principal: Principal, id: string) {
  requireScope(principal, "runs:read");
  const run = await db.run.findFirst({ where: { id, orgId: principal.orgId }, select: { id: true } });
  if (!run) throw new NotFound("Run");
  return db.runEvent.findMany({
    where: { runId: id, orgId: principal.orgId },
    orderBy: { seq: "asc" },
    select: {
      id: true,
      seq: true,
      type: true,
      name: true,
      status: true,
      payload: true,
      inputTokens: true,
      outputTokens: true,
      costMicros: true,
      startedAt: true,
      endedAt: true,
    },
  });
}
