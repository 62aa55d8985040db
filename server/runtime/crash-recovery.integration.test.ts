import fs from "node:fs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { readDemoLedger } from "@/mcp-servers/demo/ledger";
import type { Db } from "../db";
import { Prisma } from "../generated/prisma/client";
import { createRun, getRunTrace } from "../domain/runs/runs";
import { describeOnEachDatabase } from "../testing/databases";
import { createTestOrg, type TestOrg } from "../testing/fixtures";
import { createDemoToolsFor, createScriptedAgent, waitForRun } from "../testing/kernel-fixtures";
import { createKernelDeps } from "./deps";
import type { KernelDeps } from "./kernel-deps";
import { McpClientPool } from "./mcp/pool";
import { Worker } from "./worker";

/**
 * Regressions found by the chaos suite (`npm run chaos`): faults between "the outside world answered" and "the
 * answer is recorded" must never turn into a recorded failure, a second execution, or a run that cannot progress.
 */

/** The ways the trace is written: a transaction, or a single raw statement (fence and write in one). */
const WRITES = new Set<string | symbol>(["$transaction", "$queryRaw", "$executeRaw", "$queryRawUnsafe", "$executeRawUnsafe"]);

/** A database handle whose next trace write fails once on demand, as when PostgreSQL drops the connection. */
function flakyDatabase(db: Db): { db: Db; failNextWrite(): void } {
  let failNext = false;
  const proxy = new Proxy(db, {
    get(target, property) {
      if (WRITES.has(property) && failNext) {
        failNext = false;
        return () => Promise.reject(new Error("Connection terminated unexpectedly"));
      }
      const value: unknown = Reflect.get(target, property);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { db: proxy, failNextWrite: () => (failNext = true) };
}

describeOnEachDatabase("crash recovery (chaos regressions)", (getDb) => {
  let org: TestOrg;
  let demo: Awaited<ReturnType<typeof createDemoToolsFor>>;
  const pool = new McpClientPool();
  const workers: Worker[] = [];

  beforeAll(async () => {
    org = await createTestOrg(getDb(), "crash");
    demo = await createDemoToolsFor(getDb(), org);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.stop(1_000)));
    await pool.closeAll();
  });

  function startWorker(deps: KernelDeps, options: { leaseMs?: number; heartbeatMs?: number } = {}): void {
    const worker = new Worker(deps, { pollMs: 50, leaseMs: options.leaseMs ?? 1_000, heartbeatMs: options.heartbeatMs ?? 300, orgIds: [org.orgId] });
    workers.push(worker);
    worker.start();
  }

  async function stopWorkers(): Promise<void> {
    await Promise.all(workers.splice(0).map((worker) => worker.stop(1_000)));
  }

  async function emailAgent(subject: string) {
    const agent = await createScriptedAgent(getDb(), org, {
      tools: ["send_email"],
      script: [{ tool: "send_email", args: { to: "customer@acme.test", subject, body: "Hello." } }, { final: "Sent." }],
    });
    await getDb().policy.create({ data: { orgId: org.orgId, name: `allow ${agent.slug}`, effect: "ALLOW", reason: "Crash test agent", agentId: agent.agentId } });
    return agent;
  }

  it("a database failure while recording a tool's result repeats the call under its key instead of recording a failure", async () => {
    const db = getDb();
    const flaky = flakyDatabase(db);
    const base = createKernelDeps(db, { pool, encryptionKey: Buffer.alloc(32, 7) });
    let injected = false;
    startWorker({
      ...base,
      db: flaky.db,
      async callTool(...args) {
        const result = await base.callTool(...args);
        if (!injected) {
          injected = true;
          flaky.failNextWrite(); // the completion of this call's event
        }
        return result;
      },
    });
    const agent = await emailAgent("db drop after send");
    const { id } = await createRun(db, org.principals.OWNER, { agent: agent.slug, input: "send it" });
    const run = await waitForRun(db, id, { timeoutMs: 30_000 });
    await stopWorkers();

    expect(injected).toBe(true);
    expect(run.error).toBeNull();
    expect(run.status).toBe("SUCCEEDED");
    const trace = await getRunTrace(db, org.principals.OWNER, id);
    const calls = trace.filter((e) => e.type === "TOOL_CALL");
    // One call, recorded as done: the email that went out is never reported to the model as failed.
    expect(calls.map((e) => e.status)).toEqual(["OK"]);
    // The failure struck exactly there: the next claim found the call's intent still PENDING and repeated it.
    const resumed = trace.filter((e) => e.type === "RUN_RESUMED").map((e) => (e.payload as { reason: string }).reason);
    expect(resumed).toEqual([expect.stringMatching(/during step \d+ \(send_email\)/)]);
    const key = (calls[0]!.payload as { idempotencyKey: string }).idempotencyKey;
    expect(readDemoLedger(demo.ledger).filter((entry) => entry.idempotencyKey === key)).toHaveLength(1);
  }, 60_000);

  it("a database failure while recording a model's answer asks the model again instead of failing the run", async () => {
    const db = getDb();
    const flaky = flakyDatabase(db);
    const base = createKernelDeps(db, { pool, encryptionKey: Buffer.alloc(32, 7) });
    let injected = false;
    startWorker({
      ...base,
      db: flaky.db,
      async callModel(...args) {
        const result = await base.callModel(...args);
        if (!injected) {
          injected = true;
          flaky.failNextWrite(); // the completion of the model call's event
        }
        return result;
      },
    });
    const agent = await createScriptedAgent(db, org, { tools: [], script: [{ final: "Done." }] });
    const { id } = await createRun(db, org.principals.OWNER, { agent: agent.slug, input: "answer" });
    const run = await waitForRun(db, id, { timeoutMs: 30_000 });
    await stopWorkers();

    expect(injected).toBe(true);
    expect(run).toMatchObject({ status: "SUCCEEDED", output: "Done.", error: null });
    const trace = await getRunTrace(db, org.principals.OWNER, id);
    const modelCalls = trace.filter((e) => e.type === "MODEL_CALL");
    expect(modelCalls.map((e) => e.status)).toEqual(["ERROR", "OK"]);
    expect((modelCalls[0]!.payload as { interrupted?: boolean }).interrupted).toBe(true);
    // Billed once: the answer that was never recorded carries no usage.
    expect(await db.spendEntry.count({ where: { runId: id } })).toBe(1);
  }, 60_000);

  it("a database failure while loading the agent at run start retries the run instead of failing it", async () => {
    const db = getDb();
    const base = createKernelDeps(db, { pool, encryptionKey: Buffer.alloc(32, 7) });
    let injected = false;
    startWorker({
      ...base,
      loadAgent(...args) {
        if (injected) return base.loadAgent(...args);
        injected = true;
        // What the PostgreSQL adapter raises when the connection is terminated under a query.
        return Promise.reject(
          new Prisma.PrismaClientKnownRequestError("Raw query failed. Code: `57P01`. Message: `terminating connection due to administrator command`", { code: "P2010", clientVersion: "test" }),
        );
      },
    });
    const agent = await createScriptedAgent(db, org, { tools: [], script: [{ final: "Started after all." }] });
    const { id } = await createRun(db, org.principals.OWNER, { agent: agent.slug, input: "start" });
    const run = await waitForRun(db, id, { timeoutMs: 30_000 });
    await stopWorkers();

    expect(injected).toBe(true);
    expect(run).toMatchObject({ status: "SUCCEEDED", output: "Started after all.", error: null });
  }, 60_000);

  it("an MCP server killed in the middle of an idempotent call is restarted and the call repeated under its key", async () => {
    const db = getDb();
    startWorker(createKernelDeps(db, { pool, encryptionKey: Buffer.alloc(32, 7) }));
    const server = await db.toolServer.findFirstOrThrow({ where: { orgId: org.orgId, name: "demo" }, select: { id: true } });
    const agent = await emailAgent("server killed mid-call");
    // Holding the ledger's lock keeps the demo server inside the call (it waits up to 5 s for the lock).
    const lock = `${demo.ledger}.lock`;
    fs.writeFileSync(lock, "held by the test");
    try {
      const { id } = await createRun(db, org.principals.OWNER, { agent: agent.slug, input: "send it" });
      const deadline = Date.now() + 20_000;
      let pid: number | null = null;
      while (!pid || !(await db.runEvent.findFirst({ where: { runId: id, type: "TOOL_CALL", status: "PENDING" } }))) {
        if (Date.now() > deadline) throw new Error("the call never reached the demo server");
        await new Promise((resolve) => setTimeout(resolve, 50));
        pid = pool.processId(server.id);
      }
      await new Promise((resolve) => setTimeout(resolve, 300)); // the request is in the server's hands
      process.kill(pid, "SIGKILL");
      fs.rmSync(lock, { force: true });

      const run = await waitForRun(db, id, { timeoutMs: 30_000 });
      expect(run.status).toBe("SUCCEEDED");
      const calls = (await getRunTrace(db, org.principals.OWNER, id)).filter((e) => e.type === "TOOL_CALL");
      expect(calls.map((e) => e.status)).toEqual(["OK"]);
      const key = (calls[0]!.payload as { idempotencyKey: string }).idempotencyKey;
      expect(readDemoLedger(demo.ledger).filter((entry) => entry.idempotencyKey === key)).toHaveLength(1);
      expect(pool.processId(server.id)).not.toBe(pid);
    } finally {
      fs.rmSync(lock, { force: true });
      await stopWorkers();
    }
  }, 60_000);

  it("a worker whose own lease lapsed mid-step re-claims the run without starting it a second time", async () => {
    const db = getDb();
    // A heartbeat far slower than the lease: the lease lapses during the 1.5 s model turn and nobody else is there,
    // so this same worker claims the run again while it is still driving it.
    startWorker(createKernelDeps(db, { pool, encryptionKey: Buffer.alloc(32, 7) }), { leaseMs: 300, heartbeatMs: 60_000 });
    const agent = await createScriptedAgent(db, org, { tools: [], script: [{ final: "Slow answer.", delayMs: 1_500 }] });
    const { id } = await createRun(db, org.principals.OWNER, { agent: agent.slug, input: "take your time" });
    const run = await waitForRun(db, id, { timeoutMs: 20_000 });
    await stopWorkers();

    expect(run).toMatchObject({ status: "SUCCEEDED", output: "Slow answer." });
    const trace = await getRunTrace(db, org.principals.OWNER, id);
    expect(trace.map((e) => `${e.type}:${e.status}`)).toEqual(["RUN_STARTED:OK", "MODEL_CALL:OK", "RUN_FINISHED:OK"]);
  }, 60_000);
});
