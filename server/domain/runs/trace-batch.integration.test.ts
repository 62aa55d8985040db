import { beforeAll, expect, it, vi } from "vitest";
import type { Db } from "@/server/db";
import { sqlFor } from "@/server/sql";
import { describeOnEachDatabase } from "@/server/testing/databases";
import { createTestAgentAndRun, createTestOrg, type TestOrg } from "@/server/testing/fixtures";
import { verifyAuditChain, type AuditEntry } from "../audit/audit-log";
import { loadToolCallGate } from "../policy/tool-call-gate";
import { appendEvent, GateChanged, LeaseLost, writeTrace, writeTraces, type TraceWriter } from "./trace";

/**
 * Many runs' trace writes in one statement (writeTraces) and the batching of concurrent writes (writeTrace): each
 * run's part is written or refused on its own conditions, and one org's audit entries still form one chain.
 */
describeOnEachDatabase("trace writes of many runs in one statement", (getDb, kind) => {
  let db: Db;
  let orgA: TestOrg;
  let orgB: TestOrg;

  beforeAll(async () => {
    db = getDb();
    [orgA, orgB] = await Promise.all([createTestOrg(db, "batcha"), createTestOrg(db, "batchb")]);
  });

  async function runningRun(org: TestOrg, workerId = "worker-a"): Promise<TraceWriter & { agentId: string }> {
    const { run, agent } = await createTestAgentAndRun(db, org);
    await db.run.update({ where: { id: run.id }, data: { status: "RUNNING", leaseOwner: workerId, leaseUntil: new Date(Date.now() + 60_000) } });
    return { runId: run.id, orgId: org.orgId, workerId, agentId: agent.id };
  }
  const auditOf = (writer: TraceWriter, data: Record<string, string>): AuditEntry => ({
    orgId: writer.orgId,
    action: "policy.decision",
    actorType: "AGENT",
    targetType: "Run",
    targetId: writer.runId,
    data,
  });
  /** How many writes each trace statement carried: a batch's parts are its second parameter, a lone write is one. */
  const writesPerStatement = (calls: readonly (readonly unknown[])[]) =>
    calls
      .filter(([text]) => String(text).includes("lease AS ("))
      .map(([text, params]) => (String(text).includes("parts AS (") ? (JSON.parse(String((params as unknown[])[1])) as unknown[]).length : 1));
  const decision = (name: string) => ({ type: "POLICY_DECISION" as const, name, status: "OK" as const, payload: { name } });

  it("writes each part or refuses it alone: a lost lease, a changed gate and a spend limit touch no other run", async () => {
    const [a1, a2, lost, gated, b1, b2] = await Promise.all([
      runningRun(orgA),
      runningRun(orgA),
      runningRun(orgA),
      runningRun(orgA),
      runningRun(orgB),
      runningRun(orgB),
    ]);
    const limitedOrg = await createTestOrg(db, "batchc");
    const limited = await runningRun(limitedOrg);
    await db.spendLimit.create({ data: { orgId: limitedOrg.orgId, scope: "ORG", period: "DAY", limitMicros: 1_000_000n } });
    const intent = await appendEvent(db, a2, 1, { type: "MODEL_CALL", name: "scripted", status: "PENDING", payload: { model: "scripted-v1" } });
    const userId = orgA.principals.OWNER.userId;
    const gate = await loadToolCallGate(db, orgA.orgId, userId);
    await db.policy.create({ data: { orgId: orgA.orgId, name: "new", effect: "DENY", reason: "Added after the gate was read.", toolName: "send" } });
    const auditA = await db.auditEvent.count({ where: { orgId: orgA.orgId } });
    const auditB = await db.auditEvent.count({ where: { orgId: orgB.orgId } });

    const outcomes = await writeTraces(db, [
      { writer: a1, write: { append: { seq: 1, events: [decision("a1")], audit: auditOf(a1, { part: "a1" }) } } },
      { writer: b1, write: { append: { seq: 1, events: [decision("b1")], audit: auditOf(b1, { part: "b1" }) } } },
      { writer: { ...lost, workerId: "worker-b" }, write: { append: { seq: 1, events: [decision("lost")], audit: auditOf(lost, { part: "lost" }) } } },
      {
        writer: a2,
        write: {
          complete: { eventId: intent.id, completion: { status: "OK", payload: { answer: "done" }, inputTokens: 5, outputTokens: 2, costMicros: 7 } },
          append: { seq: 2, events: [decision("a2"), { type: "TOOL_CALL", name: "send", status: "PENDING", payload: {} }], audit: auditOf(a2, { part: "a2" }) },
        },
      },
      { writer: gated, write: { append: { seq: 1, events: [decision("gated")], audit: auditOf(gated, { part: "gated" }) }, gate: { userId, digest: gate.digest } } },
      { writer: limited, write: { append: { seq: 1, events: [{ type: "MODEL_CALL", name: "m", status: "PENDING", payload: {} }], unlessSpendLimited: { agentId: limited.agentId, userId } } } },
      { writer: b2, write: { append: { seq: 1, events: [decision("b2")], audit: auditOf(b2, { part: "b2" }) } } },
    ]);

    const [wroteA1, wroteB1, refusedLost, wroteA2, refusedGate, heldBack, wroteB2] = outcomes;
    expect(refusedLost).toBeInstanceOf(LeaseLost);
    expect(refusedGate).toBeInstanceOf(GateChanged);
    expect(heldBack).toMatchObject({ spendLimited: true, appended: [] });
    for (const written of [wroteA1, wroteB1, wroteA2, wroteB2]) expect(written).not.toBeInstanceOf(Error);
    expect(wroteA2).toMatchObject({ appended: [{ seq: 2, name: "a2" }, { seq: 3, name: "send", status: "PENDING" }] });

    const names = async (writer: TraceWriter) => (await db.runEvent.findMany({ where: { runId: writer.runId }, orderBy: { seq: "asc" } })).map((e) => `${e.seq}:${e.name}:${e.status}`);
    expect(await names(a1)).toEqual(["1:a1:OK"]);
    expect(await names(a2)).toEqual(["1:scripted:OK", "2:a2:OK", "3:send:PENDING"]);
    expect(await names(b1)).toEqual(["1:b1:OK"]);
    expect(await names(b2)).toEqual(["1:b2:OK"]);
    expect(await names(lost)).toEqual([]);
    expect(await names(gated)).toEqual([]);
    expect(await names(limited)).toEqual([]);
    expect(await db.run.findUniqueOrThrow({ where: { id: a2.runId }, select: { inputTokens: true, costMicros: true, stepCount: true } })).toEqual({
      inputTokens: 5,
      costMicros: 7,
      stepCount: 3,
    });
    // Each org's entries are chained in part order, and nothing is audited for a refused part.
    const audited = async (org: TestOrg, after: number) =>
      (await db.auditEvent.findMany({ where: { orgId: org.orgId, seq: { gt: after } }, orderBy: { seq: "asc" } })).map((e) => (e.data as { part: string }).part);
    expect(await audited(orgA, auditA)).toEqual(["a1", "a2"]);
    expect(await audited(orgB, auditB)).toEqual(["b1", "b2"]);
    expect(await verifyAuditChain(db, orgA.orgId)).toMatchObject({ ok: true });
    expect(await verifyAuditChain(db, orgB.orgId)).toMatchObject({ ok: true });
  });

  it("sends writes made while others are out as one statement (on PostgreSQL), and a write the database rejects fails alone", async () => {
    const writers = await Promise.all(Array.from({ length: 12 }, () => runningRun(orgA)));
    const before = await db.auditEvent.count({ where: { orgId: orgA.orgId } });
    const sql = sqlFor(db);
    const query = vi.spyOn(sql, "query");
    try {
      const settled = await Promise.allSettled(
        writers.map((writer, index) =>
          writeTrace(db, writer, {
            // PostgreSQL refuses a NUL character in jsonb: this part's data makes the whole statement fail.
            append: { seq: 1, events: [{ ...decision(`w${index}`), payload: index === 5 ? { text: "nul \u0000 here" } : { index } }], audit: auditOf(writer, { part: `w${index}` }) },
          }),
        ),
      );
      expect(settled.map((outcome) => outcome.status)).toEqual(writers.map((_, index) => (index === 5 ? "rejected" : "fulfilled")));
      // On PostgreSQL the first two went at once, alone (two batches may be out); the other ten waited and went as one
      // statement, which failed on the bad part, so each of those ten was sent again alone: 2 + 1 + 10.
      // PGlite runs one statement at a time: there every write goes alone.
      expect(writesPerStatement(query.mock.calls)).toEqual(kind === "pglite" ? Array(12).fill(1) : [1, 1, 10, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    } finally {
      query.mockRestore();
    }
    expect(await db.runEvent.count({ where: { runId: { in: writers.map((w) => w.runId) } } })).toBe(11);
    expect(await db.runEvent.count({ where: { runId: writers[5]!.runId } })).toBe(0);
    expect(await db.auditEvent.count({ where: { orgId: orgA.orgId } })).toBe(before + 11);
    expect(await verifyAuditChain(db, orgA.orgId)).toMatchObject({ ok: true });

    // Without a failure, the same twelve at once are three statements. They are made in descending run id order; a
    // batch goes in ascending order (runs' rows are locked in id order), and each writer still gets its own result.
    const next = (await Promise.all(Array.from({ length: 12 }, () => runningRun(orgA)))).sort((a, b) => (a.runId < b.runId ? 1 : -1));
    const counted = vi.spyOn(sql, "query");
    try {
      const written = await Promise.all(
        next.map((writer, index) => writeTrace(db, writer, { append: { seq: 1, events: [decision(`n${index}`)], audit: auditOf(writer, { part: `n${index}` }) } })),
      );
      expect(writesPerStatement(counted.mock.calls)).toEqual(kind === "pglite" ? Array(12).fill(1) : [1, 1, 10]);
      expect(written.map((result) => result.appended.map((event) => event.name))).toEqual(next.map((_, index) => [`n${index}`]));
      const batch = counted.mock.calls.find(([text]) => String(text).includes("parts AS ("));
      if (kind === "postgresql") {
        const runIds = (JSON.parse(String((batch![1] as unknown[])[1])) as { run_id: string }[]).map((part) => part.run_id);
        expect(runIds).toEqual([...runIds].sort());
      }
    } finally {
      counted.mockRestore();
    }
    const stored = await db.runEvent.findMany({ where: { runId: { in: next.map((w) => w.runId) } }, select: { runId: true, name: true } });
    expect(new Map(stored.map((event) => [event.runId, event.name]))).toEqual(new Map(next.map((writer, index) => [writer.runId, `n${index}`])));
    expect(await verifyAuditChain(db, orgA.orgId)).toMatchObject({ ok: true });
  });
});
