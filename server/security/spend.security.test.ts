import { afterAll, beforeAll, expect, it } from "vitest";
import { overrideDatabaseForTests } from "../db";
import { updateGovernanceSettings } from "../domain/governance/settings";
import { createRun } from "../domain/runs/runs";
import { createSpendLimit } from "../domain/spend/limits";
import { estimateMaxCallCostMicros, reserveSpend, settleSpendReservation } from "../domain/spend/reservations";
import { createKernelDeps } from "../runtime/deps";
import { McpClientPool } from "../runtime/mcp/pool";
import { MAX_CONCURRENT_RUNS_PER_ORG, Worker } from "../runtime/worker";
import { describeOnEachDatabase, openTestDatabase } from "../testing/databases";
import { createTestAgentAndRun, createTestOrg, type TestOrg } from "../testing/fixtures";
import { createDemoToolsFor, createScriptedAgent, waitForRun } from "../testing/kernel-fixtures";
import { recordSecurityCounts } from "./report";

const ENCRYPTION_KEY = Buffer.alloc(32, 4);
const USD = 1_000_000;
const RUNS = 50;
/** $8 per million tokens in and out, and answers of at most 64 tokens: every call costs a few tenths of a cent. */
const PRICE_MICROS_PER_MILLION = 8_000_000;
const MAX_OUTPUT_TOKENS = 64;

