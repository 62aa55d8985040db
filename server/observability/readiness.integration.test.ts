import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GET as readyRoute } from "@/app/api/health/ready/route";
import { deployMigrations } from "@/scripts/lib/schema-engine";
import { createPrismaClient, overrideDatabaseForTests, type Db } from "../db";
import { env } from "../env";
import { createRun } from "../domain/runs/runs";
import { openTestDatabase, type TestDatabase } from "../testing/databases";
import { createTestOrg, type TestOrg } from "../testing/fixtures";
import { createDemoToolsFor, createScriptedAgent, waitForRun } from "../testing/kernel-fixtures";
import { spanIdForRun, traceIdForRun } from "./otel";
import { checkWorkerReadiness, expectedMigrations } from "./readiness";
import { startOtlpReceiver } from "./testing/otlp-receiver";
import { parsePrometheusText, sampleValue } from "./testing/prometheus-text";

const ROOT = path.resolve(import.meta.dirname, "../..");

async function ready(db: Db) {
  overrideDatabaseForTests(db, { kind: "postgres", url: "test" });
  const response = await readyRoute();
  return { status: response.status, body: (await response.json()) as { status: string; reason?: string; checks: Record<string, string> } };
}

describe("GET /api/health/ready", () => {
  const scratch = `${new URL(env.DATABASE_URL_TEST).pathname.slice(1)}_ready`;
  const scratchUrl = Object.assign(new URL(env.DATABASE_URL_TEST), { pathname: `/${scratch}` }).toString();
  const admin = () => new pg.Client({ connectionString: Object.assign(new URL(env.DATABASE_URL_TEST), { pathname: "/postgres" }).toString() });
  let migrated: Db;

  beforeAll(async () => {
    const client = admin();
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS "${scratch}" WITH (FORCE)`);
    await client.query(`CREATE DATABASE "${scratch}"`);
    await client.end();
    await deployMigrations({ kind: "postgres", url: scratchUrl });
    migrated = createPrismaClient(new PrismaPg({ connectionString: scratchUrl, max: 2 }));
  }, 120_000);

  afterAll(async () => {
    await migrated?.$disconnect();
    const client = admin();
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS "${scratch}" WITH (FORCE)`);
    await client.end();
  });

  it("is ready on a PostgreSQL database migrated by `npm run db:deploy`, and names what is missing otherwise", async () => {
    expect(await ready(migrated)).toEqual({ status: 200, body: { status: "ready", checks: { database: "ok", migrations: "ok" } } });

    const latest = expectedMigrations().at(-1)!;
    await migrated.$executeRaw`DELETE FROM _prisma_migrations WHERE migration_name = ${latest}`;
    const pending = await ready(migrated);
    expect(pending.status).toBe(503);
    expect(pending.body).toMatchObject({ status: "not_ready", checks: { database: "ok" } });
    expect(pending.body.reason).toBe(`1 migration(s) not applied (${latest}): run \`npm run db:deploy\``);

    const first = expectedMigrations()[0]!;
    await migrated.$executeRaw`UPDATE _prisma_migrations SET finished_at = NULL WHERE migration_name = ${first}`;
    expect((await ready(migrated)).body.reason).toMatch(new RegExp(`^migration ${first} failed or is still being applied`));
  });

  it("is not ready on a database without migration history, nor when the database cannot be reached", async () => {
    // The test database is built from the raw migration SQL, without the history `npm run db:deploy` keeps.
    const raw = await openTestDatabase("postgresql");
    try {
      const noHistory = await ready(raw.db);
      expect(noHistory).toMatchObject({ status: 503, body: { status: "not_ready", reason: "the database has no migration history: run `npm run db:deploy`" } });
    } finally {
      await raw.close();
    }
    const nowhere = createPrismaClient(new PrismaPg({ connectionString: "postgresql://postgres@127.0.0.1:1/nowhere", connectionTimeoutMillis: 2_000 }));
    const started = Date.now();
    const down = await ready(nowhere);
    expect(down.status).toBe(503);
    expect(down.body.reason).toMatch(/^the database (is unreachable|did not answer)/);
    expect(down.body.checks.migrations).toBe("not checked");
    expect(Date.now() - started).toBeLessThan(5_000);
    await nowhere.$disconnect();
  });

  it("is ready on the embedded database once its migrations are deployed", async () => {
    const pglite = new PGlite({ extensions: { vector } });
    await deployMigrations({ kind: "pglite-client", client: pglite });
    const db = createPrismaClient(new PrismaPGlite(pglite));
    try {
      expect(await ready(db)).toMatchObject({ status: 200, body: { status: "ready" } });
    } finally {
      await db.$disconnect();
      await pglite.close();
    }
  }, 60_000);

  it("reports a draining worker as not ready before touching the database", async () => {
    const nowhere = createPrismaClient(new PrismaPg({ connectionString: "postgresql://postgres@127.0.0.1:1/nowhere" }));
    expect(await checkWorkerReadiness(nowhere, true)).toMatchObject({ status: "not_ready", reason: expect.stringMatching(/draining/) as unknown });
    expect((await checkWorkerReadiness(nowhere, false)).reason).toMatch(/^the database is unreachable/);
    await nowhere.$disconnect();
  });
});

