import { z } from "zod";
import { inTransaction, type DbOrTx } from "@/server/db";
import { logger } from "@/server/logger";
import { appendAudit } from "../audit/audit-log";
import { Conflict, Forbidden, InvalidInput, NotFound } from "../errors";
import { userMayActFor } from "../identity/acting-for";
import { actorOf, requireScope, type Principal } from "../identity/principal";
import { parseInput } from "../models/validation";
import { queueScheduledRun } from "../runs/runs";
import { signalRunnable } from "../runs/wakeup";
import { safeTimeZone } from "../spend/periods";
import { checkSchedule, isoInTimeZone, latestTick, nextTicks } from "./cron";

/**
 * Agent schedules. A schedule is a cron expression in the org's time zone; runs it starts act on behalf of the person
 * who set it. Exactly once per tick: every worker sweeps (createDueScheduledRuns) and may try to insert the run for a
 * tick, and the unique (agentId, scheduledFor) lets one insert win. Ticks before the schedule was set are never run.
 */

/** How many upcoming ticks the console shows. */
export const UPCOMING_TICKS = 3;

export const AgentRef = z.object({ agentId: z.string().trim().min(1, "Name the agent.").max(100) });
export const SetScheduleInput = AgentRef.extend({ schedule: z.string().max(1_000, "That is far too long for a schedule.") });
export type SetScheduleInput = z.input<typeof SetScheduleInput>;
export const PreviewScheduleInput = z.object({ schedule: z.string().max(1_000) });

export async function orgTimeZone(db: DbOrTx, orgId: string): Promise<string> {
  const org = await db.org.findUniqueOrThrow({ where: { id: orgId }, select: { timeZone: true } });
  return safeTimeZone(org.timeZone);
}

/**
 * Triggered runs act for a person (their permissions, their spend), never for an API key itself: a key with no
 * owner cannot set a trigger.
 */
export function actingUserOf(principal: Principal, what: "Scheduled runs" | "Webhook runs"): string {
  if (principal.userId) return principal.userId;
  throw new InvalidInput(
    `${what} act on behalf of the person who sets them up, and this API key has no owner. Use a key created by a member, or do this from the console.`,
  );
}

/** The acting user must still be allowed to run agents when the trigger is set, not only when it fires. */
export async function requireUserMayRunAgents(db: DbOrTx, orgId: string, userId: string, what: string): Promise<void> {
  const problem = await userMayActFor(db, orgId, userId);
  if (problem) throw new Forbidden(`${what} act on behalf of the person who sets them up. ${problem}`);
}

/** An agent whose triggers a person may change: in the caller's org, and not archived (restore it first). */
export async function loadAgentForTriggers(db: DbOrTx, principal: Principal, agentId: string) {
  const agent = await db.agent.findFirst({
    where: { id: agentId, orgId: principal.orgId },
    select: { id: true, slug: true, status: true, schedule: true },
  });
  if (!agent) throw new NotFound("Agent");
  if (agent.status === "ARCHIVED") throw new Conflict("This agent is archived. Restore it before changing its triggers.");
  return agent;
}

/** Validates a cron expression and lists its next ticks without saving anything: the console's live preview. */
export async function previewSchedule(db: DbOrTx, principal: Principal, raw: z.input<typeof PreviewScheduleInput>, now = new Date()) {
  requireScope(principal, "agents:read");
  const input = parseInput(PreviewScheduleInput, raw);
  const timeZone = await orgTimeZone(db, principal.orgId);
  const check = checkSchedule(input.schedule, timeZone, now);
  if (!check.ok) return { valid: false as const, problem: check.problem, timeZone };
  return { valid: true as const, schedule: check.schedule, timeZone, nextTicks: nextTicks(check.schedule, timeZone, now, UPCOMING_TICKS) };
}

/**
 * Sets (or replaces) an agent's schedule. `scheduleSince` = now, so a new schedule starts with its next tick and
 * never backfills; scheduled runs act for the person setting it.
 */
export async function setSchedule(db: DbOrTx, principal: Principal, raw: SetScheduleInput, now = new Date()) {
  requireScope(principal, "agents:write");
  const input = parseInput(SetScheduleInput, raw);
  const actingUserId = actingUserOf(principal, "Scheduled runs");
  const timeZone = await orgTimeZone(db, principal.orgId);
  const check = checkSchedule(input.schedule, timeZone, now);
  if (!check.ok) throw new InvalidInput(check.problem, { schedule: [check.problem] });
  await inTransaction(db, async (tx) => {
    const agent = await loadAgentForTriggers(tx, principal, input.agentId);
    await requireUserMayRunAgents(tx, principal.orgId, actingUserId, "Scheduled runs");
    await tx.agent.updateMany({
      where: { id: agent.id, orgId: principal.orgId },
      data: { schedule: check.schedule, scheduleSince: now, scheduleUserId: actingUserId },
    });
    await appendAudit(tx, {
      orgId: principal.orgId,
      action: "agent.schedule_set",
      ...actorOf(principal),
      targetType: "Agent",
      targetId: agent.id,
      data: { slug: agent.slug, schedule: check.schedule, previous: agent.schedule, timeZone, actsForUserId: actingUserId },
    });
  });
  return getAgentTriggers(db, principal, input.agentId, now);
}

