import crypto from "node:crypto";
import { beforeAll, expect, it } from "vitest";
import type { Db } from "../../db";
import type { Prisma } from "../../generated/prisma/client";
import { describeOnEachDatabase } from "../../testing/databases";
import { createTestOrg, type TestOrg } from "../../testing/fixtures";
import { DomainError } from "../errors";
import type { Principal } from "../identity/principal";
import { periodWindow } from "../spend/periods";
import { timeBuckets, type DashboardRange } from "./buckets";
import { getDashboard, type Dashboard } from "./dashboard";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const suffix = () => crypto.randomBytes(3).toString("hex");

type RunStatus = NonNullable<Prisma.RunCreateManyInput["status"]>;

/**
 * A small, known history relative to the real clock (the dashboard reads the clock, and spend "today" follows it).
 * Every timestamp sits well inside or outside the ranges, so where exactly a range starts never matters.
 */
interface History extends TestOrg {
  alpha: { id: string; slug: string; versionId: string };
  beta: { id: string; slug: string; versionId: string };
  runIds: Record<string, string>;
  approvalIds: Record<string, string>;
  draftIds: Record<string, string>;
  spendCreatedAt: Date[];
  spendCosts: number[];
}

async function createAgent(db: Db, orgId: string, slug: string) {
  const model = await db.modelConfig.create({ data: { orgId, name: `m-${slug}-${suffix()}`, provider: "SCRIPTED", model: "scripted-v1" } });
  const agent = await db.agent.create({ data: { orgId, slug: `${slug}-${suffix()}`, name: slug === "alpha" ? "Alpha agent" : "Beta agent" } });
  const version = await db.agentVersion.create({ data: { orgId, agentId: agent.id, version: 1, instructions: "Work.", modelConfigId: model.id, config: {} } });
  return { id: agent.id, slug: agent.slug, versionId: version.id };
}

interface RunSpec {
  agent: { id: string; versionId: string };
  status: RunStatus;
  createdAgoMs: number;
  /** Start to end; omitted: not ended (or, for a run that never started, ended when it was created). */
  durationMs?: number;
  /** False for runs that never started (queued, or cancelled while queued). */
  started?: boolean;
}

async function createRun(db: Db, org: TestOrg, spec: RunSpec): Promise<string> {
  const now = Date.now();
  const createdAt = new Date(now - spec.createdAgoMs);
  const startedAt = spec.started === false ? null : new Date(createdAt.getTime() + 1_000);
  const run = await db.run.create({
    data: {
      orgId: org.orgId,
      agentId: spec.agent.id,
      agentVersionId: spec.agent.versionId,
      onBehalfOfUserId: org.principals.OWNER.userId,
      status: spec.status,
      input: "work",
      createdAt,
      startedAt,
      endedAt: startedAt
        ? spec.durationMs !== undefined
          ? new Date(startedAt.getTime() + spec.durationMs)
          : null
        : spec.status === "CANCELLED"
          ? createdAt
          : null,
    },
  });
  return run.id;
}

let eventCounter = 0;

async function toolCall(db: Db, org: TestOrg, runId: string, name: string, status: "OK" | "ERROR" | "PENDING", options: { errorKind?: string; agoMs?: number } = {}) {
  eventCounter += 1;
  const payload: Prisma.InputJsonValue = options.errorKind ? { tool: name, error: { kind: options.errorKind, message: "no" } } : { tool: name };
  await db.runEvent.create({
    data: {
      orgId: org.orgId,
      runId,
      seq: eventCounter,
      type: "TOOL_CALL",
      name,
      status,
      payload,
      startedAt: new Date(Date.now() - (options.agoMs ?? HOUR)),
    },
  });
}

async function pendingEvent(db: Db, org: TestOrg, runId: string, type: "APPROVAL" | "DRAFT") {
  eventCounter += 1;
  return db.runEvent.create({ data: { orgId: org.orgId, runId, seq: eventCounter, type, name: type.toLowerCase(), status: "PENDING", payload: {} } });
}