describe("npm run worker --health-port on PostgreSQL", () => {
  const TOKEN = "worker-metrics-token-42";
  let database: TestDatabase;
  let db: Db;
  let org: TestOrg;
  let child: ChildProcess | undefined;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;

  beforeAll(async () => {
    database = await openTestDatabase("postgresql");
    db = database.db;
    org = await createTestOrg(db, "health");
    await createDemoToolsFor(db, org);
    receiver = await startOtlpReceiver();
  }, 120_000);

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await receiver?.close();
    await database?.close();
  });

  it("serves /healthz, /readyz and /metrics, turns not ready as soon as SIGTERM starts the drain, and exports its runs' traces", async () => {
    // node with tsx's loader (as the standalone-worker tests do): a signal reaches the worker itself.
    child = spawn(process.execPath, ["--import", "tsx", "server/runtime/main.ts", "--health-port", "0", "--orgs", org.orgId, "--heartbeat-ms", "500"], {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: env.DATABASE_URL_TEST,
        SWITCHBOARD_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), "sb-health-")),
        SWITCHBOARD_LOG_LEVEL: "warn",
        SWITCHBOARD_METRICS_TOKEN: TOKEN,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_SERVICE_NAME: "switchboard-worker-test",
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const worker = child;
    const exited = new Promise<number | null>((resolve) => worker.once("exit", (code) => resolve(code)));
    const port = await new Promise<number>((resolve, reject) => {
      let seen = "";
      const timer = setTimeout(() => reject(new Error(`the worker did not print its health port within 60 s: ${seen}`)), 60_000);
      worker.stdout?.on("data", (chunk: Buffer) => {
        seen += chunk.toString();
        const match = /health endpoints on port (\d+)/.exec(seen);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
      void exited.then((code) => reject(new Error(`the worker exited with ${code} before it was ready`)));
    });
    const get = (pathname: string, headers: Record<string, string> = {}) => fetch(`http://127.0.0.1:${port}${pathname}`, { headers });

    expect((await get("/healthz")).status).toBe(200);
    const readyBefore = await get("/readyz");
    expect(readyBefore.status).toBe(200);
    expect(await readyBefore.json()).toMatchObject({ status: "ready", checks: { database: "ok", draining: "no" } });
    expect((await get("/metrics")).status).toBe(401);

    // A quick run with a real MCP tool call: the worker's own registry counts it.
    const quick = await createScriptedAgent(db, org, { tools: ["lookup_order"], script: [{ tool: "lookup_order", args: { orderId: "1001" } }, { final: "ok" }] });
    const { id: quickId } = await createRun(db, org.principals.OWNER, { agent: quick.slug, input: "look up 1001" });
    const quickRun = await waitForRun(db, quickId, { timeoutMs: 60_000 });
    expect(quickRun.status).toBe("SUCCEEDED");
    const scraped = await get("/metrics", { authorization: `Bearer ${TOKEN}` });
    expect(scraped.status).toBe(200);
    const families = parsePrometheusText(await scraped.text());
    expect(sampleValue(families, "switchboard_step_duration_seconds", "switchboard_step_duration_seconds_count", { step: "tool_call" })).toBe(1);
    expect(sampleValue(families, "switchboard_model_tokens_total", "switchboard_model_tokens_total", { model: "scripted-v1", direction: "input" })).toBe(quickRun.inputTokens);
    expect(sampleValue(families, "switchboard_worker_draining", "switchboard_worker_draining")).toBe(0);
    // Runs by status come from the web process only: N workers would multiply the totals.
    expect(families.has("switchboard_runs")).toBe(false);

    // A slow run is in flight when SIGTERM arrives: the worker drains it, and says so on /readyz meanwhile.
    const slow = await createScriptedAgent(db, org, { tools: [], script: [{ final: "slow answer", delayMs: 4_000 }] });
    const { id: slowId } = await createRun(db, org.principals.OWNER, { agent: slow.slug, input: "take your time" });
    const deadline = Date.now() + 30_000;
    while (!(await db.runEvent.findFirst({ where: { runId: slowId, type: "MODEL_CALL", status: "PENDING" } }))) {
      if (Date.now() > deadline) throw new Error("the slow run never reached its model call");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    worker.kill("SIGTERM");
    let draining: Response | undefined;
    for (let i = 0; i < 40; i++) {
      draining = await get("/readyz");
      if (draining.status === 503) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(draining?.status).toBe(503);
    expect(await draining?.json()).toMatchObject({ status: "not_ready", reason: expect.stringMatching(/draining/) as unknown });
    const alive = await get("/healthz");
    expect(alive.status).toBe(200);
    expect(await alive.json()).toMatchObject({ status: "ok", draining: true, activeRuns: 1 });

    expect(await exited).toBe(0);
    expect((await db.run.findUniqueOrThrow({ where: { id: slowId } })).status).toBe("SUCCEEDED");
    // The last traces left before the process did (flushed on shutdown), under the configured service name.
    const roots = receiver.spans.filter((s) => s.spanId === spanIdForRun(slowId) || s.spanId === spanIdForRun(quickId));
    expect(roots.map((s) => s.traceId).sort()).toEqual([traceIdForRun(slowId), traceIdForRun(quickId)].sort());
    expect(roots.every((s) => s.resource["service.name"] === "switchboard-worker-test")).toBe(true);
    expect(receiver.spans.some((s) => s.name === "execute_tool lookup_order" && s.traceId === traceIdForRun(quickId))).toBe(true);
  }, 120_000);
});