export async function clearSchedule(db: DbOrTx, principal: Principal, raw: z.input<typeof AgentRef>, now = new Date()) {
  requireScope(principal, "agents:write");
  const input = parseInput(AgentRef, raw);
  await inTransaction(db, async (tx) => {
    const agent = await loadAgentForTriggers(tx, principal, input.agentId);
    if (!agent.schedule) throw new Conflict("This agent has no schedule to clear.");
    await tx.agent.updateMany({
      where: { id: agent.id, orgId: principal.orgId },
      data: { schedule: null, scheduleSince: null, scheduleUserId: null },
    });
    await appendAudit(tx, {
      orgId: principal.orgId,
      action: "agent.schedule_cleared",
      ...actorOf(principal),
      targetType: "Agent",
      targetId: agent.id,
      data: { slug: agent.slug, previous: agent.schedule },
    });
  });
  return getAgentTriggers(db, principal, input.agentId, now);
}

const TRIGGER_HISTORY_ACTIONS = [
  "agent.schedule_set",
  "agent.schedule_cleared",
  "agent.schedule_stopped",
  "agent.webhook_created",
  "agent.webhook_rotated",
  "agent.webhook_revoked",
];
const StoppedData = z.object({ schedule: z.string(), reason: z.string() });

/**
 * What starts this agent besides people: its schedule with the next ticks (in the org's time zone) and whether a
 * webhook exists. Never returns the webhook secret or its hash.
 */
export async function getAgentTriggers(db: DbOrTx, principal: Principal, agentId: string, now = new Date()) {
  requireScope(principal, "agents:read");
  const person = { select: { id: true, email: true, name: true } } as const;
  const agent = await db.agent.findFirst({
    where: { id: agentId, orgId: principal.orgId },
    select: {
      id: true,
      slug: true,
      status: true,
      schedule: true,
      scheduleSince: true,
      scheduleUser: person,
      webhookSecretHash: true,
      webhookUser: person,
    },
  });
  if (!agent) throw new NotFound("Agent");
  const timeZone = await orgTimeZone(db, principal.orgId);
  // The audit log already records when triggers changed and why a schedule was switched off; read it rather than
  // duplicating those facts in columns.
  const history = await db.auditEvent.findMany({
    where: { orgId: principal.orgId, targetType: "Agent", targetId: agent.id, action: { in: TRIGGER_HISTORY_ACTIONS } },
    orderBy: { seq: "desc" },
    take: 20,
    select: { action: true, createdAt: true, data: true },
  });
  const lastScheduleChange = history.find((event) => event.action.startsWith("agent.schedule_"));
  const stoppedData = lastScheduleChange?.action === "agent.schedule_stopped" && !agent.schedule ? StoppedData.safeParse(lastScheduleChange.data) : null;
  const scheduleStopped =
    lastScheduleChange && stoppedData?.success ? { at: lastScheduleChange.createdAt, schedule: stoppedData.data.schedule, reason: stoppedData.data.reason } : null;
  const webhookIssued = history.find((event) => event.action === "agent.webhook_created" || event.action === "agent.webhook_rotated");

  let upcoming: Date[] = [];
  if (agent.schedule) {
    try {
      upcoming = nextTicks(agent.schedule, timeZone, now, UPCOMING_TICKS);
    } catch (error) {
      logger.warn("stored schedule no longer parses", { agentId: agent.id, schedule: agent.schedule, error });
    }
  }
  return {
    agentId: agent.id,
    agentStatus: agent.status,
    timeZone,
    schedule: agent.schedule
      ? { expression: agent.schedule, since: agent.scheduleSince, actsFor: agent.scheduleUser, nextTicks: upcoming }
      : null,
    scheduleStopped,
    webhook: agent.webhookSecretHash ? { actsFor: agent.webhookUser, createdAt: webhookIssued?.createdAt ?? null } : null,
  };
}

export type AgentTriggers = Awaited<ReturnType<typeof getAgentTriggers>>;

/** scheduleUserId is set to null when that user is deleted (onDelete: SetNull). */
const PERSON_GONE = "The person who set this schedule no longer has an account.";

export interface ScheduleSweep {
  created: { runId: string; orgId: string; agentId: string; scheduledFor: Date }[];
  stopped: { orgId: string; agentId: string; reason: string }[];
}

