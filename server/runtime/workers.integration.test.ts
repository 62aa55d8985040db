import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readDemoLedger } from "@/mcp-servers/demo/ledger";
import type { Db } from "../db";
import { env } from "../env";
import { createRun, getRunTrace } from "../domain/runs/runs";
import { openTestDatabase, type TestDatabase } from "../testing/databases";
import { createTestOrg, type TestOrg } from "../testing/fixtures";
import { createDemoToolsFor, createScriptedAgent, waitForRun } from "../testing/kernel-fixtures";
import { startWorkerProcess, type WorkerProcess } from "../testing/worker-process";

/**
 * A real `npm run worker` process on the PostgreSQL test database, with a short lease so a killed one is replaced
 * fast.
 */
function startWorker(dataDir: string, options: { concurrency?: number; orgId?: string; pollMs?: number } = {}): Promise<WorkerProcess> {
  return startWorkerProcess({
    databaseUrl: env.DATABASE_URL_TEST,
    dataDir,
    leaseMs: 2000,
    heartbeatMs: 500,
    concurrency: options.concurrency ?? 100,
    ...(options.pollMs ? { pollMs: options.pollMs } : {}),
    ...(options.orgId ? { orgIds: [options.orgId] } : {}),
  });
}

describe("standalone workers on PostgreSQL", () => {
  let database: TestDatabase;
  let db: Db;
  let org: TestOrg;
  let demo: Awaited<ReturnType<typeof createDemoToolsFor>>;
  let workerDataDir: string;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    database = await openTestDatabase("postgresql");
    db = database.db;
    org = await createTestOrg(db, "workers");
    demo = await createDemoToolsFor(db, org);
    workerDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "sb-worker-"));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.stop()));
    await database?.close();
  });

  it("finishes a run whose worker was SIGKILLed mid-run, with every tool call exactly once", async () => {
    const agent = await createScriptedAgent(db, org, {
      tools: ["lookup_order", "issue_refund", "send_email"],
      script: [
        { tool: "lookup_order", args: { orderId: "1003" }, delayMs: 300 },
        { tool: "issue_refund", args: { orderId: "1003", amountUsd: 10 }, delayMs: 300 },
        { tool: "send_email", args: { to: "{{results.0.email}}", subject: "Refund", body: "We refunded $10." }, delayMs: 1500 },
        { final: "done", delayMs: 300 },
      ],
    });
    // This test is about crashes, not approvals: a rule explicitly allows the agent's side effects.
    await db.policy.create({ data: { orgId: org.orgId, name: `allow ${agent.slug}`, effect: "ALLOW", reason: "Crash test agent", agentId: agent.agentId } });
    const first = await startWorker(workerDataDir, { orgId: org.orgId });
    workers.push(first);
    const { id } = await createRun(db, org.principals.OWNER, { agent: agent.slug, input: "refund 1003" });
    // Kill it once the refund is recorded and the third model turn (1.5 s) is in flight.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const refund = await db.runEvent.findFirst({ where: { runId: id, type: "TOOL_CALL", name: "issue_refund", status: "OK" } });
      if (refund) break;
      if (Date.now() > deadline) throw new Error("the first worker never reached the refund");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await first.kill("SIGKILL");
    expect((await db.run.findUniqueOrThrow({ where: { id } })).status).toBe("RUNNING");

    workers.push(await startWorker(workerDataDir, { orgId: org.orgId }));
    const run = await waitForRun(db, id, { timeoutMs: 60_000 });
    expect(run.error).toBeNull();
    expect(run.status).toBe("SUCCEEDED");

    const trace = await getRunTrace(db, org.principals.OWNER, id);
    const toolCalls = trace.filter((e) => e.type === "TOOL_CALL");
    expect(toolCalls.map((e) => `${e.name}:${e.status}`)).toEqual(["lookup_order:OK", "issue_refund:OK", "send_email:OK"]);
    const billed = trace.filter((e) => e.type === "MODEL_CALL" && e.status === "OK");
    expect(billed).toHaveLength(4);
    expect(await db.spendEntry.count({ where: { runId: id } })).toBe(4);
    expect(run.costMicros).toBe(billed.reduce((sum, e) => sum + e.costMicros, 0));
    // The hand-over is in the trace: started by the killed worker, resumed by the new one after the refund.
    const handOvers = trace.filter((e) => e.type === "RUN_STARTED" || e.type === "RUN_RESUMED");
    expect(handOvers.map((e) => e.type)).toEqual(["RUN_STARTED", "RUN_RESUMED"]);
    const workerOf = (e: (typeof trace)[number]) => (e.payload as { workerId?: string }).workerId;
    expect(workerOf(handOvers[0]!)).not.toBe(workerOf(handOvers[1]!));
    expect(handOvers[1]!.seq).toBeGreaterThan(trace.find((e) => e.name === "issue_refund")!.seq);
    expect(trace.map((e) => e.seq)).toEqual(trace.map((_, i) => i + 1));

    const keys = new Set(toolCalls.map((e) => (e.payload as { idempotencyKey: string }).idempotencyKey));
    const mine = readDemoLedger(demo.ledger).filter((entry) => keys.has(entry.idempotencyKey ?? ""));
    expect(mine.map((entry) => entry.kind).sort()).toEqual(["email", "refund"]);
  }, 120_000);

  it("runs 100 concurrent runs on two workers, each exactly once", async () => {
    // Two fresh workers that can each hold at most 25 runs at a time: neither can take all 100 in one go, and the
    // runs last long enough (several rounds of 25) for both workers' polls to find queued runs.
    await Promise.all(workers.map((worker) => worker.stop()));
    workers.push(...(await Promise.all([startWorker(workerDataDir, { concurrency: 25, orgId: org.orgId }), startWorker(workerDataDir, { concurrency: 25, orgId: org.orgId })])));
    const agent = await createScriptedAgent(db, org, {
      tools: ["lookup_order"],
      script: [{ tool: "lookup_order", args: { orderId: "1001" }, delayMs: 200 }, { final: "ok {{result.id}}" }],
    });
    const ids = await Promise.all(Array.from({ length: 100 }, (_, i) => createRun(db, org.principals.OWNER, { agent: agent.slug, input: `run ${i}` }).then((r) => r.id)));
    const deadline = Date.now() + 90_000;
    for (;;) {
      const done = await db.run.count({ where: { id: { in: ids }, status: "SUCCEEDED" } });
      if (done === ids.length) break;
      const failed = await db.run.findFirst({ where: { id: { in: ids }, status: { in: ["FAILED", "HALTED", "CANCELLED"] } } });
      if (failed) throw new Error(`run ${failed.id} ended ${failed.status}: ${failed.error}`);
      if (Date.now() > deadline) throw new Error(`only ${done} of 100 runs finished`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const events = await db.runEvent.groupBy({ by: ["runId", "type"], where: { runId: { in: ids } }, _count: { _all: true } });
    for (const id of ids) {
      const count = (type: string) => events.find((e) => e.runId === id && e.type === type)?._count._all ?? 0;
      expect({ started: count("RUN_STARTED"), finished: count("RUN_FINISHED"), tools: count("TOOL_CALL"), models: count("MODEL_CALL") }).toEqual({
        started: 1,
        finished: 1,
        tools: 1,
        models: 2,
      });
    }
    const starters = await db.runEvent.findMany({ where: { runId: { in: ids }, type: "RUN_STARTED" }, select: { payload: true } });
    const byWorker = new Set(starters.map((e) => (e.payload as { workerId: string }).workerId));
    expect(byWorker.size).toBeGreaterThanOrEqual(2);
  }, 150_000);

  it("starts a run queued by another process at once, not at its next poll (PostgreSQL's doorbell)", async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.stop()));
    const doorbellOrg = await createTestOrg(db, "doorbell");
    // It polls once at start and then only every 60 s: only the doorbell can make it start a run sooner.
    workers.push(await startWorker(workerDataDir, { orgId: doorbellOrg.orgId, pollMs: 60_000 }));
    const agent = await createScriptedAgent(db, doorbellOrg, { tools: [], script: [{ final: "on time" }] });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    for (let i = 0; i < 3; i++) {
      const queuedAt = Date.now();
      const { id } = await createRun(db, doorbellOrg.principals.OWNER, { agent: agent.slug, input: `ring ${i}` });
      const run = await waitForRun(db, id, { timeoutMs: 20_000 });
      expect(run.status).toBe("SUCCEEDED");
      expect(Date.now() - queuedAt).toBeLessThan(10_000);
    }
  }, 120_000);
});
