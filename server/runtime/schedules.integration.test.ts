import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrismaClient, type Db } from "../db";
import { env } from "../env";
import { setSchedule } from "../domain/triggers/schedules";
import { migrationSql } from "../testing/databases";
import { createTestOrg, type TestOrg } from "../testing/fixtures";
import { createScriptedAgent } from "../testing/kernel-fixtures";
import { startWorkerProcess, type WorkerProcess } from "../testing/worker-process";
import { SCHEDULE_SWEEP_MS } from "./worker";

const MINUTE = 60_000;

/**
 * The workers here run for minutes and would claim any queued run in their database, so this file gets a database
 * of its own (named after DATABASE_URL_TEST, dropped at the end) instead of sharing the one other test files use.
 */
async function createOwnDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const base = new URL(env.DATABASE_URL_TEST);
  const name = `${base.pathname.slice(1)}_sched_${crypto.randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: env.DATABASE_URL_TEST });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  for (const sql of migrationSql()) await client.query(sql);
  await client.end();
  return {
    url: url.toString(),
    drop: async () => {
      const cleanup = new pg.Client({ connectionString: env.DATABASE_URL_TEST });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await cleanup.end();
    },
  };
}

/** A real `npm run worker` process with the default lease and concurrency, as production runs it. */
function startWorker(databaseUrl: string, dataDir: string): Promise<WorkerProcess> {
  return startWorkerProcess({ databaseUrl, dataDir });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("scheduled runs with two standalone workers [postgresql]", () => {
  let database: Awaited<ReturnType<typeof createOwnDatabase>>;
  let db: Db;
  let org: TestOrg;
  let dataDir: string;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    database = await createOwnDatabase();
    db = createPrismaClient(new PrismaPg({ connectionString: database.url, max: 4 }));
    org = await createTestOrg(db, "schedules");
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "sb-schedules-"));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.stop()));
    await db?.$disconnect();
    await database?.drop();
  });

  it("with two workers running for three minutes, an every-minute schedule creates exactly three runs", async () => {
    const agent = await createScriptedAgent(db, org, { tools: [], script: [{ final: "Scheduled check done." }] });
    workers.push(...(await Promise.all([startWorker(database.url, dataDir), startWorker(database.url, dataDir)])));

    // Align: set the schedule in the first half of a minute, so the three minutes after it hold exactly three ticks
    // with room on both sides: the third comes before we stop (a few sweeps after it), the fourth 25+ s after that.
    const intoMinute = Date.now() % MINUTE;
    if (intoMinute < 1_000 || intoMinute > 30_000) await sleep((MINUTE - intoMinute + 1_000) % MINUTE);
    const since = new Date();
    await setSchedule(db, org.principals.OWNER, { agentId: agent.agentId, schedule: "* * * * *" });
    const firstTick = Math.floor(since.getTime() / MINUTE) * MINUTE + MINUTE;
    const expectedTicks = [0, 1, 2].map((i) => new Date(firstTick + i * MINUTE));
    const stopAt = since.getTime() + 3 * MINUTE + 2 * SCHEDULE_SWEEP_MS;
    const runsOfAgent = () => db.run.findMany({ where: { agentId: agent.agentId }, orderBy: { scheduledFor: "asc" } });
    while (Date.now() < stopAt) {
      const count = (await runsOfAgent()).length;
      if (count > expectedTicks.filter((tick) => tick.getTime() <= Date.now()).length) throw new Error(`${count} runs before their ticks were due`);
      await sleep(1_000);
    }
    // Let the last run finish (a one-turn script takes well under a second), then stop both workers.
    const deadline = Date.now() + 30_000;
    while ((await runsOfAgent()).some((run) => run.status !== "SUCCEEDED") && Date.now() < deadline) await sleep(250);
    await Promise.all(workers.splice(0).map((worker) => worker.stop()));
    expect(Date.now()).toBeLessThan(expectedTicks[2]!.getTime() + MINUTE);

    const runs = await runsOfAgent();
    expect(runs.map((run) => run.scheduledFor)).toEqual(expectedTicks);
    for (const run of runs) {
      expect(run).toMatchObject({ trigger: "SCHEDULE", status: "SUCCEEDED", output: "Scheduled check done.", onBehalfOfUserId: org.principals.OWNER.userId });
      expect(run.scheduledFor!.getTime() % MINUTE).toBe(0);
      // Created by a sweep within seconds of its tick, not caught up later.
      expect(run.createdAt.getTime() - run.scheduledFor!.getTime()).toBeLessThan(3 * SCHEDULE_SWEEP_MS);
    }
  }, 330_000);
});
