import { executeRun } from "@/server/runtime/execute-run";
import { benchDatabaseKinds, openBenchDatabase, type BenchDatabase, type BenchDatabaseKind } from "./lib/databases";
import { claimForBench, queueBenchRun, setUpKernelBench, timedKernelDeps } from "./lib/kernel";
import { createLangGraphBench, type Checkpointing } from "./lib/langgraph";
import { describeMachine } from "./lib/machine";
import { elapsedMs, envCount, fmtMs, runMain, summarise, table, type Summary } from "./lib/stats";

/**
 * B1, kernel overhead per step. One run = 10 steps of (scripted model with no latency proposes one tool call →
 * identity, guards and policy → a real MCP tool call returning 1 KB), every event durably committed before the next
 * thing happens, then the model's answer. Per-step overhead = (run wall time − time inside the model − time inside
 * the tool) / 10, for each of BENCH_RUNS runs after a warm-up. The peer runs the same loop in LangGraph.js.
 *
 *   npm run bench:kernel                      (embedded + PostgreSQL at BENCH_DATABASE_URL, reset first)
 *   BENCH_RUNS=50 BENCH_SKIP_POSTGRES=1 npm run bench:kernel
 *
 * Exits non-zero when our per-step median on PostgreSQL is above half of LangGraph.js + SqliteSaver's.
 */

const STEPS = 10;
const RUNS = envCount("BENCH_RUNS", 200, 40);
const WARM_UP = envCount("BENCH_WARM_UP", 20, 5);

interface Measured {
  name: string;
  durability: string;
  perStep: Summary;
  perRun: Summary;
  note?: string;
}

interface OursMeasured {
  result: Measured;
  mcpHop: Summary;
  statementsPerStep: number;
  standalonePerStep: number;
  transactionsPerStep: number;
  commitsPerStep: number;
  /** A bare durable commit on the same database (a one-row INSERT on its own), for the floor commits impose. */
  bareCommit: Summary;
}

/** A one-row INSERT, each its own transaction: what one durable commit costs on this database, nothing else. */
async function measureBareCommit(bench: BenchDatabase): Promise<Summary> {
  await bench.query(`CREATE TABLE IF NOT EXISTS bench_commit_probe (n int)`);
  const samples: number[] = [];
  for (let i = 0; i < 220; i += 1) {
    const start = process.hrtime.bigint();
    await bench.query(`INSERT INTO bench_commit_probe (n) VALUES ($1)`, [i]);
    if (i >= 20) samples.push(elapsedMs(start));
  }
  await bench.query(`DROP TABLE bench_commit_probe`);
  return summarise(samples);
}

async function measureOurs(kind: BenchDatabaseKind): Promise<OursMeasured> {
  const bench: BenchDatabase = await openBenchDatabase(kind, "kernel");
  const timed = timedKernelDeps(bench.db);
  try {
    const durability = await bench.durability();
    const setup = await setUpKernelBench(bench.db, { steps: STEPS, delayMs: 0, label: "kernel" });
    const perStep: number[] = [];
    const perRun: number[] = [];
    const hops: number[] = [];
    let statements = 0;
    let standalone = 0;
    let transactions = 0;
    let standaloneWrites = 0;
    for (let i = 0; i < WARM_UP + RUNS; i += 1) {
      const runId = await queueBenchRun(bench.db, setup);
      timed.reset();
      const sqlBefore = { ...bench.sql };
      const start = process.hrtime.bigint();
      // The claim is part of the kernel's cost per run: timed, like the worker's claim would be.
      await claimForBench(bench.db, runId, "bench-worker");
      await executeRun(timed.deps, { runId, orgId: setup.org.orgId, workerId: "bench-worker" }, new AbortController().signal);
      const wall = elapsedMs(start);
      const run = await bench.db.run.findUniqueOrThrow({ where: { id: runId }, select: { status: true, error: true, stepCount: true } });
      if (run.status !== "SUCCEEDED") throw new Error(`Bench run ${runId} ended ${run.status}: ${run.error ?? "no error"}`);
      if (timed.inside.toolCalls !== STEPS || timed.inside.modelCalls !== STEPS + 1) {
        throw new Error(`Bench run ${runId} made ${timed.inside.modelCalls} model and ${timed.inside.toolCalls} tool calls, expected ${STEPS + 1} and ${STEPS}.`);
      }
      if (i < WARM_UP) continue;
      perRun.push(wall);
      perStep.push((wall - timed.inside.modelMs - timed.inside.toolMs) / STEPS);
      hops.push(timed.inside.toolMs / timed.inside.toolCalls);
      statements += bench.sql.statements - sqlBefore.statements;
      standalone += bench.sql.standalone - sqlBefore.standalone;
      transactions += bench.sql.transactions - sqlBefore.transactions;
      standaloneWrites += bench.sql.standaloneWrites - sqlBefore.standaloneWrites;
    }
    return {
      result: { name: `Switchboard, ${bench.kind}`, durability, perStep: summarise(perStep), perRun: summarise(perRun) },
      mcpHop: summarise(hops),
      statementsPerStep: statements / RUNS / STEPS,
      standalonePerStep: standalone / RUNS / STEPS,
      transactionsPerStep: transactions / RUNS / STEPS,
      commitsPerStep: (standaloneWrites + transactions) / RUNS / STEPS,
      bareCommit: await measureBareCommit(bench),
    };
  } finally {
    await timed.close();
    await bench.close();
  }
}