async function approval(db: Db, org: TestOrg, runId: string, toolName: string, status: "PENDING" | "APPROVED", agoMs: number) {
  const event = await pendingEvent(db, org, runId, "APPROVAL");
  const row = await db.approval.create({
    data: {
      orgId: org.orgId,
      runId,
      eventId: event.id,
      toolName,
      args: {},
      argsHash: "hash",
      reason: "needs a person",
      status,
      expiresAt: new Date(Date.now() + DAY),
      createdAt: new Date(Date.now() - agoMs),
    },
  });
  return row.id;
}

async function draft(db: Db, org: TestOrg, runId: string, agentId: string, title: string, status: "PENDING" | "ACCEPTED" | "CHANGES_REQUESTED", agoMs: number) {
  const event = await pendingEvent(db, org, runId, "DRAFT");
  const row = await db.inboxItem.create({
    data: { orgId: org.orgId, runId, agentId, eventId: event.id, kind: "EMAIL", title, status, createdAt: new Date(Date.now() - agoMs) },
  });
  return row.id;
}

async function seedHistory(db: Db): Promise<History> {
  const org = await createTestOrg(db, "dash");
  const alpha = await createAgent(db, org.orgId, "alpha");
  const beta = await createAgent(db, org.orgId, "beta");
  const runIds: Record<string, string> = {};
  const run = async (key: string, spec: RunSpec) => (runIds[key] = await createRun(db, org, spec));

  // Live now.
  await run("running1", { agent: alpha, status: "RUNNING", createdAgoMs: 5 * MINUTE });
  await run("running2", { agent: beta, status: "RUNNING", createdAgoMs: 6 * MINUTE });
  await run("queued", { agent: alpha, status: "QUEUED", createdAgoMs: MINUTE, started: false });
  await run("children", { agent: alpha, status: "WAITING_CHILDREN", createdAgoMs: 20 * MINUTE });
  await run("approval1", { agent: alpha, status: "WAITING_APPROVAL", createdAgoMs: 4 * HOUR });
  await run("approval2", { agent: beta, status: "WAITING_APPROVAL", createdAgoMs: 2 * HOUR });
  await run("review", { agent: beta, status: "WAITING_REVIEW", createdAgoMs: 3 * HOUR });
  // Ended in the last 24 hours: 8 successes of 1–8 s, failures of 10 and 20 s, a halt of 30 s, a cancellation that
  // never started (no duration).
  for (let i = 1; i <= 8; i += 1) await run(`ok${i}`, { agent: i % 2 ? alpha : beta, status: "SUCCEEDED", createdAgoMs: (2 + i) * HOUR, durationMs: i * 1_000 });
  await run("failed1", { agent: alpha, status: "FAILED", createdAgoMs: 3 * HOUR, durationMs: 10_000 });
  await run("failed2", { agent: beta, status: "FAILED", createdAgoMs: 12 * HOUR, durationMs: 20_000 });
  await run("halted", { agent: alpha, status: "HALTED", createdAgoMs: 5 * HOUR, durationMs: 30_000 });
  await run("cancelled", { agent: beta, status: "CANCELLED", createdAgoMs: 6 * HOUR, started: false });
  // Older: a failure of 40 s a day and a bit ago (7d and 30d only), a success of 9 s ten days ago (30d only), and a
  // success 40 days ago that no range includes.
  await run("failedYesterday", { agent: alpha, status: "FAILED", createdAgoMs: 25 * HOUR + 30 * MINUTE, durationMs: 40_000 });
  await run("tenDaysAgo", { agent: beta, status: "SUCCEEDED", createdAgoMs: 10 * DAY, durationMs: 9_000 });
  await run("fortyDaysAgo", { agent: beta, status: "SUCCEEDED", createdAgoMs: 40 * DAY, durationMs: 1_000 });

  // Tool calls: send_email fails twice in three calls, lookup_order once (an error result, no kind) in two;
  // issue_refund is only ever refused by policy, and an in-flight call counts for nothing yet.
  await toolCall(db, org, runIds.ok1!, "send_email", "ERROR", { errorKind: "failed", agoMs: 3 * HOUR });
  await toolCall(db, org, runIds.ok1!, "send_email", "OK");
  await toolCall(db, org, runIds.ok1!, "lookup_order", "OK");
  await toolCall(db, org, runIds.failed1!, "send_email", "ERROR", { errorKind: "timeout", agoMs: 2 * HOUR });
  await toolCall(db, org, runIds.failed1!, "lookup_order", "ERROR", { agoMs: 150 * MINUTE });
  await toolCall(db, org, runIds.halted!, "issue_refund", "ERROR", { errorKind: "denied" });
  await toolCall(db, org, runIds.halted!, "issue_refund", "ERROR", { errorKind: "rejected" });
  await toolCall(db, org, runIds.running1!, "fetch_url", "PENDING");
  // Yesterday's failure had lookup_order fail three times in three calls: it leads the 7-day list.
  for (let i = 0; i < 3; i += 1) await toolCall(db, org, runIds.failedYesterday!, "lookup_order", "ERROR", { errorKind: "failed", agoMs: 25 * HOUR });

  const approvalIds = {
    oldest: await approval(db, org, runIds.approval1!, "issue_refund", "PENDING", 3 * HOUR),
    newer: await approval(db, org, runIds.approval2!, "send_email", "PENDING", HOUR),
    decided: await approval(db, org, runIds.ok2!, "issue_refund", "APPROVED", 5 * HOUR),
  };
  const draftIds = {
    pending: await draft(db, org, runIds.review!, beta.id, "Reply to Jane about order 1002", "PENDING", 2 * HOUR),
    accepted: await draft(db, org, runIds.ok3!, beta.id, "Accepted long ago", "ACCEPTED", 6 * HOUR),
    changes: await draft(db, org, runIds.ok4!, beta.id, "Being revised", "CHANGES_REQUESTED", 7 * HOUR),
  };

  // Spend: model-a by alpha (two calls), model-b by beta and by an agent since deleted; one older entry (7d only).
  const spendRows = [
    { model: "model-a", agentId: alpha.id, inputTokens: 1_000, outputTokens: 100, costMicros: 500, agoMs: 2 * HOUR },
    { model: "model-a", agentId: alpha.id, inputTokens: 2_000, outputTokens: 200, costMicros: 700, agoMs: 2 * HOUR + 10 * MINUTE },
    { model: "model-b", agentId: beta.id, inputTokens: 500, outputTokens: 50, costMicros: 3_000, agoMs: HOUR },
    { model: "model-b", agentId: null, inputTokens: 10, outputTokens: 10, costMicros: 100, agoMs: 30 * MINUTE },
    { model: "model-a", agentId: alpha.id, inputTokens: 4_000, outputTokens: 400, costMicros: 10_000, agoMs: 30 * HOUR },
  ];
  const now = Date.now();
  const spendCreatedAt = spendRows.map((row) => new Date(now - row.agoMs));
  await db.spendEntry.createMany({
    data: spendRows.map(({ agoMs: _agoMs, ...row }, i) => ({ ...row, orgId: org.orgId, userId: org.principals.OWNER.userId, createdAt: spendCreatedAt[i]! })),
  });
  return { ...org, alpha, beta, runIds, approvalIds, draftIds, spendCreatedAt, spendCosts: spendRows.map((row) => row.costMicros) };
}

