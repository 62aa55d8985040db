import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { GET as metricsRoute } from "@/app/api/metrics/route";
import { overrideDatabaseForTests } from "../db";
import { env } from "../env";
import { createRun } from "../domain/runs/runs";
import { createKernelDeps } from "../runtime/deps";
import { McpClientPool } from "../runtime/mcp/pool";
import { Worker } from "../runtime/worker";
import { describeOnEachDatabase } from "../testing/databases";
import { createTestOrg, type TestOrg } from "../testing/fixtures";
import { createDemoToolsFor, createScriptedAgent, waitForRun } from "../testing/kernel-fixtures";
import { RUN_STATUSES } from "./metrics";
import { parsePrometheusText, sampleValue } from "./testing/prometheus-text";

async function scrape(authorization?: string) {
  const response = await metricsRoute(new Request("http://localhost/api/metrics", { headers: authorization ? { authorization } : {} }));
  return { response, text: await response.text() };
}

async function scrapeFamilies() {
  const { response, text } = await scrape();
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(text);
}

describeOnEachDatabase("GET /api/metrics", (getDb, kind) => {
  let org: TestOrg;
  let idleOrg: TestOrg;
  let worker: Worker;
  const pool = new McpClientPool();
  const savedToken = env.SWITCHBOARD_METRICS_TOKEN;

  beforeAll(async () => {
    const db = getDb();
    overrideDatabaseForTests(db, kind === "pglite" ? { kind: "pglite", dataDir: "memory://" } : { kind: "postgres", url: "test" });
    org = await createTestOrg(db, "metrics");
    idleOrg = await createTestOrg(db, "metrics-idle");
    await createDemoToolsFor(db, org);
    await createDemoToolsFor(db, idleOrg);
    // The production observer (metrics on, tracing off: no OTEL_EXPORTER_OTLP_ENDPOINT in tests).
    worker = new Worker(createKernelDeps(db, { pool, encryptionKey: Buffer.alloc(32, 7) }), { pollMs: 50, heartbeatMs: 500, orgIds: [org.orgId] });
    worker.start();
  }, 120_000);

  afterEach(() => {
    env.SWITCHBOARD_METRICS_TOKEN = savedToken;
  });

  afterAll(async () => {
    await worker?.stop(2_000);
    await pool.closeAll();
  });

  it("counts a run's steps, tokens, cost and tool errors, and reads runs by status and the queue from the database", async () => {
    const db = getDb();
    const before = await scrapeFamilies();
    const agent = await createScriptedAgent(db, org, {
      tools: ["lookup_order"],
      script: [{ tool: "lookup_order", args: { orderId: "9999" } }, { tool: "lookup_order", args: { orderId: "1001" } }, { final: "done" }],
    });
    const { id } = await createRun(db, org.principals.OWNER, { agent: agent.slug, input: "look up an order" });
    const run = await waitForRun(db, id);
    expect(run.status).toBe("SUCCEEDED");

    // A run nobody serves (no worker claims idleOrg), made to look two minutes old: the queue must show it.
    const idleAgent = await createScriptedAgent(db, idleOrg, { tools: ["lookup_order"], script: [{ final: "never runs" }] });
    const { id: waiting } = await createRun(db, idleOrg.principals.OWNER, { agent: idleAgent.slug, input: "wait" });
    await db.$executeRaw`UPDATE runs SET updated_at = now() - interval '120 seconds' WHERE id = ${waiting}`;

    const after = await scrapeFamilies();
    const delta = (family: string, sample: string, labels: Record<string, string> = {}) =>
      sampleValue(after, family, sample, labels) - sampleValue(before, family, sample, labels);

    for (const family of ["switchboard_runs", "switchboard_queue_depth", "switchboard_queue_oldest_age_seconds", "switchboard_step_duration_seconds", "switchboard_model_tokens_total", "switchboard_model_cost_usd_total", "switchboard_tool_errors_total", "process_cpu_user_seconds_total", "nodejs_eventloop_lag_p99_seconds"]) {
      expect(after.has(family), family).toBe(true);
    }
    expect(after.get("switchboard_step_duration_seconds")?.type).toBe("histogram");
    expect(after.get("switchboard_runs")?.type).toBe("gauge");
    expect(after.get("switchboard_model_tokens_total")?.type).toBe("counter");

    // Three model calls and two tool calls, each timed; every token and micro-dollar of the run is counted.
    expect(delta("switchboard_step_duration_seconds", "switchboard_step_duration_seconds_count", { step: "model_call" })).toBe(3);
    expect(delta("switchboard_step_duration_seconds", "switchboard_step_duration_seconds_count", { step: "tool_call" })).toBe(2);
    const toolSeconds = delta("switchboard_step_duration_seconds", "switchboard_step_duration_seconds_sum", { step: "tool_call" });
    expect(toolSeconds).toBeGreaterThan(0);
    expect(toolSeconds).toBeLessThan(30);
    expect(delta("switchboard_model_tokens_total", "switchboard_model_tokens_total", { model: "scripted-v1", direction: "input" })).toBe(run.inputTokens);
    expect(delta("switchboard_model_tokens_total", "switchboard_model_tokens_total", { model: "scripted-v1", direction: "output" })).toBe(run.outputTokens);
    expect(delta("switchboard_model_cost_usd_total", "switchboard_model_cost_usd_total", { model: "scripted-v1" })).toBeCloseTo(run.costMicros / 1e6, 9);
    expect(delta("switchboard_tool_errors_total", "switchboard_tool_errors_total", { tool: "lookup_order", kind: "tool_error" })).toBe(1);

    // Runs by status: every status is present, and the values are the database's.
    const counts = await db.run.groupBy({ by: ["status"], _count: { _all: true } });
    for (const status of RUN_STATUSES) {
      const actual = counts.find((c) => c.status === status)?._count._all ?? 0;
      const reported = sampleValue(after, "switchboard_runs", "switchboard_runs", { status });
      expect(after.get("switchboard_runs")?.samples.some((s) => s.labels.status === status)).toBe(true);
      // PostgreSQL is shared with other test files running alongside: their runs may have moved on since the scrape.
      if (kind === "pglite") expect(reported, status).toBe(actual);
    }
    expect(sampleValue(after, "switchboard_runs", "switchboard_runs", { status: "SUCCEEDED" })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(after, "switchboard_queue_depth", "switchboard_queue_depth")).toBeGreaterThanOrEqual(1);
    const age = sampleValue(after, "switchboard_queue_oldest_age_seconds", "switchboard_queue_oldest_age_seconds");
    expect(age).toBeGreaterThanOrEqual(119);
    expect(age).toBeLessThan(24 * 3600);
    expect(sampleValue(after, "switchboard_metrics_database_up", "switchboard_metrics_database_up")).toBe(1);

    // Labels carry model and tool names only: never the input or what a tool returned.
    const { text } = await scrape();
    expect(text).not.toContain("look up an order");
    expect(text).not.toContain("jane.cooper@example.com");
    await db.run.update({ where: { id: waiting }, data: { status: "CANCELLED" } });
  });

  it("requires the bearer token when SWITCHBOARD_METRICS_TOKEN is set", async () => {
    env.SWITCHBOARD_METRICS_TOKEN = "metrics-token-0123456789";
    const anonymous = await scrape();
    expect(anonymous.response.status).toBe(401);
    expect(anonymous.response.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(anonymous.text).not.toContain("switchboard_runs");
    expect((await scrape("Bearer wrong-token-0123456789")).response.status).toBe(401);
    const allowed = await scrape("Bearer metrics-token-0123456789");
    expect(allowed.response.status).toBe(200);
    expect(parsePrometheusText(allowed.text).has("switchboard_runs")).toBe(true);
  });
});