async function measureLangGraph(checkpointing: Checkpointing): Promise<Measured> {
  const peer = createLangGraphBench({ checkpointing, steps: STEPS, delayMs: 0 });
  try {
    const perStep: number[] = [];
    const perRun: number[] = [];
    for (let i = 0; i < WARM_UP + RUNS; i += 1) {
      peer.inside.modelMs = 0;
      peer.inside.toolMs = 0;
      peer.inside.modelCalls = 0;
      peer.inside.toolCalls = 0;
      const start = process.hrtime.bigint();
      const messages = await peer.invoke(`thread-${i}`);
      const wall = elapsedMs(start);
      // user + 10 × (AI tool call + tool result) + final answer
      if (messages !== 2 * STEPS + 2 || peer.inside.toolCalls !== STEPS) throw new Error(`LangGraph run ${i} ended with ${messages} messages and ${peer.inside.toolCalls} tool calls.`);
      if (i < WARM_UP) continue;
      perRun.push(wall);
      perStep.push((wall - peer.inside.modelMs - peer.inside.toolMs) / STEPS);
    }
    return { name: `LangGraph.js, ${checkpointing === "none" ? "no checkpointer" : checkpointing}`, durability: peer.durability, perStep: summarise(perStep), perRun: summarise(perRun) };
  } finally {
    peer.close();
  }
}

async function main(): Promise<number> {
  console.log(`## Kernel overhead per step (B1)\n`);
  console.log(`Machine: ${describeMachine()}`);
  console.log(`Workload: ${STEPS} steps per run (scripted model, 0 ms latency, one tool call per step; tool returns 1 KB), ${WARM_UP} warm-up + ${RUNS} timed runs each, one run at a time.`);
  console.log("Per-step overhead = (run wall time − time inside the model − time inside the tool) / 10, measured at the framework's call into the model and into the tool on both sides.");
  console.log("Ours: claim + executeRun (the worker's kernel); every model and tool call's intent is committed before the call (PENDING); each call's result with the next write (a model's answer with the decision and intent of the tool call it proposes, a tool's result with the next model call's intent: so before the next call); each commit durable per the setting shown. Tool = the real filesystem MCP server over stdio; LangGraph.js's tool is an in-process function, so tool time is subtracted on both sides and our MCP hop is reported separately.\n");

  const ours: OursMeasured[] = [];
  for (const kind of benchDatabaseKinds()) {
    console.log(`measuring Switchboard on ${kind}…`);
    ours.push(await measureOurs(kind));
  }
  const peers: Measured[] = [];
  // BENCH_SKIP_PEERS=1: ours only (profiling the kernel).
  for (const checkpointing of process.env.BENCH_SKIP_PEERS ? [] : (["none", "MemorySaver", "SqliteSaver"] as const)) {
    console.log(`measuring LangGraph.js with ${checkpointing}…`);
    peers.push(await measureLangGraph(checkpointing));
  }

  const rows = [...ours.map((o) => o.result), ...peers].map((m) => [
    m.name,
    fmtMs(m.perStep.p50, 3),
    fmtMs(m.perStep.p99, 3),
    fmtMs(m.perRun.p50, 1),
    m.durability,
  ]);
  console.log(`\n${table(["System", "per-step p50", "per-step p99", "per-run p50 (wall)", "Durability"], rows)}\n`);

  console.log(
    table(
      [
        "Switchboard on",
        "SQL statements / step",
        "of which standalone",
        "BEGIN…COMMIT transactions / step",
        "durable commits / step",
        "bare commit p50 (1-row INSERT)",
        "commit floor / step",
        "MCP hop p50 (per tool call, excluded above)",
        "MCP hop p99",
      ],
      ours.map((o) => [
        o.result.name.replace("Switchboard, ", ""),
        o.statementsPerStep.toFixed(1),
        o.standalonePerStep.toFixed(1),
        o.transactionsPerStep.toFixed(1),
        o.commitsPerStep.toFixed(1),
        fmtMs(o.bareCommit.p50, 3),
        fmtMs(o.commitsPerStep * o.bareCommit.p50, 3),
        fmtMs(o.mcpHop.p50, 3),
        fmtMs(o.mcpHop.p99, 3),
      ]),
    ),
  );

  const ratioRows: string[][] = [];
  for (const o of ours) {
    for (const p of peers) {
      ratioRows.push([`${p.name} / ${o.result.name.replace("Switchboard, ", "ours on ")}`, `${(p.perStep.p50 / o.result.perStep.p50).toFixed(2)}×`, `${(p.perStep.p99 / o.result.perStep.p99).toFixed(2)}×`]);
    }
  }
  console.log(`\n${table(["Ratio (LangGraph.js / ours, > 1 means we are faster)", "p50", "p99"], ratioRows)}`);

  const postgres = ours.find((o) => o.result.name.endsWith("postgresql"));
  const sqliteSaver = peers.find((p) => p.name.endsWith("SqliteSaver"));
  if (!postgres || !sqliteSaver) {
    console.log("\nTarget not checked: PostgreSQL (BENCH_SKIP_POSTGRES, BENCH_DATABASES) or LangGraph.js (BENCH_SKIP_PEERS) was skipped.");
    return 0;
  }
  const ok = postgres.result.perStep.p50 <= sqliteSaver.perStep.p50 / 2;
  console.log(
    `\n${ok ? "PASS" : "MISS"}: fully durable per-step overhead on PostgreSQL ${fmtMs(postgres.result.perStep.p50, 3)} (p50) vs LangGraph.js + SqliteSaver ${fmtMs(sqliteSaver.perStep.p50, 3)}; target ≤ half (${fmtMs(sqliteSaver.perStep.p50 / 2, 3)}).`,
  );
  return ok ? 0 : 1;
}

runMain(main);
