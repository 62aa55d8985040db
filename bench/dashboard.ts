import { ROLE_SCOPES } from "@/lib/scopes";
import type { Db } from "@/server/db";
import { DASHBOARD_RANGES, getDashboard, type DashboardRange } from "@/server/domain/dashboard/dashboard";
import type { Principal } from "@/server/domain/identity/principal";
import { openEmbeddedBench } from "./lib/databases";
import { percentile, runMain } from "./lib/stats";
import { seedRunHistory } from "./seed-history";

/**
 * How long the dashboard's data takes to load on the embedded database (PGlite, a data folder on disk, as
 * `npm start` runs it) for an organisation with a month of history: 1,200 runs with their traces, spend entries,
 * approvals and drafts. Times the same domain call the tRPC procedure makes, after a warm-up.
 *
 *   npm run bench:dashboard            (or: npx tsx bench/dashboard.ts)
 *
 * Exits non-zero when the p95 of the default range (24h, what the page opens with) is 300 ms or more.
 */

const RUNS = 1_200;
const DAYS = 30;
const WARM_UP = 5;
const ITERATIONS = 30;
const TARGET_MS = 300;
const DEFAULT_RANGE: DashboardRange = "24h";

const ms = (value: number) => `${value.toFixed(1).padStart(6)} ms`;

async function createOwner(db: Db): Promise<Principal> {
  const org = await db.org.create({ data: { name: "Bench Corp", slug: "bench", timeZone: "Europe/Berlin" } });
  const user = await db.user.create({ data: { email: "owner@bench.test", name: "Bench Owner" } });
  await db.membership.create({ data: { orgId: org.id, userId: user.id, role: "OWNER" } });
  // Limits make the spend part of the dashboard do its full work.
  await db.spendLimit.createMany({
    data: [
      { orgId: org.id, scope: "ORG", period: "DAY", limitMicros: 25_000_000n, mode: "SOFT" },
      { orgId: org.id, scope: "ORG", period: "MONTH", limitMicros: 600_000_000n, mode: "HARD" },
    ],
  });
  return { kind: "user", orgId: org.id, userId: user.id, email: user.email, name: user.name, role: "OWNER", scopes: ROLE_SCOPES.OWNER };
}

async function time(db: Db, principal: Principal, range: DashboardRange): Promise<number[]> {
  for (let i = 0; i < WARM_UP; i += 1) await getDashboard(db, principal, { range });
  const samples: number[] = [];
  for (let i = 0; i < ITERATIONS; i += 1) {
    const start = process.hrtime.bigint();
    await getDashboard(db, principal, { range });
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return samples.sort((a, b) => a - b);
}

async function main(): Promise<number> {
  let started = Date.now();
  const bench = await openEmbeddedBench("dashboard");
  const { db } = bench;
  try {
    console.log(`Database: ${bench.label}, migrated in ${Date.now() - started} ms; ${await bench.durability()}`);

    const principal = await createOwner(db);
    const seeded = await seedRunHistory(db, { orgId: principal.orgId, userId: principal.userId ?? "", runs: RUNS, days: DAYS });
    console.log(
      `Seeded ${seeded.runs} runs over ${DAYS} days (${seeded.runsLast24h} in the last 24 h), ${seeded.events} run events, ` +
        `${seeded.spendEntries} spend entries, ${seeded.approvals} pending approvals, ${seeded.drafts} pending drafts in ${seeded.elapsedMs} ms`,
    );
    started = Date.now();
    await bench.query("ANALYZE");
    console.log(`Analyzed in ${Date.now() - started} ms`);

    const month = await getDashboard(db, principal, { range: "30d" });
    console.log(
      `Dashboard (30d) sees ${month.runs.total} runs, ${month.usage.modelCalls} model calls, ${month.usage.byModel.length} models, ` +
        `${month.usage.byAgent.length} agents, ${month.failingTools.length} failing tools, ` +
        `${month.pendingApprovals?.count ?? 0} pending approvals, ${month.pendingDrafts?.count ?? 0} pending drafts`,
    );
    const expected = await db.run.count({ where: { orgId: principal.orgId, createdAt: { gte: month.range.start } } });
    if (month.runs.total !== expected) throw new Error(`${expected} runs were created since ${month.range.start.toISOString()}, the dashboard counted ${month.runs.total}`);

    console.log(`\nDashboard data load, ${WARM_UP} warm-up + ${ITERATIONS} timed calls per range:`);
    console.log("  range      p50        p95        max");
    let defaultP95 = Number.POSITIVE_INFINITY;
    for (const range of DASHBOARD_RANGES) {
      const samples = await time(db, principal, range);
      const p95 = percentile(samples, 0.95);
      if (range === DEFAULT_RANGE) defaultP95 = p95;
      console.log(`  ${range.padEnd(5)} ${ms(percentile(samples, 0.5))} ${ms(p95)} ${ms(samples[samples.length - 1] ?? 0)}${range === DEFAULT_RANGE ? "   (default)" : ""}`);
    }
    const ok = defaultP95 < TARGET_MS;
    console.log(`\n${ok ? "PASS" : "FAIL"}: p95 of the default range (${DEFAULT_RANGE}) is ${defaultP95.toFixed(1)} ms; target < ${TARGET_MS} ms.`);
    return ok ? 0 : 1;
  } finally {
    await bench.close();
  }
}

runMain(main);