/**
 * The worker's schedule sweep: for every active agent with a schedule (in every org), the run of its latest due
 * tick, unless that tick already has one. Safe to call from any number of workers at once and as often as wanted:
 * the unique (agentId, scheduledFor) makes each tick's run exactly once. A schedule whose person may no longer run
 * agents is switched off (audited) instead of failing on every tick.
 *
 * A system sweep like claiming runs: it reads across orgs, and every query it makes below carries the row's orgId.
 */
export async function createDueScheduledRuns(db: DbOrTx, now = new Date()): Promise<ScheduleSweep> {
  const sweep: ScheduleSweep = { created: [], stopped: [] };
  const agents = await db.agent.findMany({
    where: { status: "ACTIVE", schedule: { not: null }, scheduleSince: { lt: now } },
    select: {
      id: true,
      orgId: true,
      slug: true,
      schedule: true,
      scheduleSince: true,
      scheduleUserId: true,
      currentVersionId: true,
      org: { select: { timeZone: true } },
    },
  });
  const due: { agent: (typeof agents)[number] & { schedule: string; scheduleSince: Date }; tick: Date; timeZone: string }[] = [];
  for (const agent of agents) {
    const { schedule, scheduleSince } = agent;
    if (!schedule || !scheduleSince) continue;
    const timeZone = safeTimeZone(agent.org.timeZone);
    try {
      const tick = latestTick(schedule, timeZone, scheduleSince, now);
      if (tick) due.push({ agent: { ...agent, schedule, scheduleSince }, tick, timeZone });
    } catch (error) {
      logger.warn("skipping a schedule that does not parse", { agentId: agent.id, schedule, error });
    }
  }
  if (due.length === 0) return sweep;

  // Most sweeps find every due tick already done: one read instead of one insert attempt per agent and worker.
  const existing = await db.run.findMany({
    where: { OR: due.map(({ agent, tick }) => ({ orgId: agent.orgId, agentId: agent.id, scheduledFor: tick })) },
    select: { agentId: true, scheduledFor: true },
  });
  const done = new Set(existing.map((run) => `${run.agentId}@${run.scheduledFor?.getTime()}`));

  for (const { agent, tick, timeZone } of due) {
    if (done.has(`${agent.id}@${tick.getTime()}`)) continue;
    try {
      const { currentVersionId, scheduleUserId } = agent;
      if (!currentVersionId) continue;
      // The person is checked when a tick is due, not only when the schedule was set: access can be revoked since.
      const problem = scheduleUserId ? await userMayActFor(db, agent.orgId, scheduleUserId) : PERSON_GONE;
      if (problem !== null || !scheduleUserId) {
        const reason = problem ?? PERSON_GONE;
        if (await stopSchedule(db, agent, reason)) sweep.stopped.push({ orgId: agent.orgId, agentId: agent.id, reason });
        continue;
      }
      const run = await queueScheduledRun(db, {
        orgId: agent.orgId,
        agentId: agent.id,
        agentVersionId: currentVersionId,
        onBehalfOfUserId: scheduleUserId,
        trigger: "SCHEDULE",
        scheduledFor: tick,
        input: `Scheduled run for ${isoInTimeZone(tick, timeZone)} (${timeZone}), schedule "${agent.schedule}".`,
      });
      if (run) sweep.created.push({ runId: run.id, orgId: agent.orgId, agentId: agent.id, scheduledFor: tick });
    } catch (error) {
      // One agent's failure must not hold up every other schedule; the next sweep tries this one again.
      logger.error("creating a scheduled run failed; retrying on the next sweep", { agentId: agent.id, tick, error });
    }
  }
  if (sweep.created.length > 0) signalRunnable();
  return sweep;
}

/**
 * Switches a schedule off because its person may no longer run agents. Compare-and-set on the schedule that was
 * read, so a person setting a new schedule meanwhile wins, and only one of several sweeping workers audits it.
 */
async function stopSchedule(
  db: DbOrTx,
  agent: { id: string; orgId: string; slug: string; schedule: string; scheduleSince: Date },
  reason: string,
): Promise<boolean> {
  return inTransaction(db, async (tx) => {
    const { count } = await tx.agent.updateMany({
      where: { id: agent.id, orgId: agent.orgId, schedule: agent.schedule, scheduleSince: agent.scheduleSince },
      data: { schedule: null, scheduleSince: null, scheduleUserId: null },
    });
    if (count === 0) return false;
    await appendAudit(tx, {
      orgId: agent.orgId,
      action: "agent.schedule_stopped",
      actorType: "SYSTEM",
      targetType: "Agent",
      targetId: agent.id,
      data: { slug: agent.slug, schedule: agent.schedule, reason },
    });
    logger.warn("switched off a schedule whose person may no longer run agents", { agentId: agent.id, reason });
    return true;
  });
}