/** Another tenant with plenty going on: none of it may ever show up in the first org's dashboard. */
async function seedNoise(db: Db): Promise<void> {
  const org = await createTestOrg(db, "noise");
  const agent = await createAgent(db, org.orgId, "alpha");
  const failed = await createRun(db, org, { agent, status: "FAILED", createdAgoMs: HOUR, durationMs: 999_000 });
  await createRun(db, org, { agent, status: "RUNNING", createdAgoMs: MINUTE });
  const waiting = await createRun(db, org, { agent, status: "WAITING_APPROVAL", createdAgoMs: 11 * HOUR });
  const review = await createRun(db, org, { agent, status: "WAITING_REVIEW", createdAgoMs: 11 * HOUR });
  for (let i = 0; i < 5; i += 1) await toolCall(db, org, failed, "send_email", "ERROR", { errorKind: "failed" });
  await approval(db, org, waiting, "wire_money", "PENDING", 10 * HOUR);
  await draft(db, org, review, agent.id, "Someone else's draft", "PENDING", 10 * HOUR);
  await db.spendEntry.create({ data: { orgId: org.orgId, agentId: agent.id, model: "model-a", inputTokens: 9, outputTokens: 9, costMicros: 9_999_999 } });
}

/** Where width_bucket puts an instant: the last bucket that starts at or before it. */
function bucketOf(dashboard: Dashboard, instant: Date): number {
  let index = -1;
  dashboard.buckets.forEach((start, i) => {
    if (start.getTime() <= instant.getTime()) index = i;
  });
  return index;
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

describeOnEachDatabase("dashboard", (getDb) => {
  let history: History;
  const load = (range: DashboardRange, principal: Principal = history.principals.SUPERVISOR) => getDashboard(getDb(), principal, { range });

  beforeAll(async () => {
    history = await seedHistory(getDb());
    await seedNoise(getDb());
  });

  it("counts live runs and the failures of the last 24 hours", async () => {
    const dashboard = await load("24h");
    expect(dashboard.live).toEqual({
      queued: 1,
      running: 2,
      waitingChildren: 1,
      waitingApproval: 2,
      waitingReview: 1,
      failedLast24h: 2,
      failedSince: expect.any(Date) as Date,
    });
    expect(dashboard.generatedAt.getTime() - dashboard.live.failedSince.getTime()).toBe(DAY);
  });

  it("reports outcomes, failure rate and p50/p95 duration of the runs created in the range", async () => {
    const day = await load("24h");
    expect(day.runs).toEqual({
      total: 19,
      ended: 12,
      succeeded: 8,
      failed: 2,
      halted: 1,
      cancelled: 1,
      inProgress: 7,
      failureRate: 2 / 12,
      // Interpolated over the 11 runs that started and ended: 1–8, 10, 20 and 30 s.
      durationMs: { p50: 6_000, p95: 25_000, samples: 11 },
    });

    const week = await load("7d");
    expect(week.runs).toMatchObject({ total: 20, ended: 13, failed: 3, failureRate: 3 / 13, durationMs: { p50: 6_500, p95: 34_500, samples: 12 } });
    const month = await load("30d");
    expect(month.runs).toMatchObject({ total: 21, ended: 14, succeeded: 9, durationMs: { samples: 13 } });
  });

  it("puts each run in the bucket of the hour or day it was created in", async () => {
    for (const range of ["24h", "7d", "30d"] as const) {
      const dashboard = await load(range);
      expect(dashboard.buckets).toHaveLength(range === "24h" ? 24 : range === "7d" ? 7 : 30);
      expect(dashboard.buckets[0]).toEqual(dashboard.range.start);
      expect(dashboard.outcomes).toHaveLength(dashboard.buckets.length);
      const perOutcome = (key: keyof Dashboard["outcomes"][number]) => sum(dashboard.outcomes.map((bucket) => bucket[key]));
      expect({
        succeeded: perOutcome("succeeded"),
        failed: perOutcome("failed"),
        halted: perOutcome("halted"),
        cancelled: perOutcome("cancelled"),
        inProgress: perOutcome("inProgress"),
      }).toEqual({
        succeeded: dashboard.runs.succeeded,
        failed: dashboard.runs.failed,
        halted: dashboard.runs.halted,
        cancelled: dashboard.runs.cancelled,
        inProgress: dashboard.runs.inProgress,
      });
    }
    const day = await load("24h");
    const failed2 = await getDb().run.findUniqueOrThrow({ where: { id: history.runIds.failed2! } });
    const failed1 = await getDb().run.findUniqueOrThrow({ where: { id: history.runIds.failed1! } });
    const expected = day.buckets.map(() => 0);
    for (const run of [failed1, failed2]) expected[bucketOf(day, run.createdAt)]! += 1;
    expect(day.outcomes.map((bucket) => bucket.failed)).toEqual(expected);
  });

  it("adds up tokens and cost by model and by agent, per bucket, from the spend ledger", async () => {
    const day = await load("24h");
    expect(day.usage).toMatchObject({ inputTokens: 3_510, outputTokens: 360, costMicros: 4_300, modelCalls: 4 });
    expect(day.usage.byModel.map((s) => [s.id, s.costMicros, s.inputTokens + s.outputTokens, s.modelCalls])).toEqual([
      ["model-b", 3_100, 570, 2],
      ["model-a", 1_200, 3_300, 2],
    ]);
    expect(day.usage.byAgent.map((s) => [s.id, s.label, s.detail, s.costMicros])).toEqual([
      [history.beta.id, "Beta agent", history.beta.slug, 3_000],
      [history.alpha.id, "Alpha agent", history.alpha.slug, 1_200],
      ["deleted", "Deleted agent", null, 100],
    ]);
    // Each entry lands in its hour; the series' points add up to its totals.
    const modelA = day.usage.byModel.find((s) => s.id === "model-a")!;
    const expectedCost = day.buckets.map(() => 0);
    expectedCost[bucketOf(day, history.spendCreatedAt[0]!)]! += 500;
    expectedCost[bucketOf(day, history.spendCreatedAt[1]!)]! += 700;
    expect(modelA.points.map((p) => p.costMicros)).toEqual(expectedCost);
    for (const series of [...day.usage.byModel, ...day.usage.byAgent]) {
      expect(series.points).toHaveLength(24);
      expect(sum(series.points.map((p) => p.costMicros))).toBe(series.costMicros);
      expect(sum(series.points.map((p) => p.tokens))).toBe(series.inputTokens + series.outputTokens);
    }

    const week = await load("7d");
    expect(week.usage.costMicros).toBe(14_300);
    expect(week.usage.byModel[0]).toMatchObject({ id: "model-a", costMicros: 11_200 });
  });

  it("ranks the tools that failed, leaving out refusals and calls still in flight", async () => {
    const day = await load("24h");
    expect(day.failingTools).toEqual([
      { name: "send_email", errors: 2, refused: 0, calls: 3, errorRate: 2 / 3, lastFailedAt: expect.any(Date) as Date, lastFailedRunId: history.runIds.failed1 },
      { name: "lookup_order", errors: 1, refused: 0, calls: 2, errorRate: 1 / 2, lastFailedAt: expect.any(Date) as Date, lastFailedRunId: history.runIds.failed1 },
    ]);
    const week = await load("7d");
    expect(week.failingTools.map((t) => [t.name, t.errors, t.calls, t.lastFailedRunId])).toEqual([
      ["lookup_order", 4, 5, history.runIds.failed1],
      ["send_email", 2, 3, history.runIds.failed1],
    ]);
  });

  it("shows the oldest pending approval and draft with how many wait", async () => {
    const dashboard = await load("24h");
    expect(dashboard.pendingApprovals).toEqual({
      count: 2,
      oldest: { id: history.approvalIds.oldest, label: "issue_refund", createdAt: expect.any(Date) as Date },
    });
    expect(Date.now() - dashboard.pendingApprovals!.oldest!.createdAt.getTime()).toBeGreaterThanOrEqual(3 * HOUR);
    expect(dashboard.pendingDrafts).toEqual({
      count: 1,
      oldest: { id: history.draftIds.pending, label: "Reply to Jane about order 1002", createdAt: expect.any(Date) as Date },
    });
  });

  it("reports spend today and this month against the org's limits, in the org's time zone", async () => {
    await getDb().spendLimit.create({ data: { orgId: history.orgId, scope: "ORG", period: "MONTH", limitMicros: 1_000_000n, mode: "HARD" } });
    const dashboard = await load("24h");
    const now = new Date();
    const spentSince = (start: Date) => sum(history.spendCosts.filter((_, i) => history.spendCreatedAt[i]!.getTime() >= start.getTime()));
    expect(dashboard.timeZone).toBe("UTC");
    expect(dashboard.spend?.today.spentMicros).toBe(spentSince(periodWindow("DAY", now, "UTC").start));
    expect(dashboard.spend?.month.spentMicros).toBe(spentSince(periodWindow("MONTH", now, "UTC").start));
    expect(dashboard.spend?.month.limit).toMatchObject({ limitMicros: 1_000_000, mode: "HARD", state: "ok" });
    expect(dashboard.spend?.today.limit).toBeNull();
  });

  it("leaves out what the principal may not read, and refuses without runs:read", async () => {
    const member = await load("24h", history.principals.MEMBER);
    expect(member.spend).toBeNull();
    expect(member.pendingApprovals?.count).toBe(2);
    expect(member.runs.total).toBe(19);

    const runsOnly: Principal = { kind: "apiKey", orgId: history.orgId, apiKeyId: "key", userId: null, scopes: ["runs:read"] };
    const narrow = await load("24h", runsOnly);
    expect([narrow.pendingApprovals, narrow.pendingDrafts, narrow.spend]).toEqual([null, null, null]);
    expect(narrow.live.failedLast24h).toBe(2);

    const noRuns: Principal = { kind: "apiKey", orgId: history.orgId, apiKeyId: "key", userId: null, scopes: ["spend:read"] };
    await expect(load("24h", noRuns)).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(load("24h", noRuns)).rejects.toBeInstanceOf(DomainError);
  });

  it("shows a fresh organisation as empty, with no rates or durations to claim", async () => {
    const org = await createTestOrg(getDb(), "fresh");
    const dashboard = await load("7d", org.principals.OWNER);
    expect(dashboard.live).toMatchObject({ queued: 0, running: 0, waitingChildren: 0, waitingApproval: 0, waitingReview: 0, failedLast24h: 0 });
    expect(dashboard.runs).toEqual({ total: 0, ended: 0, succeeded: 0, failed: 0, halted: 0, cancelled: 0, inProgress: 0, failureRate: null, durationMs: null });
    expect(dashboard.outcomes).toHaveLength(7);
    expect(dashboard.usage).toEqual({ inputTokens: 0, outputTokens: 0, costMicros: 0, modelCalls: 0, byModel: [], byAgent: [] });
    expect(dashboard.failingTools).toEqual([]);
    expect(dashboard.pendingApprovals).toEqual({ count: 0, oldest: null });
    expect(dashboard.pendingDrafts).toEqual({ count: 0, oldest: null });
    expect(dashboard.spend).toMatchObject({ today: { spentMicros: 0, limit: null }, month: { spentMicros: 0, limit: null } });
  });

  it("buckets days in the org's time zone", async () => {
    const org = await createTestOrg(getDb(), "tz");
    await getDb().org.update({ where: { id: org.orgId }, data: { timeZone: "Asia/Tokyo" } });
    const dashboard = await load("7d", org.principals.OWNER);
    expect(dashboard.timeZone).toBe("Asia/Tokyo");
    expect(dashboard.buckets).toEqual(timeBuckets("7d", dashboard.generatedAt, "Asia/Tokyo").starts);
    // Tokyo midnight is 15:00 UTC.
    expect(dashboard.buckets.every((start) => start.getUTCHours() === 15 && start.getUTCMinutes() === 0)).toBe(true);
  });
});
