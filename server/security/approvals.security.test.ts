import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { readDemoLedger } from "@/mcp-servers/demo/ledger";
import { POST as decideApprovalRoute } from "@/app/api/v1/approvals/[id]/route";
import { overrideDatabaseForTests } from "../db";
import { argsHash, decideApproval, listApprovals } from "../domain/approvals/approvals";
import { seedDefaultPolicies } from "../domain/policy/policies";
import { createRun, getRunTrace, resumeRun } from "../domain/runs/runs";
import { createKernelDeps } from "../runtime/deps";
import { McpClientPool } from "../runtime/mcp/pool";
import { Worker } from "../runtime/worker";
import { createCaller } from "../trpc/root";
import { describeOnEachDatabase } from "../testing/databases";
import { createTestApiKey, createTestOrg, type TestOrg } from "../testing/fixtures";
import { createDemoToolsFor, createScriptedAgent, waitForRun } from "../testing/kernel-fixtures";
import { callRest } from "../testing/rest";
import { recordSecurityCounts } from "./report";

const ENCRYPTION_KEY = Buffer.alloc(32, 5);
const refundScript = [
  { tool: "lookup_order", args: { orderId: "{{input.match:/order (\\d+)/:1}}" } },
  { tool: "issue_refund", args: { orderId: "{{result.id}}", amountUsd: "{{input.match:/\\$(\\d+)/:1|number}}" } },
  { final: "Refund step said: {{result}}" },
];

/**
 * An OpenAI-compatible model on a real HTTP port that always names its tool call "call_same": providers choose call
 * ids, and a model (or a proxy in front of one) may repeat them. Turn N proposes the N-th refund of `amounts`.
 */
