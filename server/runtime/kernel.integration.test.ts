import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { readDemoLedger } from "@/mcp-servers/demo/ledger";
import { createRun, cancelRun, getRunTrace } from "../domain/runs/runs";
import { seedDefaultPolicies } from "../domain/policy/policies";
import { refreshServer, registerServer, SYSTEM_ACTOR } from "../domain/tools/servers";
import { describeOnEachDatabase } from "../testing/databases";
import { createTestOrg, type TestOrg } from "../testing/fixtures";
import { createDemoToolsFor, createScriptedAgent, waitForRun } from "../testing/kernel-fixtures";
import { createKernelDeps } from "./deps";
import { McpClientPool } from "./mcp/pool";
import { Worker } from "./worker";

describeOnEachDatabase("the agent kernel", (getDb) => {
  let org: TestOrg;
  let demo: Awaited<ReturnType<typeof createDemoToolsFor>>;
  let worker: Worker;
  const pool = new McpClientPool();

  /** The misbehaving fixture server (server/runtime/mcp/fixtures), its tools discovered, READ risk and not idempotent. */
  async function registerMisbehavingServer(orgId: string, callTimeoutMs: number): Promise<void> {
    const db = getDb();
    const server = await registerServer(db, orgId, SYSTEM_ACTOR, {
      transport: "STDIO",
      name: "misbehaving",
      command: process.execPath,
      args: [path.join(import.meta.dirname, "mcp/fixtures/misbehaving-server.mjs")],
      envSecrets: {},
      callTimeoutMs,
      maxResultBytes: 262_144,
    });
    expect((await refreshServer(db, orgId, SYSTEM_ACTOR, server.id, { mcp: pool })).error).toBeNull();
    await db.tool.updateMany({ where: { orgId, serverId: server.id }, data: { risk: "READ", idempotent: false } });
  }

  beforeAll(async () => {
    const db = getDb();
    org = await createTestOrg(db, "kernel");
    demo = await createDemoToolsFor(db, org);
    // The demo organisation's rules: small refunds go through, big ones wait for a person.
    await seedDefaultPolicies(db, org.orgId);
    const deps = createKernelDeps(db, { pool, encryptionKey: Buffer.alloc(32, 7) });
    worker = new Worker(deps, { pollMs: 50, heartbeatMs: 500, orgIds: [org.orgId] });
    worker.start();
  }, 120_000);

  afterAll(async () => {
    await worker?.stop(2_000);
    await pool.closeAll();
  });

  it("runs a scripted agent through real MCP tools, writing every step with tokens and cost", async () => {
    const db = getDb();
    const agent = await createScriptedAgent(db, org, {
      tools: ["lookup_order", "issue_refund"],
      script: [
        { tool: "lookup_order", args: { orderId: "{{input.match:/order (\\d+)/:1}}" } },
        { tool: "issue_refund", args: { orderId: "{{result.id}}", amountUsd: "{{input.match:/\\$(\\d+)/:1|number}}" } },
        { final: "Refunded order {{results.0.id}}." },
      ],
    });
    const { id } = await createRun(db, org.principals.OWNER, { agent: agent.slug, input: "refund order 1001 for $25" });
    const run = await waitForRun(db, id);
    expect(run.error).toBeNull();
    expect(run.status).toBe("SUCCEEDED");
    expect(run.output).toBe("Refunded order 1001.");
    const trace = await getRunTrace(db, org.principals.OWNER, id);
    expect(trace.map((e) => `${e.type}:${e.name}:${e.status}`)).toEqual([
      `RUN_STARTED:${agent.slug}:OK`,
      "MODEL_CALL:scripted:OK",
      "POLICY_DECISION:lookup_order: allow:OK",
      "TOOL_CALL:lookup_order:OK",
      "MODEL_CALL:scripted:OK",
      "POLICY_DECISION:issue_refund: allow:OK",
      "TOOL_CALL:issue_refund:OK",
      "MODEL_CALL:scripted:OK",
      "RUN_FINISHED:succeeded:OK",
    ]);
    expect(run.inputTokens).toBeGreaterThan(0);
    expect(run.costMicros).toBeGreaterThan(0);
    expect(run.costMicros).toBe(trace.reduce((sum, e) => sum + e.costMicros, 0));
    expect(await db.spendEntry.count({ where: { runId: id } })).toBe(3);
    const refunds = readDemoLedger(demo.ledger).filter((e) => e.kind === "refund");
    expect(refunds).toHaveLength(1);
    expect(refunds[0]).toMatchObject({ orderId: "1001", amountUsd: 25 });
  });

  it("reads real files through server-filesystem", async () => {
    const db = getDb();
    const agent = await createScriptedAgent(db, org, {
      tools: ["list_directory", "read_text_file"],
      script: [{ tool: "list_directory", args: { path: demo.sandbox } }, { final: "Listed: {{result}}" }],
    });
    const { id } = await createRun(db, org.principals.OWNER, { agent: agent.slug, input: "what is in the sandbox?" });
    const run = await waitForRun(db, id);
    expect(run.status).toBe("SUCCEEDED");
    expect(run.output).toMatch(/\[FILE\]/);
  });

  it("turns a failing tool call into a failed step the model reads, and the run goes on", async () => {
    const db = getDb();
    const agent = await createScriptedAgent(db, org, {
      tools: ["read_text_file"],
      script: [
        { tool: "read_text_file", args: { path: "/etc/shadow" } },
        { tool: "no_such_tool", args: {} },
        { final: "Done after errors." },
      ],
    });
    const { id } = await createRun(db, org.principals.OWNER, { agent: agent.slug, input: "try" });
    const run = await waitForRun(db, id);
    expect(run.status).toBe("SUCCEEDED");
    const tools = (await getRunTrace(db, org.principals.OWNER, id)).filter((e) => e.type === "TOOL_CALL");
    expect(tools.map((e) => e.status)).toEqual(["ERROR", "ERROR"]);
    expect(JSON.stringify(tools[0]?.payload)).toMatch(/denied|outside|not allowed/i);
    expect(JSON.stringify(tools[1]?.payload)).toContain('The tool \\"no_such_tool\\" is not available to this agent.');
  });

  it("fails the step of a server that crashes, hangs or writes garbage, and keeps serving other runs", async () => {
    const db = getDb();
    await registerMisbehavingServer(org.orgId, 2_000);

    const troubled = await createScriptedAgent(db, org, {
      tools: ["crash", "hang", "garbage"],
      script: [
        { tool: "crash", args: {} },
        { tool: "hang", args: {} },
        { tool: "garbage", args: {} },
        { final: "Survived three broken tools." },
      ],
    });
    const healthy = await createScriptedAgent(db, org, {
      tools: ["lookup_order"],
      script: [{ tool: "lookup_order", args: { orderId: "1002" } }, { final: "{{result.id}}" }],
    });

    const troubledRun = await createRun(db, org.principals.OWNER, { agent: troubled.slug, input: "go" });
    // While the troubled run waits on its hung tool, the same worker finishes other runs.
    await waitForRun(db, troubledRun.id, { until: () => true });
    const others = await Promise.all([1, 2, 3].map(() => createRun(db, org.principals.OWNER, { agent: healthy.slug, input: "order" })));
    const finishedOthers = await Promise.all(others.map((r) => waitForRun(db, r.id)));
    expect(finishedOthers.map((r) => [r.status, r.output])).toEqual([1, 2, 3].map(() => ["SUCCEEDED", "1002"]));

    const run = await waitForRun(db, troubledRun.id);
    expect(run.status).toBe("SUCCEEDED");
    expect(run.output).toBe("Survived three broken tools.");
    const steps = (await getRunTrace(db, org.principals.OWNER, troubledRun.id)).filter((e) => e.type === "TOOL_CALL");
    expect(steps.map((e) => `${e.name}:${e.status}`)).toEqual(["crash:ERROR", "hang:ERROR", "garbage:ERROR"]);
    const errors = steps.map((e) => JSON.stringify((e.payload as { error?: unknown }).error));
    expect(errors[0]).toMatch(/exit|crash/i);
    expect(errors[1]).toMatch(/did not answer within 2 s|timed? ?out/i);
    expect(errors[2]).toMatch(/not JSON|malformed|protocol/i);
  });

  it("halts a run at its step limit and cancels a waiting run between steps", async () => {
    const db = getDb();
    const looping = await createScriptedAgent(db, org, {
      tools: ["lookup_order"],
      maxSteps: 2,
      script: [
        { tool: "lookup_order", args: { orderId: "1001" } },
        { tool: "lookup_order", args: { orderId: "1002" } },
        { tool: "lookup_order", args: { orderId: "1003" } },
        { final: "never" },
      ],
    });
    const limited = await createRun(db, org.principals.OWNER, { agent: looping.slug, input: "go" });
    const halted = await waitForRun(db, limited.id);
    expect(halted).toMatchObject({ status: "HALTED", haltReason: "max_steps" });

    const slow = await createScriptedAgent(db, org, { tools: [], script: [{ final: "too late", delayMs: 20_000 }] });
    const { id } = await createRun(db, org.principals.OWNER, { agent: slow.slug, input: "wait" });
    await waitForRun(db, id, { until: (s) => s === "RUNNING" });
    await cancelRun(db, org.principals.MEMBER, id);
    const cancelled = await waitForRun(db, id, { timeoutMs: 10_000 });
    expect(cancelled.status).toBe("CANCELLED");
  });

  it("holds each organisation to its cap of runs at once, and takes its queued runs oldest first", async () => {
    const db = getDb();
    const capped = await createTestOrg(db, "kernel-capped");
    const other = await createTestOrg(db, "kernel-uncapped");
    const agentOf = (target: TestOrg) => createScriptedAgent(db, target, { tools: [], script: [{ final: "done", delayMs: 300 }] });
    const [cappedAgent, otherAgent] = await Promise.all([agentOf(capped), agentOf(other)]);
    // Queued before the worker starts: its first claim sees all of them at once.
    const cappedIds: string[] = [];
    for (let i = 0; i < 6; i++)
      cappedIds.push((await createRun(db, capped.principals.OWNER, { agent: cappedAgent.slug, input: `capped ${i}` })).id);
    const otherIds = await Promise.all(
      [0, 1].map(async (i) => (await createRun(db, other.principals.OWNER, { agent: otherAgent.slug, input: `other ${i}` })).id),
    );
    const cappedWorker = new Worker(createKernelDeps(db, { pool, encryptionKey: Buffer.alloc(32, 7) }), {
      pollMs: 50,
      heartbeatMs: 500,
      concurrency: 20,
      maxRunsPerOrg: 2,
      orgIds: [capped.orgId, other.orgId],
    });
    const running = () =>
      db.run.groupBy({ by: ["orgId"], where: { orgId: { in: [capped.orgId, other.orgId] }, status: "RUNNING" }, _count: { _all: true } });
    cappedWorker.start();
    try {
      let mostAtOnce = 0;
      const deadline = Date.now() + 30_000;
      while ((await db.run.count({ where: { id: { in: [...cappedIds, ...otherIds] }, status: "SUCCEEDED" } })) < 8) {
        const counts = await running();
        mostAtOnce = Math.max(mostAtOnce, counts.find((c) => c.orgId === capped.orgId)?._count._all ?? 0);
        if (Date.now() > deadline) throw new Error("the capped organisation's runs did not all finish");
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(mostAtOnce).toBeGreaterThan(0);
      expect(mostAtOnce).toBeLessThanOrEqual(2);
      // Oldest first: the capped org's runs started in the order they were queued, two at a time.
      const started = await db.run.findMany({
        where: { id: { in: cappedIds } },
        orderBy: { startedAt: "asc" },
        select: { id: true, startedAt: true },
      });
      const startedAt = new Map(started.map((r) => [r.id, r.startedAt!.getTime()]));
      expect(startedAt.get(cappedIds[2]!)!).toBeGreaterThanOrEqual(Math.max(startedAt.get(cappedIds[0]!)!, startedAt.get(cappedIds[1]!)!));
      expect(startedAt.get(cappedIds[5]!)!).toBeGreaterThanOrEqual(Math.max(...cappedIds.slice(0, 4).map((id) => startedAt.get(id)!)));
    } finally {
      await cappedWorker.stop(1_000);
    }
  });

  it("does not make a call the model proposed after a person cancelled the run during the model's turn", async () => {
    const db = getDb();
    // A worker of its own whose heartbeat would only notice the cancel long after: the trace write must.
    const quiet = await createTestOrg(db, "kernel-cancel");
    await createDemoToolsFor(db, quiet);
    const quietWorker = new Worker(createKernelDeps(db, { pool, encryptionKey: Buffer.alloc(32, 7) }), {
      pollMs: 50,
      heartbeatMs: 30_000,
      orgIds: [quiet.orgId],
    });
    quietWorker.start();
    try {
      const agent = await createScriptedAgent(db, quiet, {
        tools: ["lookup_order"],
        script: [{ tool: "lookup_order", args: { orderId: "1001" }, delayMs: 1_500 }, { final: "never" }],
      });
      const { id } = await createRun(db, quiet.principals.OWNER, { agent: agent.slug, input: "go" });
      // The model is answering once its call's intent is written.
      while ((await db.runEvent.count({ where: { runId: id, type: "MODEL_CALL", status: "PENDING" } })) === 0)
        await new Promise((r) => setTimeout(r, 20));
      await cancelRun(db, quiet.principals.OWNER, id);
      expect((await waitForRun(db, id, { timeoutMs: 10_000 })).status).toBe("CANCELLED");
      const calls = (await getRunTrace(db, quiet.principals.OWNER, id)).filter((e) => e.type === "TOOL_CALL");
      expect(calls.map((e) => [e.status, (e.payload as { error?: { kind: string } }).error?.kind])).toEqual([["ERROR", "cancelled"]]);
    } finally {
      await quietWorker.stop(1_000);
    }
  });

  it("keeps the result of a tool that answered after a person cancelled the run, and does not ask the model again", async () => {
    const db = getDb();
    const quiet = await createTestOrg(db, "kernel-cancel-tool");
    await registerMisbehavingServer(quiet.orgId, 10_000);
    const quietWorker = new Worker(createKernelDeps(db, { pool, encryptionKey: Buffer.alloc(32, 7) }), {
      pollMs: 50,
      heartbeatMs: 30_000,
      orgIds: [quiet.orgId],
    });
    quietWorker.start();
    try {
      const agent = await createScriptedAgent(db, quiet, {
        tools: ["slow"],
        script: [{ tool: "slow", args: { ms: 1_500 } }, { final: "never" }],
      });
      const { id } = await createRun(db, quiet.principals.OWNER, { agent: agent.slug, input: "go" });
      while ((await db.runEvent.count({ where: { runId: id, type: "TOOL_CALL", status: "PENDING" } })) === 0)
        await new Promise((r) => setTimeout(r, 20));
      await cancelRun(db, quiet.principals.OWNER, id);
      expect((await waitForRun(db, id, { timeoutMs: 10_000 })).status).toBe("CANCELLED");
      const trace = await getRunTrace(db, quiet.principals.OWNER, id);
      // The call had been made: its result is in the trace (written with the next model call's intent, which saw the cancel).
      const call = trace.find((e) => e.type === "TOOL_CALL");
      expect([call?.status, (call?.payload as { result?: { content: string } }).result?.content]).toEqual(["OK", "answered after 1500 ms"]);
      const modelCalls = trace.filter((e) => e.type === "MODEL_CALL");
      expect(modelCalls.map((e) => [e.status, (e.payload as { error?: string }).error ?? null])).toEqual([
        ["OK", null],
        ["ERROR", "Cancelled before the model was asked."],
      ]);
      // The call's end is when it answered, not when its result was written.
      expect(call!.endedAt!.getTime()).toBeLessThanOrEqual(modelCalls[1]!.startedAt.getTime());
    } finally {
      await quietWorker.stop(1_000);
    }
  });
});
