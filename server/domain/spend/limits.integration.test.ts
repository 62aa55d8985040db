import crypto from "node:crypto";
import { expect, it } from "vitest";
import type { Db } from "../../db";
import { describeOnEachDatabase } from "../../testing/databases";
import { createTestOrg, type TestOrg } from "../../testing/fixtures";
import { DomainError } from "../errors";
import {
  checkSpend,
  createSpendLimit,
  deleteSpendLimit,
  listSpendLimits,
  listSpendTargets,
  spendSummary,
  updateSpendLimit,
  type CreateSpendLimitInput,
} from "./limits";

async function expectDomainError(promise: Promise<unknown>, code: string): Promise<DomainError> {
  const error = await promise.then(
    () => {
      throw new Error(`expected ${code}`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  expect((error as DomainError).code).toBe(code);
  return error as DomainError;
}

const USD = 1_000_000;
const suffix = () => crypto.randomBytes(3).toString("hex");

describeOnEachDatabase("spend limits", (getDb) => {
  interface Fixture extends TestOrg {
    agent: { id: string; slug: string };
    otherAgent: { id: string; slug: string };
    /** The member runs act for, and another member who is not. */
    userId: string;
    otherUserId: string;
  }

  async function setup(timeZone = "UTC", label = "spend"): Promise<Fixture> {
    const db = getDb();
    const org = await createTestOrg(db, label);
    await db.org.update({ where: { id: org.orgId }, data: { timeZone } });
    const agent = await db.agent.create({ data: { orgId: org.orgId, slug: `refund-agent-${suffix()}`, name: "Refund agent" } });
    const otherAgent = await db.agent.create({ data: { orgId: org.orgId, slug: `email-drafter-${suffix()}`, name: "Email drafter" } });
    return { ...org, agent, otherAgent, userId: org.principals.MEMBER.userId, otherUserId: org.principals.SUPERVISOR.userId };
  }

  async function spend(db: Db, f: Fixture, costMicros: number, at: string | Date, who: { agentId?: string | null; userId?: string | null } = {}) {
    await db.spendEntry.create({
      data: {
        orgId: f.orgId,
        agentId: who.agentId === undefined ? f.agent.id : who.agentId,
        userId: who.userId === undefined ? f.userId : who.userId,
        model: "scripted-v1",
        inputTokens: 10,
        outputTokens: 10,
        costMicros,
        createdAt: new Date(at),
      },
    });
  }

  function limit(f: Fixture, input: CreateSpendLimitInput) {
    return createSpendLimit(getDb(), f.principals.OWNER, input);
  }

  const check = (f: Fixture, now: string, who: { agentId?: string; userId?: string } = {}) =>
    checkSpend(getDb(), { orgId: f.orgId, agentId: who.agentId ?? f.agent.id, userId: who.userId ?? f.userId, now: new Date(now) });

  const NOW = "2026-03-15T12:00:00Z";

  it("has nothing to say when no limit applies", async () => {
    const f = await setup();
    await spend(getDb(), f, 500 * USD, "2026-03-15T10:00:00Z");
    await expect(check(f, NOW)).resolves.toEqual({ blocked: null, warnings: [] });
    await expect(checkSpend(getDb(), { orgId: "no-such-org", agentId: f.agent.id, userId: f.userId })).resolves.toEqual({ blocked: null, warnings: [] });
  });

  it("warns at the threshold of an org limit and blocks once a hard limit is used up", async () => {
    const db = getDb();
    const f = await setup();
    const created = await limit(f, { scope: "ORG", period: "DAY", limitUsd: 5, mode: "HARD", warnAtPercent: 80 });

    await spend(db, f, 3_990_000, "2026-03-15T09:00:00Z");
    await expect(check(f, NOW)).resolves.toEqual({ blocked: null, warnings: [] });

    // Any agent or member counts towards the org's limit.
    await spend(db, f, 10_000, "2026-03-15T09:30:00Z", { agentId: f.otherAgent.id, userId: f.otherUserId });
    const warned = await check(f, NOW);
    expect(warned.blocked).toBeNull();
    expect(warned.warnings).toEqual([
      {
        limitId: created.id,
        scope: "ORG",
        period: "DAY",
        mode: "HARD",
        limitMicros: 5 * USD,
        spentMicros: 4 * USD,
        percent: 80,
        label: "Organisation · daily",
        message: "The organisation has used 80 % of its daily hard limit of $5.00 ($4.00 spent).",
      },
    ]);

    await spend(db, f, 1_020_000, "2026-03-15T11:59:59Z", { agentId: null, userId: null });
    const blocked = await check(f, NOW);
    expect(blocked.warnings).toEqual([]);
    expect(blocked.blocked).toMatchObject({
      limitId: created.id,
      spentMicros: 5_020_000,
      percent: 100.4,
      message: "The daily hard limit of $5.00 for the organisation is used up ($5.02 spent).",
    });
  });

  it("blocks at exactly the limit", async () => {
    const f = await setup();
    await limit(f, { scope: "ORG", period: "MONTH", limitUsd: "0.000001", mode: "HARD" });
    await expect(check(f, NOW)).resolves.toEqual({ blocked: null, warnings: [] });
    await spend(getDb(), f, 1, "2026-03-01T00:00:00Z");
    expect((await check(f, NOW)).blocked).toMatchObject({ limitMicros: 1, spentMicros: 1, percent: 100, label: "Organisation · monthly" });
  });

  it("applies an agent limit to that agent's spend only", async () => {
    const db = getDb();
    const f = await setup();
    const created = await limit(f, { scope: "AGENT", agentId: f.agent.id, period: "DAY", limitUsd: "5.00", mode: "HARD", warnAtPercent: 90 });
    await spend(db, f, 5_020_000, "2026-03-15T08:00:00Z");
    await spend(db, f, 50 * USD, "2026-03-15T08:00:00Z", { agentId: f.otherAgent.id });

    const result = await check(f, NOW);
    expect(result.blocked).toEqual({
      limitId: created.id,
      scope: "AGENT",
      period: "DAY",
      mode: "HARD",
      limitMicros: 5 * USD,
      spentMicros: 5_020_000,
      percent: 100.4,
      label: `Agent ${f.agent.slug} · daily`,
      message: `The daily hard limit of $5.00 for agent ${f.agent.slug} is used up ($5.02 spent).`,
    });
    // The other agent spent ten times as much, but this limit is not theirs.
    await expect(check(f, NOW, { agentId: f.otherAgent.id })).resolves.toEqual({ blocked: null, warnings: [] });
  });

  it("applies a member limit to runs acting for that member, whichever agent runs them", async () => {
    const db = getDb();
    const f = await setup();
    const member = f.principals.MEMBER;
    await limit(f, { scope: "USER", userId: f.userId, period: "MONTH", limitUsd: 20, mode: "HARD", warnAtPercent: 50 });
    await spend(db, f, 6 * USD, "2026-03-02T08:00:00Z", { agentId: f.agent.id });
    await spend(db, f, 5 * USD, "2026-03-10T08:00:00Z", { agentId: f.otherAgent.id });
    await spend(db, f, 100 * USD, "2026-03-10T08:00:00Z", { userId: f.otherUserId });

    const warned = await check(f, NOW, { agentId: f.otherAgent.id });
    expect(warned.blocked).toBeNull();
    expect(warned.warnings).toHaveLength(1);
    expect(warned.warnings[0]).toMatchObject({
      scope: "USER",
      spentMicros: 11 * USD,
      percent: 55,
      label: `Member ${member.name} · monthly`,
      message: `Member ${member.name} has used 55 % of their monthly hard limit of $20.00 ($11.00 spent).`,
    });
    await expect(check(f, NOW, { userId: f.otherUserId })).resolves.toEqual({ blocked: null, warnings: [] });

    await spend(db, f, 9 * USD, "2026-03-14T08:00:00Z");
    expect((await check(f, NOW)).blocked).toMatchObject({ scope: "USER", spentMicros: 20 * USD, percent: 100 });
  });

  it("never blocks on a soft limit, even far past it", async () => {
    const f = await setup();
    await limit(f, { scope: "AGENT", agentId: f.agent.id, period: "DAY", limitUsd: 1, mode: "SOFT", warnAtPercent: 75 });
    await spend(getDb(), f, 800_000, "2026-03-15T01:00:00Z");
    const warned = await check(f, NOW);
    expect(warned).toMatchObject({ blocked: null, warnings: [{ mode: "SOFT", percent: 80 }] });
    expect(warned.warnings[0]?.message).toBe(`Agent ${f.agent.slug} has used 80 % of its daily soft limit of $1.00 ($0.80 spent).`);

    await spend(getDb(), f, 2_200_000, "2026-03-15T02:00:00Z");
    const over = await check(f, NOW);
    expect(over.blocked).toBeNull();
    expect(over.warnings).toMatchObject([{ mode: "SOFT", spentMicros: 3 * USD, percent: 300 }]);
    expect(over.warnings[0]?.message).toBe(`The daily soft limit of $1.00 for agent ${f.agent.slug} is exceeded ($3.00 spent); runs continue.`);
  });

  it("reports the most used-up hard limit as the block and every other limit past its threshold as a warning", async () => {
    const db = getDb();
    const f = await setup();
    await limit(f, { scope: "ORG", period: "DAY", limitUsd: 10, mode: "HARD" });
    await limit(f, { scope: "ORG", period: "MONTH", limitUsd: 12, mode: "HARD" });
    await limit(f, { scope: "AGENT", agentId: f.agent.id, period: "MONTH", limitUsd: 100, mode: "SOFT", warnAtPercent: 10 });
    await limit(f, { scope: "USER", userId: f.userId, period: "DAY", limitUsd: 1000, mode: "HARD" });
    await spend(db, f, 11 * USD, "2026-03-15T10:00:00Z");
    await spend(db, f, 2 * USD, "2026-03-10T10:00:00Z");

    const result = await check(f, NOW);
    expect(result.blocked).toMatchObject({ scope: "ORG", period: "DAY", spentMicros: 11 * USD, percent: 110 });
    expect(result.warnings.map((w) => [w.scope, w.period, w.mode, w.percent])).toEqual([
      ["ORG", "MONTH", "HARD", 108.3],
      ["AGENT", "MONTH", "SOFT", 13],
    ]);
    expect(result.warnings[0]?.message).toBe("The monthly hard limit of $12.00 for the organisation is used up ($13.00 spent).");
  });

  it("counts today's spend for daily limits and this month's for monthly ones", async () => {
    const db = getDb();
    const f = await setup();
    await limit(f, { scope: "ORG", period: "DAY", limitUsd: 5, mode: "HARD", warnAtPercent: 100 });
    await limit(f, { scope: "ORG", period: "MONTH", limitUsd: 10, mode: "HARD", warnAtPercent: 100 });
    await spend(db, f, 4 * USD, "2026-03-14T23:59:59.999Z"); // yesterday: month only
    await spend(db, f, 4 * USD, "2026-02-28T23:59:59.999Z"); // last month: neither
    await spend(db, f, 4 * USD, "2026-04-01T00:00:00.000Z"); // next month: neither
    await spend(db, f, 4_999_999, "2026-03-15T00:00:00.000Z"); // today
    await expect(check(f, NOW)).resolves.toEqual({ blocked: null, warnings: [] });

    await spend(db, f, 1, "2026-03-15T23:59:59.999Z");
    const result = await check(f, NOW);
    expect(result.blocked).toMatchObject({ period: "DAY", spentMicros: 5 * USD });
    expect(result.warnings).toEqual([]);

    await spend(db, f, 1_500_000, "2026-03-01T00:00:00.000Z");
    expect(await check(f, NOW)).toMatchObject({
      blocked: { period: "MONTH", spentMicros: 10_500_000, percent: 105 },
      warnings: [{ period: "DAY", spentMicros: 5 * USD, percent: 100 }],
    });
    // A day later the daily limit is fresh again, the monthly one is not.
    expect(await check(f, "2026-03-16T12:00:00Z")).toMatchObject({ blocked: { period: "MONTH" }, warnings: [] });
    // In April both are fresh.
    await expect(check(f, "2026-04-01T00:00:00Z")).resolves.toEqual({ blocked: null, warnings: [] });
  });

  it("draws the day and month boundaries at local midnight in the org's time zone", async () => {
    const db = getDb();
    const f = await setup("America/New_York", "nyc");
    // 1 March 03:00 UTC is still 28 February, 22:00, in New York (UTC−5).
    const now = "2026-03-01T03:00:00Z";
    await limit(f, { scope: "ORG", period: "DAY", limitUsd: 100, mode: "SOFT", warnAtPercent: 1 });
    await limit(f, { scope: "ORG", period: "MONTH", limitUsd: 100, mode: "SOFT", warnAtPercent: 1 });
    await spend(db, f, 1 * USD, "2026-02-28T04:59:59.999Z"); // 27 Feb 23:59:59 local: this month, not today
    await spend(db, f, 2 * USD, "2026-02-28T05:00:00.000Z"); // 28 Feb 00:00 local: today
    await spend(db, f, 4 * USD, "2026-03-01T02:00:00.000Z"); // 28 Feb 21:00 local: today, though March in UTC
    await spend(db, f, 8 * USD, "2026-02-01T04:59:59.999Z"); // 31 Jan 23:59:59 local: neither

    const spentBy = async (timeZone: string, at = now) => {
      await db.org.update({ where: { id: f.orgId }, data: { timeZone } });
      const { warnings } = await check(f, at);
      return Object.fromEntries(warnings.map((w) => [w.period, w.spentMicros / USD]));
    };
    expect(await spentBy("America/New_York")).toEqual({ DAY: 6, MONTH: 7 });
    // The same ledger read in UTC: it is already 1 March, so only the 21:00 entry is today and this month.
    expect(await spentBy("UTC")).toEqual({ DAY: 4, MONTH: 4 });
    // In Tokyo (UTC+9) it is 1 March, 12:00.
    expect(await spentBy("Asia/Tokyo")).toEqual({ DAY: 4, MONTH: 4 });
    // In India (UTC+5:30) at 18:29:59 UTC on 28 February it is 23:59:59 on the 28th.
    expect(await spentBy("Asia/Kolkata", "2026-02-28T18:29:59Z")).toEqual({ DAY: 3, MONTH: 11 });
    // An unknown zone falls back to UTC rather than stopping every run.
    expect(await spentBy("Mars/Olympus_Mons")).toEqual({ DAY: 4, MONTH: 4 });
  });

  it("lists limits with their usage, state, period and the names of whom they apply to", async () => {
    const db = getDb();
    const f = await setup("Asia/Kolkata");
    const member = f.principals.MEMBER;
    const hour = new Date(Date.now() - 60_000);
    await spend(db, f, 4_500_000, hour);
    await spend(db, f, 1_000_000, hour, { agentId: f.otherAgent.id, userId: f.otherUserId });
    const orgDay = await limit(f, { scope: "ORG", period: "DAY", limitUsd: 5, mode: "HARD", warnAtPercent: 80 });
    const agentMonth = await limit(f, { scope: "AGENT", agentId: f.agent.id, period: "MONTH", limitUsd: 100, mode: "SOFT", warnAtPercent: 90 });
    const memberDay = await limit(f, { scope: "USER", userId: f.userId, period: "DAY", limitUsd: 4, mode: "SOFT", warnAtPercent: 50 });
    expect(orgDay).toMatchObject({ scope: "ORG", limitMicros: 5 * USD, target: "Organisation", label: "Organisation · daily" });

    const list = await listSpendLimits(db, f.principals.SUPERVISOR);
    expect(list.map((l) => l.id)).toEqual([orgDay.id, agentMonth.id, memberDay.id]);
    expect(list[0]).toMatchObject({ target: "Organisation", usage: { spentMicros: 5_500_000, percent: 110, state: "exceeded" } });
    expect(list[1]).toMatchObject({
      target: `Agent ${f.agent.slug}`,
      agent: { id: f.agent.id, slug: f.agent.slug, name: "Refund agent" },
      user: null,
      usage: { spentMicros: 4_500_000, percent: 4.5, state: "ok" },
    });
    expect(list[2]).toMatchObject({
      target: `Member ${member.name}`,
      user: { id: f.userId, name: member.name, email: member.email },
      usage: { spentMicros: 4_500_000, percent: 112.5, state: "exceeded" },
    });
    // Periods are the org's local day and month.
    const day = list[0]!.usage;
    expect(day.periodEnd.getTime() - day.periodStart.getTime()).toBe(24 * 3_600_000);
    expect(day.periodStart.getUTCHours() * 60 + day.periodStart.getUTCMinutes()).toBe(18 * 60 + 30);
    expect(list[1]!.usage.periodStart.getUTCHours() * 60 + list[1]!.usage.periodStart.getUTCMinutes()).toBe(18 * 60 + 30);

    const warn = await updateSpendLimit(db, f.principals.ADMIN, { id: orgDay.id, scope: "ORG", period: "DAY", limitUsd: "6.50", mode: "HARD", warnAtPercent: 80 });
    expect(warn.limitMicros).toBe(6_500_000);
    expect((await listSpendLimits(db, f.principals.OWNER))[0]?.usage).toMatchObject({ percent: 84.6, state: "warning" });

    const summary = await spendSummary(db, f.principals.SUPERVISOR);
    expect(summary).toMatchObject({
      timeZone: "Asia/Kolkata",
      today: { spentMicros: 5_500_000, limit: { id: orgDay.id, limitMicros: 6_500_000, mode: "HARD", percent: 84.6, state: "warning" } },
      month: { spentMicros: 5_500_000, limit: null },
      topAgents: [
        { agentId: f.agent.id, slug: f.agent.slug, name: "Refund agent", spentMicros: 4_500_000 },
        { agentId: f.otherAgent.id, slug: f.otherAgent.slug, spentMicros: 1_000_000 },
      ],
    });

    const targets = await listSpendTargets(db, f.principals.SUPERVISOR);
    expect(targets.agents.map((a) => a.id).sort()).toEqual([f.agent.id, f.otherAgent.id].sort());
    expect(targets.members.map((m) => m.userId)).toHaveLength(4);
  });

  it("creates, updates and deletes limits, each with an audit event", async () => {
    const db = getDb();
    const f = await setup();
    const created = await limit(f, { scope: "AGENT", agentId: f.agent.id, period: "DAY", limitUsd: 0.000001, mode: "SOFT", warnAtPercent: 50 });
    expect(created).toMatchObject({ scope: "AGENT", agentId: f.agent.id, userId: null, limitMicros: 1, mode: "SOFT", warnAtPercent: 50 });
    expect((await db.spendLimit.findUniqueOrThrow({ where: { id: created.id } })).limitMicros).toBe(1n);

    // Defaults: hard, warn at 80 %. A limit can move to another target.
    const moved = await updateSpendLimit(db, f.principals.OWNER, { id: created.id, scope: "USER", userId: f.otherUserId, period: "MONTH", limitUsd: "1250.75" });
    expect(moved).toMatchObject({ scope: "USER", agentId: null, userId: f.otherUserId, period: "MONTH", limitMicros: 1_250_750_000, mode: "HARD", warnAtPercent: 80 });

    const deleted = await deleteSpendLimit(db, f.principals.ADMIN, created.id);
    expect(deleted.id).toBe(created.id);
    await expect(listSpendLimits(db, f.principals.OWNER)).resolves.toEqual([]);
    await expectDomainError(deleteSpendLimit(db, f.principals.OWNER, created.id), "NOT_FOUND");

    const events = await db.auditEvent.findMany({ where: { orgId: f.orgId, targetId: created.id }, orderBy: { seq: "asc" } });
    expect(events.map((e) => [e.action, e.actorId])).toEqual([
      ["spendlimit.created", f.principals.OWNER.userId],
      ["spendlimit.updated", f.principals.OWNER.userId],
      ["spendlimit.deleted", f.principals.ADMIN.userId],
    ]);
    expect(events[1]?.data).toMatchObject({ before: { scope: "AGENT", limitMicros: 1 }, after: { scope: "USER", limitMicros: 1_250_750_000 } });
  });

  it("lets supervisors read limits but only owners and admins change them; members see nothing", async () => {
    const db = getDb();
    const f = await setup();
    const input: CreateSpendLimitInput = { scope: "ORG", period: "DAY", limitUsd: 5 };
    const existing = await limit(f, { scope: "ORG", period: "MONTH", limitUsd: 50 });
    for (const role of ["MEMBER", "SUPERVISOR"] as const) {
      const principal = f.principals[role];
      await expectDomainError(createSpendLimit(db, principal, input), "FORBIDDEN");
      await expectDomainError(updateSpendLimit(db, principal, { id: existing.id, scope: "ORG", period: "MONTH", limitUsd: 1 }), "FORBIDDEN");
      await expectDomainError(deleteSpendLimit(db, principal, existing.id), "FORBIDDEN");
    }
    await expectDomainError(listSpendLimits(db, f.principals.MEMBER), "FORBIDDEN");
    await expectDomainError(spendSummary(db, f.principals.MEMBER), "FORBIDDEN");
    await expectDomainError(listSpendTargets(db, f.principals.MEMBER), "FORBIDDEN");
    await expect(listSpendLimits(db, f.principals.SUPERVISOR)).resolves.toHaveLength(1);
    await expect(createSpendLimit(db, f.principals.ADMIN, input)).resolves.toMatchObject({ scope: "ORG", period: "DAY" });
  });

  it("keeps organisations apart", async () => {
    const db = getDb();
    const f = await setup();
    const rival = await setup();
    const mine = await limit(f, { scope: "ORG", period: "DAY", limitUsd: 1 });
    await spend(db, rival, 50 * USD, "2026-03-15T10:00:00Z");
    await limit(rival, { scope: "ORG", period: "DAY", limitUsd: 1 });

    // Another org's spend and limits do not count.
    await expect(check(f, NOW)).resolves.toEqual({ blocked: null, warnings: [] });
    expect((await check(rival, NOW)).blocked?.spentMicros).toBe(50 * USD);
    expect((await listSpendLimits(db, rival.principals.OWNER)).map((l) => l.id)).not.toContain(mine.id);

    const rivalOwner = rival.principals.OWNER;
    await expectDomainError(updateSpendLimit(db, rivalOwner, { id: mine.id, scope: "ORG", period: "DAY", limitUsd: 1000 }), "NOT_FOUND");
    await expectDomainError(deleteSpendLimit(db, rivalOwner, mine.id), "NOT_FOUND");
    const foreignAgent = await expectDomainError(
      createSpendLimit(db, rivalOwner, { scope: "AGENT", agentId: f.agent.id, period: "DAY", limitUsd: 1 }),
      "INVALID_INPUT",
    );
    expect(foreignAgent.fieldErrors?.agentId).toEqual(["Choose one of this organisation's agents."]);
    const foreignUser = await expectDomainError(
      createSpendLimit(db, rivalOwner, { scope: "USER", userId: f.userId, period: "DAY", limitUsd: 1 }),
      "INVALID_INPUT",
    );
    expect(foreignUser.fieldErrors?.userId).toEqual(["Choose a current member of this organisation."]);
    const rivalTargets = await listSpendTargets(db, rivalOwner);
    expect(rivalTargets.agents.map((a) => a.id)).not.toContain(f.agent.id);
    expect(rivalTargets.members.map((m) => m.userId)).not.toContain(f.userId);
    expect((await db.spendLimit.findUniqueOrThrow({ where: { id: mine.id } })).limitMicros).toBe(1_000_000n);
  });

  it("refuses bad input with a message next to each field, and duplicates with a conflict", async () => {
    const db = getDb();
    const f = await setup();
    const owner = f.principals.OWNER;
    const create = (input: Record<string, unknown>) => createSpendLimit(db, owner, input as CreateSpendLimitInput);

    const noAgent = await expectDomainError(create({ scope: "AGENT", period: "DAY", limitUsd: 5 }), "INVALID_INPUT");
    expect(noAgent.message).toBe("Choose the agent this limit applies to.");
    expect(noAgent.fieldErrors).toEqual({ agentId: ["Choose the agent this limit applies to."] });
    const noMember = await expectDomainError(create({ scope: "USER", userId: "", period: "DAY", limitUsd: 5 }), "INVALID_INPUT");
    expect(noMember.fieldErrors).toEqual({ userId: ["Choose the member this limit applies to."] });
    const stray = await expectDomainError(create({ scope: "ORG", agentId: f.agent.id, period: "DAY", limitUsd: 5 }), "INVALID_INPUT");
    expect(stray.fieldErrors).toEqual({ agentId: ["Only an agent limit names an agent: leave the agent empty."] });

    const tooPrecise = await expectDomainError(create({ scope: "ORG", period: "DAY", limitUsd: 0.0000001 }), "INVALID_INPUT");
    expect(tooPrecise.fieldErrors).toEqual({ limitUsd: ["Use at most 6 decimal places: the smallest amount is $0.000001."] });
    const zero = await expectDomainError(create({ scope: "ORG", period: "DAY", limitUsd: "0" }), "INVALID_INPUT");
    expect(zero.fieldErrors).toEqual({ limitUsd: ["The limit must be more than $0."] });
    const missing = await expectDomainError(create({ scope: "ORG", period: "DAY" }), "INVALID_INPUT");
    expect(missing.fieldErrors).toEqual({ limitUsd: ["Enter the limit in dollars, e.g. 25 or 0.50."] });

    // Every problem at once, so a form can show them all.
    const many = await expectDomainError(create({ scope: "AGENT", period: "WEEK", limitUsd: "-3", mode: "LOUD", warnAtPercent: 0 }), "INVALID_INPUT");
    expect(many.message).toBe("5 fields need attention.");
    expect(many.fieldErrors).toEqual({
      agentId: ["Choose the agent this limit applies to."],
      period: ["Choose a period: per day or per month."],
      limitUsd: ["The limit must be more than $0."],
      mode: ["Choose hard (stops runs) or soft (only warns)."],
      warnAtPercent: ["Warn at 1 % or more."],
    });
    const fraction = await expectDomainError(create({ scope: "ORG", period: "DAY", limitUsd: 5, warnAtPercent: 50.5 }), "INVALID_INPUT");
    expect(fraction.fieldErrors).toEqual({ warnAtPercent: ["Enter a whole percentage from 1 to 100."] });
    const scope = await expectDomainError(create({ scope: "TEAM", period: "DAY", limitUsd: 5 }), "INVALID_INPUT");
    expect(scope.fieldErrors).toEqual({ scope: ["Choose what the limit applies to: the organisation, an agent or a member."] });

    // A revoked member cannot get a new limit.
    await db.membership.updateMany({ where: { orgId: f.orgId, userId: f.otherUserId }, data: { revokedAt: new Date() } });
    const revoked = await expectDomainError(create({ scope: "USER", userId: f.otherUserId, period: "DAY", limitUsd: 5 }), "INVALID_INPUT");
    expect(revoked.message).toBe("That person is not a member of this organisation.");

    // One limit per target and period.
    const first = await create({ scope: "AGENT", agentId: f.agent.id, period: "DAY", limitUsd: 5 });
    const duplicate = await expectDomainError(create({ scope: "AGENT", agentId: f.agent.id, period: "DAY", limitUsd: 9, mode: "SOFT" }), "CONFLICT");
    expect(duplicate.message).toBe(`There is already a daily limit for agent ${f.agent.slug} ($5.00). Edit that one instead.`);
    await expect(create({ scope: "AGENT", agentId: f.agent.id, period: "MONTH", limitUsd: 9 })).resolves.toMatchObject({ period: "MONTH" });
    await expect(create({ scope: "AGENT", agentId: f.otherAgent.id, period: "DAY", limitUsd: 9 })).resolves.toMatchObject({ agentId: f.otherAgent.id });
    await create({ scope: "ORG", period: "DAY", limitUsd: 5 });
    const orgDuplicate = await expectDomainError(create({ scope: "ORG", period: "DAY", limitUsd: 7 }), "CONFLICT");
    expect(orgDuplicate.message).toBe("There is already a daily limit for the organisation ($5.00). Edit that one instead.");
    // Moving a limit onto another one's target and period is a duplicate too; saving it unchanged is not.
    const monthly = (await listSpendLimits(db, owner)).find((l) => l.scope === "AGENT" && l.agentId === f.agent.id && l.period === "MONTH");
    await expectDomainError(updateSpendLimit(db, owner, { id: monthly!.id, scope: "AGENT", agentId: f.agent.id, period: "DAY", limitUsd: 9 }), "CONFLICT");
    await expect(updateSpendLimit(db, owner, { id: first.id, scope: "AGENT", agentId: f.agent.id, period: "DAY", limitUsd: 6 })).resolves.toMatchObject({
      limitMicros: 6 * USD,
    });
  });

  it("serialises concurrent creates so a target never gets two limits for one period", async () => {
    const db = getDb();
    const f = await setup();
    const results = await Promise.allSettled(
      Array.from({ length: 4 }, () => createSpendLimit(db, f.principals.OWNER, { scope: "AGENT", agentId: f.agent.id, period: "DAY", limitUsd: 5 })),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(await db.spendLimit.count({ where: { orgId: f.orgId } })).toBe(1);
  });
});
