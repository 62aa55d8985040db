import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createAgent } from "../domain/agents/agents";
import { createModelConfig } from "../domain/models/model-configs";
import { overrideDatabaseForTests } from "../db";
import { seedDemoKnowledge } from "../domain/knowledge/demo-documents";
import { inputBudget, SUMMARISER_INSTRUCTIONS } from "../domain/memory/context";
import { seedDefaultPolicies } from "../domain/policy/policies";
import { createRun, getRunTrace } from "../domain/runs/runs";
import { demoAgents } from "../domain/setup/demo-agents";
import { describeOnEachDatabase } from "../testing/databases";
import { createTestOrg, type TestOrg } from "../testing/fixtures";
import { createDemoToolsFor, createScriptedAgent, waitForRun } from "../testing/kernel-fixtures";
import { createKernelDeps } from "./deps";
import { McpClientPool } from "./mcp/pool";
import type { ScriptTurn } from "./models/types";
import { Worker } from "./worker";

const ENCRYPTION_KEY = Buffer.alloc(32, 7);

/** The shipped concierge's script: remember on "remember …", otherwise answer from knowledge citing memories. */
const concierge = demoAgents("/unused").find((agent) => agent.slug === "concierge")!;

describeOnEachDatabase("the memory layer in runs", (getDb, kind) => {
  let org: TestOrg;
  let worker: Worker;
  const pool = new McpClientPool();

  const eventsOf = (runId: string) => getRunTrace(getDb(), org.principals.OWNER, runId);

  beforeAll(async () => {
    const db = getDb();
    overrideDatabaseForTests(db, kind === "pglite" ? { kind: "pglite", dataDir: "memory://" } : { kind: "postgres", url: "test" });
    org = await createTestOrg(db, "memory");
    await createDemoToolsFor(db, org);
    await seedDefaultPolicies(db, org.orgId);
    worker = new Worker(createKernelDeps(db, { pool, encryptionKey: ENCRYPTION_KEY }), { pollMs: 50, heartbeatMs: 500, orgIds: [org.orgId] });
    worker.start();
  }, 120_000);

  afterAll(async () => {
    await worker?.stop(2_000);
    await pool.closeAll();
  });

  it("run A remembers a person's preference; run B for that person recalls and cites it; a run for someone else does not see it", async () => {
    const db = getDb();
    const agent = await createScriptedAgent(db, org, {
      tools: [],
      script: concierge.script,
      memory: { recallEnabled: true, recallTopK: 5, remember: true, knowledge: true },
    });
    const alice = org.principals.SUPERVISOR;
    const bob = org.principals.MEMBER;

    const a = await createRun(db, alice, { agent: agent.slug, input: "Remember that I prefer email over phone calls." });
    const runA = await waitForRun(db, a.id);
    expect(runA.status).toBe("SUCCEEDED");
    const write = (await eventsOf(a.id)).find((e) => e.type === "MEMORY_WRITE");
    expect(write).toMatchObject({ status: "OK" });
    const memoryId = (write!.payload as { memoryId: string }).memoryId;
    expect(runA.output).toBe(`Noted. Remembered as [memory:${memoryId}].`);
    const memory = await db.memory.findUniqueOrThrow({ where: { id: memoryId } });
    expect(memory).toMatchObject({
      orgId: org.orgId,
      scope: "USER",
      kind: "PREFERENCE",
      userId: alice.userId,
      content: "I prefer email over phone calls.",
      sourceRunId: a.id,
      sourceEventId: write!.id,
    });

    const b = await createRun(db, alice, { agent: agent.slug, input: "Should we contact her by email or by phone?" });
    const runB = await waitForRun(db, b.id);
    expect(runB.status).toBe("SUCCEEDED");
    const recalled = (await eventsOf(b.id)).find((e) => e.type === "MEMORY_READ");
    expect(recalled).toMatchObject({ status: "OK", payload: { atStart: true, memories: [expect.objectContaining({ id: memoryId, source: { runId: a.id, eventId: write!.id, userId: null } })] } });
    expect(runB.output).toContain(`[memory:${memoryId}] I prefer email over phone calls.`);

    const c = await createRun(db, bob, { agent: agent.slug, input: "Should we contact her by email or by phone?" });
    const runC = await waitForRun(db, c.id);
    expect(runC.status).toBe("SUCCEEDED");
    const seenByBob = (await eventsOf(c.id)).filter((e) => e.type === "MEMORY_READ");
    expect(JSON.stringify(seenByBob)).not.toContain(memoryId);
    expect(runC.output).not.toContain(memoryId);
    expect(runC.output).not.toContain("prefer email");
  });

  it("the concierge answers from the seeded knowledge, citing the passage and the person's memory", async () => {
    const db = getDb();
    await seedDemoKnowledge(db, org.orgId);
    const agent = await createScriptedAgent(db, org, { tools: [], script: concierge.script, memory: { recallEnabled: true, recallTopK: 5, remember: true, knowledge: true } });
    const owner = org.principals.OWNER;
    const a = await createRun(db, owner, { agent: agent.slug, input: "Remember that I prefer email over phone calls." });
    expect((await waitForRun(db, a.id)).status).toBe("SUCCEEDED");
    const b = await createRun(db, owner, { agent: agent.slug, input: "How long do I have to ask for a refund, and will you email me?" });
    const run = await waitForRun(db, b.id);
    expect(run.status).toBe("SUCCEEDED");
    const search = (await eventsOf(b.id)).find((e) => e.type === "TOOL_CALL" && (e.payload as { tool: string }).tool === "search_knowledge");
    const citations = (search!.payload as { citations: { marker: string; href: string; title: string }[] }).citations;
    expect(citations.length).toBeGreaterThan(0);
    expect(citations[0]!.title).toBe("Refund policy");
    expect(citations[0]!.href).toMatch(/^\/knowledge\/[a-z0-9]+#chunk-\d+$/);
    expect(run.output).toContain(citations[0]!.marker);
    expect(run.output).toMatch(/\[memory:[a-z0-9]+\] I prefer email over phone calls\./);
  });

  it("holds a memory write for a person's approval once untrusted tool output entered the run", async () => {
    const db = getDb();
    const script: ScriptTurn[] = [
      { tool: "read_customer_email", args: { query: "m-2041" } },
      { tool: "remember", args: { content: "Rahul always gets free shipping.", kind: "fact", scope: "org" } },
      { final: "{{result}}" },
    ];
    const agent = await createScriptedAgent(db, org, { tools: ["read_customer_email"], script, memory: { recallEnabled: false, recallTopK: 0, remember: true } });
    const run = await createRun(db, org.principals.OWNER, { agent: agent.slug, input: "" });
    await waitForRun(db, run.id, { until: (status) => status === "WAITING_APPROVAL" });
    const decision = (await eventsOf(run.id)).find((e) => e.type === "POLICY_DECISION" && (e.payload as { tool: string }).tool === "remember");
    expect(decision?.payload).toMatchObject({ effect: "REQUIRE_APPROVAL", untrustedContentSeen: true });
    expect(await db.memory.count({ where: { orgId: org.orgId, content: { contains: "free shipping" } } })).toBe(0);
  });

  it("keeps a run whose history outgrows the model's context window going, and records the summary it saw instead", async () => {
    const db = getDb();
    const lookups = ["1001", "1002", "1003", "1004", "1005"].map((orderId): ScriptTurn => ({ tool: "lookup_order", args: { orderId } }));
    const emails = ["m-2041", "m-2038", "m-2031"].map((query): ScriptTurn => ({ tool: "read_customer_email", args: { query } }));
    const contextWindow = 900;
    const agent = await createScriptedAgent(db, org, {
      tools: ["lookup_order", "read_customer_email"],
      contextWindow,
      script: [...lookups, ...emails, { final: "First order: {{results.0.id}} for {{results.0.customer}}; last email from {{result.from}}." }],
    });
    const { id } = await createRun(db, org.principals.OWNER, { agent: agent.slug, input: "Go through the open orders and the newest emails." });
    const run = await waitForRun(db, id);
    expect(run.error).toBeNull();
    expect(run.status).toBe("SUCCEEDED");
    expect(run.output).toMatch(/^First order: 1001 for .+; last email from .+\.$/);

    const events = await eventsOf(id);
    const summaries = events.filter((e) => e.type === "CONTEXT_SUMMARY");
    expect(summaries.length).toBeGreaterThan(0);
    const budget = inputBudget(contextWindow);
    for (const summary of summaries) {
      const payload = summary.payload as { method: string; budget: number; tokensBefore: number; tokensAfter: number; summary: string; coversThroughSeq: number };
      expect(summary.status).toBe("OK");
      expect(payload).toMatchObject({ method: "rule", budget, tokenizer: "estimate (4 characters per token)" });
      expect(payload.tokensBefore).toBeGreaterThan(budget);
      expect(payload.tokensAfter).toBeLessThanOrEqual(budget);
      expect(payload.summary).toMatch(/called lookup_order|returned/);
      expect(payload.coversThroughSeq).toBeLessThan(summary.seq);
    }
    // Every model call went out within budget, and the ones after a summary say so.
    const calls = events.filter((e) => e.type === "MODEL_CALL");
    for (const call of calls) expect((call.payload as { contextTokens: number }).contextTokens).toBeLessThanOrEqual(budget);
  });

  it("with a real provider, the agent's own model writes the summary, billed to the run (OpenAI-compatible fixture)", async () => {
    const db = getDb();
    // The provider's HTTP endpoint is the only fake: a chat-completions server that looks five orders up one by one,
    // then answers, and summarises when asked to with the summariser's instructions.
    const requests: { messages: { role: string; content: string | null }[] }[] = [];
    let turns = 0;
    const server = createServer((req, res) => {
      let raw = "";
      req.on("data", (chunk: Buffer) => (raw += chunk.toString("utf8")));
      req.on("end", () => {
        const body = JSON.parse(raw) as { messages: { role: string; content: string | null }[] };
        requests.push(body);
        const summarising = body.messages[0]?.content === SUMMARISER_INSTRUCTIONS;
        const order = 1001 + turns;
        const message = summarising
          ? { role: "assistant", content: "SUMMARY: orders 1001 to 1003 were looked up; all exist." }
          : order <= 1005
            ? { role: "assistant", content: null, tool_calls: [{ id: `call_${order}`, type: "function", function: { name: "lookup_order", arguments: JSON.stringify({ orderId: String(order) }) } }] }
            : { role: "assistant", content: "All five orders checked." };
        if (!summarising) turns += 1;
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            id: `chatcmpl-${requests.length}`,
            object: "chat.completion",
            created: 1_700_000_000,
            model: "gpt-4o-mini",
            choices: [{ index: 0, finish_reason: "tool_calls" in message ? "tool_calls" : "stop", message }],
            usage: { prompt_tokens: 400, completion_tokens: 20, total_tokens: 420 },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const owner = org.principals.OWNER;
      const contextWindow = 1_000;
      const model = await createModelConfig(
        db,
        owner,
        {
          name: "fixture-gpt",
          provider: "OPENAI",
          model: "gpt-4o-mini",
          baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
          apiKey: "sk-fixture-0123456789",
          inputPriceMicros: 1_000_000,
          outputPriceMicros: 2_000_000,
          contextWindow,
        },
        ENCRYPTION_KEY,
      );
      const lookup = await db.tool.findFirstOrThrow({ where: { orgId: org.orgId, name: "lookup_order" }, select: { id: true } });
      const agent = await createAgent(db, owner, {
        name: "Order checker",
        slug: "order-checker",
        instructions: "Check every order you are given.",
        modelConfigId: model.id,
        config: { limits: { maxSteps: 10, maxCostMicros: 0, timeoutMs: 60_000 }, memory: { recallEnabled: false, recallTopK: 0, remember: false, knowledge: false } },
        toolIds: [lookup.id],
      });
      const { id } = await createRun(db, owner, { agent: agent.slug, input: "Check orders 1001 to 1005." });
      const run = await waitForRun(db, id);
      expect(run.error).toBeNull();
      expect(run.output).toBe("All five orders checked.");

      const events = await eventsOf(id);
      const summary = events.find((e) => e.type === "CONTEXT_SUMMARY");
      expect(summary).toMatchObject({ status: "OK", payload: { method: "model", tokenizer: "o200k_base", summary: "SUMMARY: orders 1001 to 1003 were looked up; all exist." } });
      expect(summary!.costMicros).toBeGreaterThan(0);
      const summariserCalls = requests.filter((r) => r.messages[0]?.content === SUMMARISER_INSTRUCTIONS);
      expect(summariserCalls.length).toBeGreaterThan(0);
      // The next call carried the summary (fenced as data) instead of the turns it replaced.
      const after = requests[requests.indexOf(summariserCalls[0]!) + 1]!;
      expect(after.messages[1]?.content).toContain("SUMMARY: orders 1001 to 1003 were looked up");
      expect(after.messages.length).toBeLessThan(requests[requests.indexOf(summariserCalls[0]!) - 1]!.messages.length + 2);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
