import { afterAll, beforeAll, expect, it } from "vitest";
import { readDemoLedger } from "@/mcp-servers/demo/ledger";
import { createRun, cancelRun, getRunTrace } from "../domain/runs/runs";
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

  beforeAll(async () => {
    const db = getDb();
    org = await createTestOrg(db, "kernel");
    demo = await createDemoToolsFor(db, org);
    const deps = await createKernelDeps(db, { pool, encryptionKey: Buffer.alloc(32, 7) });
    worker = new Worker(deps, { pollMs: 50, heartbeatMs: 500 });
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
      "TOOL_CALL:lookup_order:OK",
      "MODEL_CALL:scripted:OK",
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
      script: [
        { tool: "list_directory", args: { path: demo.sandbox } },
        { final: "Listed: {{result}}" },
      ],
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
});