describeOnEachDatabase("spend under concurrency: reserve before the call, settle after", (getDb, kind) => {
  const pool = new McpClientPool();
  let worker: Worker | undefined;

  beforeAll(() => {
    overrideDatabaseForTests(getDb(), kind === "pglite" ? { kind: "pglite", dataDir: "memory://" } : { kind: "postgres", url: "test" });
  });

  afterAll(async () => {
    await worker?.stop(5_000);
    await pool.closeAll();
  });

  it("admits concurrent reservations atomically: exactly as many as fit before the limit is reached", async () => {
    const db = getDb();
    const org = await createTestOrg(db, "reserve");
    const { agent, version } = await createTestAgentAndRun(db, org);
    await createSpendLimit(db, org.principals.OWNER, { scope: "ORG", period: "DAY", limitUsd: 1, mode: "HARD" });
    // Reservations belong to runs: 50 of them (finished ones, so no worker ever picks them up).
    const runIds: string[] = [];
    for (let i = 0; i < RUNS; i += 1) {
      const run = await db.run.create({
        data: { orgId: org.orgId, agentId: agent.id, agentVersionId: version.id, onBehalfOfUserId: org.principals.OWNER.userId, input: `r${i}`, status: "CANCELLED" },
      });
      runIds.push(run.id);
    }

    // 3 cents each against $1: 34 fit (33 × $0.03 = $0.99 is still under the limit), the 35th and later must not.
    const estimateMicros = 30_000;
    // On PostgreSQL, five separate clients (as five worker processes would be): the advisory lock must decide.
    const extra = kind === "postgresql" ? await Promise.all([1, 2, 3, 4].map(() => openTestDatabase("postgresql"))) : [];
    const clients = [db, ...extra.map((handle) => handle.db)];
    const outcomes = await Promise.all(
      runIds.map((runId, i) =>
        reserveSpend(clients[i % clients.length]!, { orgId: org.orgId, agentId: agent.id, userId: org.principals.OWNER.userId, runId, estimateMicros, lifetimeMs: 60_000 }),
      ),
    );
    await Promise.all(extra.map((handle) => handle.close()));
    const admitted = outcomes.filter((o) => o.reservationId !== null);
    expect(admitted).toHaveLength(34);
    expect(outcomes.filter((o) => o.blocked !== null)).toHaveLength(RUNS - 34);
    const blocked = outcomes.find((o) => o.blocked)?.blocked;
    expect(blocked).toMatchObject({ scope: "ORG", spentMicros: 0, reservedMicros: 34 * estimateMicros });
    expect(blocked?.message).toMatch(/is used up \(\$0\.00 spent, \$1\.02 held by model calls in progress\)/);

    // Settling releases: after every admitted call settled (and spent nothing), everybody fits again.
    for (const outcome of admitted) await settleSpendReservation(db, org.orgId, outcome.reservationId!);
    expect(await db.spendReservation.count({ where: { orgId: org.orgId } })).toBe(0);
    const again = await reserveSpend(db, { orgId: org.orgId, agentId: agent.id, userId: org.principals.OWNER.userId, runId: runIds[0]!, estimateMicros, lifetimeMs: 60_000 });
    expect(again.reservationId).not.toBeNull();

    // A crashed worker's reservation: the same run's next reservation replaces it; another run's expires.
    const replaced = await reserveSpend(db, { orgId: org.orgId, agentId: agent.id, userId: org.principals.OWNER.userId, runId: runIds[0]!, estimateMicros, lifetimeMs: 60_000 });
    expect(await db.spendReservation.findMany({ where: { orgId: org.orgId }, select: { id: true } })).toEqual([{ id: replaced.reservationId }]);
    await reserveSpend(db, { orgId: org.orgId, agentId: agent.id, userId: org.principals.OWNER.userId, runId: runIds[1]!, estimateMicros: 990_000, lifetimeMs: 60_000 });
    const later = new Date(Date.now() + 61_000);
    const afterExpiry = await reserveSpend(db, {
      orgId: org.orgId,
      agentId: agent.id,
      userId: org.principals.OWNER.userId,
      runId: runIds[2]!,
      estimateMicros,
      lifetimeMs: 60_000,
      now: later,
    });
    expect(afterExpiry.blocked).toBeNull();
    expect(await db.spendReservation.count({ where: { orgId: org.orgId } })).toBe(1);

    recordSecurityCounts(`spend-reservations-${kind}`, { concurrentReservations: RUNS, admitted: admitted.length, expectedAdmitted: 34, leftoverAfterExpiry: 0 });
  });

  it(`${RUNS} concurrent runs sharing one $1 org hard limit stop within one model call of it`, { timeout: 600_000 }, async () => {
    const db = getDb();
    const org: TestOrg = await createTestOrg(db, "spendrace");
    await createDemoToolsFor(db, org);
    // Each run calls lookup_order with the same arguments again and again: raise the loop guard out of the way
    // (the budget, not the loop guard, must stop these runs).
    await updateGovernanceSettings(db, org.principals.OWNER, { loopThreshold: 50 });
    const agent = await createScriptedAgent(db, org, {
      tools: ["lookup_order"],
      maxSteps: 200,
      script: [{ tool: "lookup_order", args: { orderId: "1001" }, repeatWhile: ".", delayMs: 25 }],
    });
    const model = await db.modelConfig.update({
      where: { orgId_name: { orgId: org.orgId, name: "scripted" } },
      data: { inputPriceMicros: PRICE_MICROS_PER_MILLION, outputPriceMicros: PRICE_MICROS_PER_MILLION, maxOutputTokens: MAX_OUTPUT_TOKENS },
    });
    await createSpendLimit(db, org.principals.OWNER, { scope: "ORG", period: "DAY", limitUsd: 1, mode: "HARD" });
    expect(RUNS).toBeLessThanOrEqual(MAX_CONCURRENT_RUNS_PER_ORG);

    const runIds: string[] = [];
    for (let i = 0; i < RUNS; i += 1) runIds.push((await createRun(db, org.principals.OWNER, { agent: agent.slug, input: `look up order 1001 (#${i})` })).id);
    worker = new Worker(createKernelDeps(db, { pool, encryptionKey: ENCRYPTION_KEY }), { pollMs: 50, heartbeatMs: 1_000, concurrency: RUNS, orgIds: [org.orgId] });
    worker.start();
    const finished = [];
    for (const id of runIds) finished.push(await waitForRun(db, id, { timeoutMs: 540_000 }));
    await worker.stop(5_000);
    worker = undefined;

    expect(finished.map((run) => [run.status, run.haltReason])).toEqual(runIds.map(() => ["HALTED", "budget"]));
    const entries = await db.spendEntry.findMany({ where: { orgId: org.orgId }, select: { costMicros: true, runId: true } });
    const spentMicros = entries.reduce((sum, entry) => sum + entry.costMicros, 0);
    const maxCallCostMicros = Math.max(...entries.map((entry) => entry.costMicros));
    const overspendMicros = spentMicros - USD;
    // The worst-case cost each call reserved, from the input tokens the kernel counted for it.
    const calls = await db.runEvent.findMany({
      where: { orgId: org.orgId, type: "MODEL_CALL", status: "OK" },
      select: { payload: true, startedAt: true, endedAt: true, costMicros: true },
    });
    const estimates = calls.map((call) => estimateMaxCallCostMicros((call.payload as { contextTokens: number }).contextTokens, [model]));
    const maxEstimateMicros = Math.max(...estimates);
    calls.forEach((call, i) => expect(call.costMicros).toBeLessThanOrEqual(estimates[i]!));
    const peakConcurrentCalls = peakOverlap(calls.map((call) => [call.startedAt.getTime(), (call.endedAt ?? call.startedAt).getTime()]));

    console.log(
      `[spend ${kind}] ${RUNS} runs, ${calls.length} model calls (peak ${peakConcurrentCalls} at once), limit $1: spent $${(spentMicros / USD).toFixed(6)}, ` +
        `overspend $${(overspendMicros / USD).toFixed(6)} (largest call $${(maxCallCostMicros / USD).toFixed(6)}, largest reservation $${(maxEstimateMicros / USD).toFixed(6)}; ` +
        `allowed: ${RUNS} calls = $${((RUNS * maxCallCostMicros) / USD).toFixed(6)})`,
    );
    recordSecurityCounts(`spend-${kind}`, {
      runs: RUNS,
      modelCalls: calls.length,
      peakConcurrentCalls,
      limitMicros: USD,
      spentMicros,
      overspendMicros,
      maxCallCostMicros,
      maxReservationMicros: maxEstimateMicros,
    });

    expect(new Set(entries.map((entry) => entry.runId)).size).toBe(RUNS); // every run got to spend
    expect(peakConcurrentCalls).toBeGreaterThan(1);
    // The bound: at most one model call per run past the limit ...
    expect(overspendMicros).toBeLessThanOrEqual(RUNS * maxCallCostMicros);
    // ... and what reservations actually give: at most one call's reservation past it, in total.
    expect(overspendMicros).toBeLessThanOrEqual(maxEstimateMicros);
    // Every reservation was settled with its call.
    expect(await db.spendReservation.count({ where: { orgId: org.orgId } })).toBe(0);
  });
});

/** The most intervals open at one instant. */
function peakOverlap(intervals: [number, number][]): number {
  const edges = intervals.flatMap(([start, end]) => [
    [start, 1],
    [end, -1],
  ]);
  edges.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let open = 0;
  let peak = 0;
  for (const [, delta] of edges) {
    open += delta!;
    peak = Math.max(peak, open);
  }
  return peak;
}