async function startRepeatingIdModel(amounts: number[]) {
  const bodies: { messages: { role: string }[] }[] = [];
  const server = http.createServer((req, res) => {
    let text = "";
    req.on("data", (chunk: Buffer) => (text += chunk.toString()));
    req.on("end", () => {
      const body = JSON.parse(text) as { messages: { role: string }[]; tools?: { function: { name: string } }[] };
      bodies.push(body);
      const turn = body.messages.filter((m) => m.role === "assistant").length;
      const refund = body.tools?.find((t) => t.function.name.includes("issue_refund"))?.function.name ?? "issue_refund";
      const amount = amounts[turn];
      const message =
        amount === undefined
          ? { role: "assistant", content: "Done." }
          : { role: "assistant", content: null, tool_calls: [{ id: "call_same", type: "function", function: { name: refund, arguments: JSON.stringify({ orderId: "1005", amountUsd: amount }) } }] };
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          id: `chatcmpl-${bodies.length}`,
          object: "chat.completion",
          created: 1_700_000_000,
          model: "repeater",
          choices: [{ index: 0, finish_reason: amount === undefined ? "stop" : "tool_calls", message }],
          usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1`, bodies, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describeOnEachDatabase("approval integrity", (getDb, kind) => {
  let orgA: TestOrg;
  let orgB: TestOrg;
  let demo: Awaited<ReturnType<typeof createDemoToolsFor>>;
  let worker: Worker;
  const pool = new McpClientPool();
  const counts = { approvalsDecided: 0, executedArgsCompared: 0, argsMismatches: 0, reproposalsTried: 0, reproposalsExecutedWithoutApproval: 0, replayAttempts: 0, replaysAccepted: 0, crossOrgAttempts: 0, crossOrgAccepted: 0 };

  const refundsOf = (runId: string) => readDemoLedger(demo.ledger).filter((e) => e.kind === "refund" && e.idempotencyKey?.startsWith(`${runId}:`));

  async function pendingApprovalOf(runId: string) {
    await waitForRun(getDb(), runId, { until: (s) => s === "WAITING_APPROVAL" });
    const { items } = await listApprovals(getDb(), orgA.principals.SUPERVISOR, { status: "PENDING", runId });
    expect(items).toHaveLength(1);
    return items[0]!;
  }

  /** The executed TOOL_CALL args and the demo server's ledger both hash-equal what the approval row says was approved. */
  async function expectExecutedAsApproved(runId: string, approvalId: string) {
    const db = getDb();
    const approval = await db.approval.findUniqueOrThrow({ where: { id: approvalId } });
    expect(approval.status).toBe("APPROVED");
    expect(argsHash(approval.decidedArgs)).toBe(approval.argsHash);
    const trace = await getRunTrace(db, orgA.principals.OWNER, runId);
    const executed = trace.filter((e) => e.type === "TOOL_CALL" && e.name.includes("issue_refund") && e.status === "OK");
    const ledger = refundsOf(runId).map((entry) => (entry.kind === "refund" ? { orderId: entry.orderId, amountUsd: entry.amountUsd } : null));
    expect(executed).toHaveLength(1);
    expect(ledger).toHaveLength(1);
    const hashes = [argsHash((executed[0]!.payload as { args: unknown }).args), argsHash(ledger[0])];
    counts.executedArgsCompared += hashes.length;
    counts.argsMismatches += hashes.filter((hash) => hash !== approval.argsHash).length;
    expect(hashes).toEqual([approval.argsHash, approval.argsHash]);
  }

  beforeAll(async () => {
    const db = getDb();
    overrideDatabaseForTests(db, kind === "pglite" ? { kind: "pglite", dataDir: "memory://" } : { kind: "postgres", url: "test" });
    orgA = await createTestOrg(db, "approvals-a");
    orgB = await createTestOrg(db, "approvals-b");
    demo = await createDemoToolsFor(db, orgA);
    await seedDefaultPolicies(db, orgA.orgId);
    worker = new Worker(createKernelDeps(db, { pool, encryptionKey: ENCRYPTION_KEY }), { pollMs: 50, heartbeatMs: 500, orgIds: [orgA.orgId, orgB.orgId] });
    worker.start();
  }, 120_000);

  afterAll(async () => {
    await worker?.stop(2_000);
    await pool.closeAll();
    recordSecurityCounts(`approvals-${kind}`, counts);
  });

  it("executes exactly the approved arguments, and for edit-and-approve exactly the edited ones", async () => {
    const db = getDb();
    const agent = await createScriptedAgent(db, orgA, { tools: ["lookup_order", "issue_refund"], script: refundScript });
    const plain = await createRun(db, orgA.principals.OWNER, { agent: agent.slug, input: "refund order 1002 for $150" });
    const edited = await createRun(db, orgA.principals.OWNER, { agent: agent.slug, input: "refund order 1003 for $180" });
    const plainApproval = await pendingApprovalOf(plain.id);
    const editedApproval = await pendingApprovalOf(edited.id);
    expect(editedApproval.args).toEqual({ orderId: "1003", amountUsd: 180 });

    await decideApproval(db, orgA.principals.SUPERVISOR, { approvalId: plainApproval.id, decision: "approve" });
    await decideApproval(db, orgA.principals.SUPERVISOR, { approvalId: editedApproval.id, decision: "approve", args: { orderId: "1003", amountUsd: 120.5 } });
    counts.approvalsDecided += 2;
    expect((await waitForRun(db, plain.id)).status).toBe("SUCCEEDED");
    expect((await waitForRun(db, edited.id)).status).toBe("SUCCEEDED");
    await expectExecutedAsApproved(plain.id, plainApproval.id);
    await expectExecutedAsApproved(edited.id, editedApproval.id);
    expect(refundsOf(edited.id).map((e) => e.kind === "refund" && e.amountUsd)).toEqual([120.5]);
  });

  it("a model that proposes other arguments after an approval must be approved again, even when it reuses the call id", async () => {
    const db = getDb();
    // (1) The scripted model: a second refund in a later turn.
    const scripted = await createScriptedAgent(db, orgA, {
      tools: ["issue_refund"],
      script: [
        { tool: "issue_refund", args: { orderId: "1001", amountUsd: 150 } },
        { tool: "issue_refund", args: { orderId: "1001", amountUsd: 400 } },
        { final: "done" },
      ],
    });
    const run = await createRun(db, orgA.principals.OWNER, { agent: scripted.slug, input: "refund twice" });
    const first = await pendingApprovalOf(run.id);
    await decideApproval(db, orgA.principals.SUPERVISOR, { approvalId: first.id, decision: "approve" });
    const second = await pendingApprovalOf(run.id);
    counts.reproposalsTried += 1;
    expect(second.id).not.toBe(first.id);
    expect(second.args).toEqual({ orderId: "1001", amountUsd: 400 });
    expect(refundsOf(run.id).map((e) => e.kind === "refund" && e.amountUsd)).toEqual([150]);
    await decideApproval(db, orgA.principals.SUPERVISOR, { approvalId: second.id, decision: "reject", comment: "Only one refund." });
    counts.approvalsDecided += 2;
    await waitForRun(db, run.id);
    if (refundsOf(run.id).length !== 1) counts.reproposalsExecutedWithoutApproval += 1;
    expect(refundsOf(run.id).map((e) => e.kind === "refund" && e.amountUsd)).toEqual([150]);

    // (2) A real OpenAI-compatible model that reuses the id "call_same" for a different refund in its next turn.
    const model = await startRepeatingIdModel([110, 900]);
    try {
      const config = await db.modelConfig.create({
        data: { orgId: orgA.orgId, name: `repeater-${kind}`, provider: "OPENAI", model: "repeater", baseUrl: model.url, maxRetries: 0, timeoutMs: 10_000 },
      });
      const agent = await createScriptedAgent(db, orgA, { tools: ["issue_refund"], script: [{ final: "unused: this agent runs on the HTTP model" }] });
      const version = await db.agentVersion.findFirstOrThrow({ where: { agentId: agent.agentId }, orderBy: { version: "desc" } });
      await db.agentVersion.update({ where: { id: version.id }, data: { modelConfigId: config.id } });
      const repeated = await createRun(db, orgA.principals.OWNER, { agent: agent.slug, input: "refund order 1005" });
      const approved = await pendingApprovalOf(repeated.id);
      expect(approved.args).toEqual({ orderId: "1005", amountUsd: 110 });
      await decideApproval(db, orgA.principals.SUPERVISOR, { approvalId: approved.id, decision: "approve" });
      counts.approvalsDecided += 1;
      counts.reproposalsTried += 1;
      // The $900 refund under the reused id waits for its own approval; the $110 one ran once.
      const again = await pendingApprovalOf(repeated.id);
      expect(again.id).not.toBe(approved.id);
      expect(again.args).toEqual({ orderId: "1005", amountUsd: 900 });
      const amounts = refundsOf(repeated.id).map((e) => e.kind === "refund" && e.amountUsd);
      if (amounts.length !== 1) counts.reproposalsExecutedWithoutApproval += 1;
      expect(amounts).toEqual([110]);
      await decideApproval(db, orgA.principals.SUPERVISOR, { approvalId: again.id, decision: "reject" });
      counts.approvalsDecided += 1;
      expect((await waitForRun(db, repeated.id)).status).toBe("SUCCEEDED");
      expect(refundsOf(repeated.id).map((e) => e.kind === "refund" && e.amountUsd)).toEqual([110]);
      await expectExecutedAsApproved(repeated.id, approved.id);
    } finally {
      await model.close();
    }
  });

  it("an approval decides only its own run's call: deciding run X's approval never moves run Y", async () => {
    const db = getDb();
    const agent = await createScriptedAgent(db, orgA, { tools: ["lookup_order", "issue_refund"], script: refundScript });
    const x = await createRun(db, orgA.principals.OWNER, { agent: agent.slug, input: "refund order 1005 for $101" });
    const y = await createRun(db, orgA.principals.OWNER, { agent: agent.slug, input: "refund order 1005 for $102" });
    const approvalX = await pendingApprovalOf(x.id);
    const approvalY = await pendingApprovalOf(y.id);
    expect(approvalX.runId).toBe(x.id);
    expect(approvalY.runId).toBe(y.id);

    // REST: extra fields naming run Y are ignored; only X's approval is decided.
    const key = await createTestApiKey(db, orgA, ["approvals:read", "approvals:decide"]);
    const response = await callRest(decideApprovalRoute, key.plaintext, { id: approvalX.id }, {
      method: "POST",
      path: `/api/v1/approvals/${approvalX.id}`,
      body: JSON.stringify({ decision: "approve", runId: y.id, eventId: approvalY.id }),
    });
    counts.replayAttempts += 1;
    expect(response.status).toBe(200);
    counts.approvalsDecided += 1;
    expect((await waitForRun(db, x.id)).status).toBe("SUCCEEDED");
    await expectExecutedAsApproved(x.id, approvalX.id);

    // Replaying X's (now decided) approval id is refused, whoever asks, and run Y is still waiting for its own.
    counts.replayAttempts += 2;
    await expect(decideApproval(db, orgA.principals.SUPERVISOR, { approvalId: approvalX.id, decision: "approve" })).rejects.toMatchObject({ code: "CONFLICT" });
    const replay = await callRest(decideApprovalRoute, key.plaintext, { id: approvalX.id }, { method: "POST", path: `/api/v1/approvals/${approvalX.id}`, body: JSON.stringify({ decision: "approve" }) });
    expect(replay.status).toBe(409);
    // Nudging Y to run (resume) does not let it use X's approval either: it is not halted, it waits for a person.
    counts.replayAttempts += 1;
    await expect(resumeRun(db, orgA.principals.OWNER, y.id)).rejects.toMatchObject({ code: "CONFLICT" });
    expect((await db.run.findUniqueOrThrow({ where: { id: y.id } })).status).toBe("WAITING_APPROVAL");
    expect((await db.approval.findUniqueOrThrow({ where: { id: approvalY.id } })).status).toBe("PENDING");
    if (refundsOf(y.id).length > 0) counts.replaysAccepted += 1;
    expect(refundsOf(y.id)).toHaveLength(0);

    await decideApproval(db, orgA.principals.SUPERVISOR, { approvalId: approvalY.id, decision: "approve", args: { orderId: "1005", amountUsd: 50 } });
    counts.approvalsDecided += 1;
    expect((await waitForRun(db, y.id)).status).toBe("SUCCEEDED");
    await expectExecutedAsApproved(y.id, approvalY.id);
    expect(refundsOf(x.id).map((e) => e.kind === "refund" && e.amountUsd)).toEqual([101]);
  });

  it("another organisation's owner cannot see or decide an approval, over tRPC or REST", async () => {
    const db = getDb();
    const agent = await createScriptedAgent(db, orgA, { tools: ["lookup_order", "issue_refund"], script: refundScript });
    const run = await createRun(db, orgA.principals.OWNER, { agent: agent.slug, input: "refund order 1002 for $130" });
    const approval = await pendingApprovalOf(run.id);

    for (const principal of [orgB.principals.OWNER, orgB.principals.ADMIN, orgB.principals.SUPERVISOR]) {
      const caller = createCaller({ db, principal });
      counts.crossOrgAttempts += 3;
      await expect(caller.approvals.decide({ approvalId: approval.id, decision: "approve" })).rejects.toMatchObject({ code: "NOT_FOUND" });
      await expect(caller.approvals.decide({ approvalId: approval.id, decision: "approve", args: { orderId: "1002", amountUsd: 1 } })).rejects.toMatchObject({ code: "NOT_FOUND" });
      await expect(caller.approvals.decide({ approvalId: approval.id, decision: "reject" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    }
    const foreignKey = await createTestApiKey(db, orgB, ["approvals:read", "approvals:decide"]);
    for (const decision of ["approve", "reject"]) {
      counts.crossOrgAttempts += 1;
      const response = await callRest(decideApprovalRoute, foreignKey.plaintext, { id: approval.id }, { method: "POST", path: `/api/v1/approvals/${approval.id}`, body: JSON.stringify({ decision }) });
      if (response.status !== 404) counts.crossOrgAccepted += 1;
      expect(response.status).toBe(404);
    }
    const row = await db.approval.findUniqueOrThrow({ where: { id: approval.id } });
    expect(row.status).toBe("PENDING");
    expect(await db.auditEvent.count({ where: { orgId: orgB.orgId, targetId: approval.id } })).toBe(0);

    await decideApproval(db, orgA.principals.SUPERVISOR, { approvalId: approval.id, decision: "reject" });
    counts.approvalsDecided += 1;
    await waitForRun(db, run.id);
    expect(refundsOf(run.id)).toHaveLength(0);
  });
});
