import { afterAll, beforeAll, expect, it } from "vitest";
import { decideApproval, listApprovals } from "../domain/approvals/approvals";
import { seedDefaultPolicies } from "../domain/policy/policies";
import { createRun } from "../domain/runs/runs";
import { createKernelDeps } from "../runtime/deps";
import { McpClientPool } from "../runtime/mcp/pool";
import { Worker } from "../runtime/worker";
import { describeOnEachDatabase } from "../testing/databases";
import { createTestOrg, type TestOrg } from "../testing/fixtures";
import { createDemoToolsFor, createScriptedAgent, waitForRun } from "../testing/kernel-fixtures";
import { createKernelObserver, type FlushableObserver } from "./observer";
import { spanIdForEvent, spanIdForRun, traceIdForRun } from "./otel";
import { startOtlpReceiver, type ReceivedSpan } from "./testing/otlp-receiver";

const nanos = (date: Date) => (BigInt(date.getTime()) * 1_000_000n).toString();
const SPAN_KIND_INTERNAL = 1;
const SPAN_KIND_CLIENT = 3;
const STATUS_OK = 1;
const STATUS_ERROR = 2;

describeOnEachDatabase("OpenTelemetry export of run traces", (getDb) => {
  let org: TestOrg;
  let worker: Worker;
  let observer: FlushableObserver;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  const pool = new McpClientPool();

  /** Flushes until `ready` holds for what the receiver got: the export runs in the background after each drive. */
  async function spansWhen(ready: (spans: ReceivedSpan[]) => boolean): Promise<ReceivedSpan[]> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      await observer.flush();
      if (ready(receiver.spans)) return receiver.spans;
      if (Date.now() > deadline) throw new Error(`spans never arrived; got: ${receiver.spans.map((s) => s.name).join(", ")}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  beforeAll(async () => {
    const db = getDb();
    receiver = await startOtlpReceiver();
    org = await createTestOrg(db, "otel");
    await createDemoToolsFor(db, org);
    await seedDefaultPolicies(db, org.orgId);
    observer = createKernelObserver(db, { tracing: { url: `${receiver.url}/v1/traces`, serviceName: "switchboard-test", scheduledDelayMillis: 50 } });
    worker = new Worker(createKernelDeps(db, { pool, encryptionKey: Buffer.alloc(32, 7), observer }), { pollMs: 50, heartbeatMs: 500, orgIds: [org.orgId] });
    worker.start();
  }, 120_000);

  afterAll(async () => {
    await worker?.stop(2_000);
    await pool.closeAll();
    await receiver?.close();
  });

  it("exports a run parked on an approval and resumed as one GenAI trace, with the persisted timestamps and no content", async () => {
    const db = getDb();
    const agent = await createScriptedAgent(db, org, {
      tools: ["lookup_order", "issue_refund"],
      script: [
        { tool: "lookup_order", args: { orderId: "9999" } },
        { tool: "lookup_order", args: { orderId: "1001" } },
        { tool: "issue_refund", args: { orderId: "1001", amountUsd: 250 } },
        { final: "Refunded." },
      ],
    });
    const input = "refund order 1001 for $250 secret-marker-5e1f";
    const { id: runId } = await createRun(db, org.principals.OWNER, { agent: agent.slug, input });
    const traceId = traceIdForRun(runId);
    const rootSpanId = spanIdForRun(runId);
    const ofRun = (spans: ReceivedSpan[]) => spans.filter((s) => s.traceId === traceId);

    // First drive: it parks on the $250 refund. Its finished steps are exported; the run's own span is not yet.
    await waitForRun(db, runId, { until: (s) => s === "WAITING_APPROVAL" });
    const parked = ofRun(await spansWhen((spans) => ofRun(spans).filter((s) => s.name.startsWith("chat ")).length === 3));
    expect(parked.map((s) => s.name).sort()).toEqual(["chat scripted-v1", "chat scripted-v1", "chat scripted-v1", "execute_tool lookup_order", "execute_tool lookup_order"]);
    expect(parked.every((s) => s.parentSpanId === rootSpanId)).toBe(true);

    const { items } = await listApprovals(db, org.principals.SUPERVISOR, { status: "PENDING", runId });
    await decideApproval(db, org.principals.SUPERVISOR, { approvalId: items[0]!.id, decision: "approve" });
    const run = await waitForRun(db, runId);
    expect(run.status).toBe("SUCCEEDED");
    const spans = ofRun(await spansWhen((all) => ofRun(all).some((s) => s.spanId === rootSpanId)));

    // Re-exports after the resume add to the same trace and never repeat a span.
    expect(new Set(spans.map((s) => s.spanId)).size).toBe(spans.length);
    const events = await db.runEvent.findMany({ where: { runId }, orderBy: { seq: "asc" } });

    const root = spans.find((s) => s.spanId === rootSpanId)!;
    expect(root).toMatchObject({ name: `invoke_agent ${agent.slug}`, parentSpanId: "", kind: SPAN_KIND_INTERNAL, status: { code: STATUS_OK } });
    expect(root.attributes).toMatchObject({
      "gen_ai.operation.name": "invoke_agent",
      "gen_ai.agent.name": agent.slug,
      "gen_ai.agent.id": agent.agentId,
      "switchboard.run.id": runId,
      "switchboard.run.status": "SUCCEEDED",
      "gen_ai.usage.input_tokens": run.inputTokens,
      "gen_ai.usage.output_tokens": run.outputTokens,
    });
    expect(root.resource["service.name"]).toBe("switchboard-test");
    expect(root.events.map((e) => e.name)).toEqual(["switchboard.run.started", "switchboard.run.resumed", "switchboard.run.finished"]);
    expect(BigInt(root.startTimeUnixNano)).toBeLessThanOrEqual(BigInt(nanos(events[0]!.startedAt)));
    expect(BigInt(root.endTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(nanos(events[events.length - 1]!.endedAt!)));

    // One chat span per model call, timed exactly as the trace recorded it, with the GenAI attributes.
    const modelEvents = events.filter((e) => e.type === "MODEL_CALL");
    const chats = spans.filter((s) => s.name.startsWith("chat "));
    expect(chats).toHaveLength(4);
    for (const event of modelEvents) {
      const chat = chats.find((s) => s.spanId === spanIdForEvent(event.id))!;
      expect(chat).toMatchObject({ kind: SPAN_KIND_CLIENT, parentSpanId: rootSpanId, startTimeUnixNano: nanos(event.startedAt), endTimeUnixNano: nanos(event.endedAt!) });
      expect(chat.attributes).toMatchObject({
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "switchboard.scripted",
        "gen_ai.request.model": "scripted-v1",
        "gen_ai.usage.input_tokens": event.inputTokens,
        "gen_ai.usage.output_tokens": event.outputTokens,
      });
    }
    expect(chats.reduce((sum, s) => sum + Number(s.attributes["gen_ai.usage.input_tokens"]), 0)).toBe(run.inputTokens);

    // execute_tool spans: the failing lookup is an error with its type; each carries its policy decision.
    const toolEvents = events.filter((e) => e.type === "TOOL_CALL");
    const tools = spans.filter((s) => s.name.startsWith("execute_tool "));
    expect(tools.map((s) => s.name)).toEqual(expect.arrayContaining(["execute_tool lookup_order", "execute_tool lookup_order", "execute_tool issue_refund"]));
    expect(tools).toHaveLength(3);
    for (const event of toolEvents) {
      const payload = event.payload as { toolCallId: string };
      const span = tools.find((s) => s.spanId === spanIdForEvent(event.id))!;
      expect(span.attributes).toMatchObject({ "gen_ai.operation.name": "execute_tool", "gen_ai.tool.call.id": payload.toolCallId, "gen_ai.tool.type": "extension", "switchboard.tool.server": "demo" });
      expect(span.events.map((e) => e.name)).toContain("switchboard.policy.decision");
    }
    const [missing, found] = toolEvents.filter((e) => e.name === "lookup_order").map((e) => tools.find((s) => s.spanId === spanIdForEvent(e.id))!);
    expect(missing!.status.code).toBe(STATUS_ERROR);
    expect(missing!.attributes["error.type"]).toBe("tool_error");
    expect(found!.status.code).not.toBe(STATUS_ERROR);
    const refund = tools.find((s) => s.name === "execute_tool issue_refund")!;
    expect(refund.events.find((e) => e.name === "switchboard.policy.decision")?.attributes["switchboard.policy.effect"]).toBe("REQUIRE_APPROVAL");

    // The wait for a person is a span of its own, covering the time until the decision.
    const approval = spans.find((s) => s.name === "approval issue_refund")!;
    expect(approval.attributes).toMatchObject({ "switchboard.approval.outcome": "APPROVED", "gen_ai.tool.name": "issue_refund" });
    expect(BigInt(approval.endTimeUnixNano)).toBeLessThanOrEqual(BigInt(refund.startTimeUnixNano));

    // Content capture is off: neither the input nor what a tool returned leaves in any request.
    const sent = receiver.bodies.join("\n");
    expect(sent).not.toContain("secret-marker-5e1f");
    expect(sent).not.toContain("jane.cooper@example.com");
  });
});
