import { databaseTarget } from "@/server/env";
import { openDatabase } from "@/server/db";
import { DEFAULT_ORG } from "@/server/domain/setup/seed";
import { seedRunHistory } from "./seed-history";

/**
 * Fills an existing database's demo organisation with a month of run history, to look at the dashboard with real
 * volume. Adds the benchmark's agents and models beside the demo ones, and org-wide daily and monthly spend limits
 * when the org has none. On the embedded database stop the server first (one process owns the data folder):
 *
 *   SWITCHBOARD_DATA_DIR=/tmp/dash-data npx tsx bench/seed-dashboard-demo.ts [runs]
 */
async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 1_000);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`Pass a positive number of runs, not "${process.argv[2]}".`);
  const handle = await openDatabase(databaseTarget());
  try {
    const { db } = handle;
    const org = await db.org.findUnique({ where: { slug: DEFAULT_ORG.slug }, select: { id: true, name: true } });
    if (!org) throw new Error(`No "${DEFAULT_ORG.slug}" organisation here: start the server once (it seeds the demo) and stop it again.`);
    const owner = await db.membership.findFirst({ where: { orgId: org.id, role: "OWNER", revokedAt: null }, select: { userId: true }, orderBy: { createdAt: "asc" } });
    if (!owner) throw new Error(`${org.name} has no owner to run on behalf of.`);
    if ((await db.spendLimit.count({ where: { orgId: org.id, scope: "ORG" } })) === 0) {
      await db.spendLimit.createMany({
        data: [
          { orgId: org.id, scope: "ORG", period: "DAY", limitMicros: 15_000_000n, mode: "SOFT" },
          { orgId: org.id, scope: "ORG", period: "MONTH", limitMicros: 400_000_000n, mode: "HARD" },
        ],
      });
    }
    const report = await seedRunHistory(db, { orgId: org.id, userId: owner.userId, runs, days: 30, seed: Date.now() % 100_000 });
    console.log(
      `Seeded ${org.name}: ${report.runs} runs (${report.runsLast24h} in the last 24 h), ${report.events} events, ` +
        `${report.spendEntries} spend entries, ${report.approvals} pending approvals, ${report.drafts} drafts in ${report.elapsedMs} ms.`,
    );
  } finally {
    await handle.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
