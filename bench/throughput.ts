import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createKernelDeps } from "@/server/runtime/deps";
import { McpClientPool } from "@/server/runtime/mcp/pool";
import { Worker } from "@/server/runtime/worker";
import { benchDatabaseKinds, openEmbeddedBench, openPostgresBench, type BenchDatabase } from "./lib/databases";
import { BENCH_ENCRYPTION_KEY, BENCH_ENCRYPTION_KEY_HEX, queueBenchRuns, setUpKernelBench, type KernelBenchSetup } from "./lib/kernel";
import { startCpuMeter, type CpuBreakdown } from "./lib/cpu";
import { createLangGraphBench } from "./lib/langgraph";
import { describeMachine } from "./lib/machine";
import { fmtBytes, fmtMs, isQuick, runMain, sleep, summarise, table } from "./lib/stats";
import { startBenchWorker, type BenchWorker } from "./lib/workers";

/**
 * B2, throughput and concurrency. N concurrent runs of 10 steps, the scripted model answering each tool-proposing
 * turn after 500 ms (the final answer at once), so a run takes at least 5 s and the ideal is N / 5 s runs per
 * second. Cases: the embedded database with the in-process worker (as `npm start` runs it), PostgreSQL with 1, 2 and
 * 4 real `npm run worker` processes, and LangGraph.js + SqliteSaver running N graph invocations in one process.
 *
 *   npm run bench:throughput
 *   BENCH_THROUGHPUT_SIZES=200 BENCH_WORKERS=1,4 npm run bench:throughput
 *   BENCH_QUICK=1 npm run bench:throughput        (N = 50 and 100, fewer worker counts)
 *
 * Exits non-zero when a 200-run case on PostgreSQL or embedded reaches < 95 % of the ideal, or 4 workers are not
 * ≥ 2.5× faster than one on the 1,000-run case.
 */

const STEPS = 10;
const MODEL_DELAY_MS = Number(process.env.BENCH_MODEL_DELAY_MS ?? 500);
const IDEAL_RUN_MS = STEPS * MODEL_DELAY_MS;
const SIZES = (process.env.BENCH_THROUGHPUT_SIZES ?? (isQuick() ? "50,100" : "200,1000")).split(",").map(Number);
const WORKER_COUNTS = (process.env.BENCH_WORKERS ?? (isQuick() ? "1,2" : "1,2,4")).split(",").map(Number);
/**
 * Runs each worker process drives at once. 250: four workers hold the whole 1,000-run case in one wave, one worker
 * needs four waves — so the 1,000-run case shows whether adding workers adds capacity.
 */
const PER_WORKER_CONCURRENCY = Number(process.env.BENCH_WORKER_CONCURRENCY ?? 250);
/** The tables a run writes to, for bytes stored per run. */
const RUN_TABLES = ["runs", "run_events", "approvals", "spend_entries", "spend_reservations", "audit_events"];

interface CaseResult {
  name: string;
  runs: number;
  wallMs: number;
  runsPerSecond: number;
  idealShare: number;
  startDelay: { p50: number; p99: number };
  eventLoopP99Ms: number;
  memoryPerRunBytes: number;
  bytesPerRun: number;
  failed: number;
  note: string;
  /** Where the CPU went while the runs ran (null off Linux). */
  cpu: CpuBreakdown | null;
}

async function tableBytes(bench: BenchDatabase): Promise<number> {
  const rows = await bench.query<{ bytes: string }>(
    `SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::text AS bytes FROM pg_class c WHERE c.relname = ANY($1) AND c.relkind = 'r'`,
    [RUN_TABLES],
  );
  return Number(rows[0]?.bytes ?? 0);
}

/** Waits until every run of the case has ended; returns timing from the database's own clock. */
async function awaitRuns(bench: BenchDatabase, ids: string[], timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await bench.db.run.count({ where: { id: { in: ids }, status: { in: ["QUEUED", "RUNNING"] } } });
    if (open === 0) break;
    if (Date.now() > deadline) throw new Error(`${open} of ${ids.length} runs were still queued or running after ${timeoutMs / 1000} s.`);
    await sleep(250);
  }
  const runs = await bench.db.run.findMany({
    where: { id: { in: ids } },
    select: { status: true, createdAt: true, startedAt: true, endedAt: true },
  });
  const created = Math.min(...runs.map((r) => r.createdAt.getTime()));
  const ended = Math.max(...runs.map((r) => (r.endedAt ?? r.createdAt).getTime()));
  const delays = runs.map((r) => (r.startedAt ?? r.createdAt).getTime() - r.createdAt.getTime());
  return { wallMs: ended - created, delays: summarise(delays), failed: runs.filter((r) => r.status !== "SUCCEEDED").length };
}

/**
 * Runs the instant-model agent until every process driving runs has made some: its code compiled and optimised, its
 * tool server started and its connections open — as in a worker that has been up for a while. The timed case then
 * measures steady state (the LangGraph.js peer is warmed up with one invocation likewise).
 */
async function warmUp(bench: BenchDatabase, setup: KernelBenchSetup, workerIds: readonly string[] | null): Promise<void> {
  const perProcess = 5;
  const ids: string[] = [];
  for (let round = 0; round < 6; round++) {
    const batch = await queueBenchRuns(bench.db, setup, perProcess * Math.max(1, workerIds?.length ?? 1), setup.warmUpAgentSlug);
    await awaitRuns(bench, batch, 120_000);
    ids.push(...batch);
    if (!workerIds) return;
    const started = await bench.db.runEvent.findMany({ where: { runId: { in: ids }, type: "RUN_STARTED" }, select: { payload: true } });
    const runsBy = new Map<string, number>();
    for (const { payload } of started) {
      const workerId = (payload as { workerId?: string } | null)?.workerId ?? "";
      runsBy.set(workerId, (runsBy.get(workerId) ?? 0) + 1);
    }
    if (workerIds.every((id) => (runsBy.get(id) ?? 0) >= perProcess)) return;
  }
}

function result(
  name: string,
  runs: number,
  wallMs: number,
  delays: { p50: number; p99: number },
  extra: Pick<CaseResult, "eventLoopP99Ms" | "memoryPerRunBytes" | "bytesPerRun" | "failed" | "note" | "cpu">,
): CaseResult {
  const runsPerSecond = runs / (wallMs / 1000);
  return { name, runs, wallMs, runsPerSecond, idealShare: runsPerSecond / (runs / (IDEAL_RUN_MS / 1000)), startDelay: delays, ...extra };
}

/** Samples this process's RSS every 100 ms until stopped; returns the peak. */
function rssSampler(): { stop(): number } {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 100);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage().rss);
    },
  };
}

async function embeddedCase(bench: BenchDatabase, setup: KernelBenchSetup, runs: number): Promise<CaseResult> {
  const pool = new McpClientPool();
  const deps = createKernelDeps(bench.db, { pool, encryptionKey: BENCH_ENCRYPTION_KEY });
  const worker = new Worker(deps, { concurrency: runs, maxRunsPerOrg: runs, orgIds: [setup.org.orgId] });
  worker.start();
  try {
    await warmUp(bench, setup, null);
    await sleep(500);
    global.gc?.();
    const idleRss = process.memoryUsage().rss;
    const bytesBefore = await tableBytes(bench);
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const rss = rssSampler();
    const cpu = startCpuMeter(() => [process.pid], false);
    const ids = await queueBenchRuns(bench.db, setup, runs);
    const timing = await awaitRuns(bench, ids, 600_000);
    const cpuUsed = cpu.stop();
    const peakRss = rss.stop();
    delay.disable();
    const bytesAfter = await tableBytes(bench);
    return result(`embedded, in-process worker`, runs, timing.wallMs, timing.delays, {
      eventLoopP99Ms: delay.percentile(99) / 1e6,
      memoryPerRunBytes: (peakRss - idleRss) / runs,
      bytesPerRun: (bytesAfter - bytesBefore) / runs,
      failed: timing.failed,
      note: `concurrency ${runs}; one process (web + worker + PGlite)`,
      cpu: cpuUsed,
    });
  } finally {
    await worker.stop();
    await deps.close();
    await pool.closeAll();
  }
}

async function postgresCase(bench: BenchDatabase, setup: KernelBenchSetup, runs: number, workerCount: number): Promise<CaseResult> {
  const workers: BenchWorker[] = [];
  try {
    const started = await Promise.all(
      Array.from({ length: workerCount }, () =>
        startBenchWorker({
          databaseUrl: bench.url ?? "",
          dataDir: setup.dataDir,
          flags: [
            "--concurrency",
            String(PER_WORKER_CONCURRENCY),
            "--max-runs-per-org",
            String(runs),
            "--orgs",
            setup.org.orgId,
            "--stats-ms",
            "500",
          ],
          env: { SWITCHBOARD_ENCRYPTION_KEY: BENCH_ENCRYPTION_KEY_HEX, NEXTAUTH_SECRET: BENCH_ENCRYPTION_KEY_HEX },
        }),
      ),
    );
    workers.push(...started);
    await warmUp(bench, setup, workers.map((w) => w.workerId));
    await sleep(1_200); // a stats line or two while idle
    const idle = workers.map((w) => w.stats[w.stats.length - 1]?.rssBytes ?? 0);
    const marks = workers.map((w) => w.stats.length);
    const bytesBefore = await tableBytes(bench);
    const cpu = startCpuMeter(() => workers.flatMap((w) => (w.child.pid ? [w.child.pid] : [])), true);
    const ids = await queueBenchRuns(bench.db, setup, runs);
    const timing = await awaitRuns(bench, ids, 900_000);
    const cpuUsed = cpu.stop();
    await sleep(600); // the last stats line of the busy period
    const bytesAfter = await tableBytes(bench);
    const busy = workers.map((w, i) => w.stats.slice(marks[i]));
    const peakGrowth = busy.reduce(
      (sum, lines, i) => sum + Math.max(0, Math.max(...lines.map((l) => l.rssBytes), idle[i] ?? 0) - (idle[i] ?? 0)),
      0,
    );
    return result(`postgresql, ${workerCount} worker process${workerCount > 1 ? "es" : ""}`, runs, timing.wallMs, timing.delays, {
      eventLoopP99Ms: Math.max(...busy.flat().map((l) => l.eventLoopP99Ms)),
      memoryPerRunBytes: peakGrowth / runs,
      bytesPerRun: (bytesAfter - bytesBefore) / runs,
      failed: timing.failed,
      note: `--concurrency ${PER_WORKER_CONCURRENCY} each`,
      cpu: cpuUsed,
    });
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
}

async function langGraphCase(runs: number): Promise<{ result: CaseResult; durability: string }> {
  const peer = createLangGraphBench({ checkpointing: "SqliteSaver", steps: STEPS, delayMs: MODEL_DELAY_MS });
  try {
    await peer.invoke("warm-up");
    global.gc?.();
    const idleRss = process.memoryUsage().rss;
    const bytesBefore = peer.storedBytes();
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const rss = rssSampler();
    const cpu = startCpuMeter(() => [process.pid], false);
    const start = performance.now();
    const outcomes = await Promise.allSettled(Array.from({ length: runs }, (_, i) => peer.invoke(`run-${i}`)));
    const wallMs = performance.now() - start;
    const cpuUsed = cpu.stop();
    const peakRss = rss.stop();
    delay.disable();
    const delays = summarise(Array.from({ length: runs }, (_, i) => (peer.firstStepAt.get(`run-${i}`) ?? start) - start));
    return {
      durability: peer.durability,
      result: result("LangGraph.js + SqliteSaver", runs, wallMs, delays, {
        eventLoopP99Ms: delay.percentile(99) / 1e6,
        memoryPerRunBytes: (peakRss - idleRss) / runs,
        bytesPerRun: (peer.storedBytes() - bytesBefore) / runs,
        failed: outcomes.filter((o) => o.status === "rejected").length,
        note: `${runs} concurrent graph.invoke in one process`,
        cpu: cpuUsed,
      }),
    };
  } finally {
    peer.close();
  }
}

/**
 * CPU per step of each part; how busy the machine's cores were; and the ceiling CPU puts on the case: the share of
 * the ideal the system under test (kernel + PostgreSQL + tool servers) could reach if it had every core to itself
 * and used it fully — above 100 % means CPU is not what limits it.
 */
function cpuColumns(r: CaseResult): string[] {
  if (!r.cpu) return ["n/a", "n/a", "n/a"];
  const perStep = (seconds: number) => ((seconds * 1000) / (r.runs * STEPS)).toFixed(1);
  const underTest = r.cpu.kernel + r.cpu.postgres + r.cpu.tools;
  const ceiling = r.cpu.cores / (underTest / r.runs) / (r.runs / (IDEAL_RUN_MS / 1000));
  return [
    `${perStep(r.cpu.kernel)} · ${perStep(r.cpu.postgres)} · ${perStep(r.cpu.tools)} ms`,
    `${((100 * r.cpu.machine) / (r.cpu.cores * r.cpu.wallSeconds)).toFixed(0)} %`,
    ceiling >= 1 ? "not the limit" : `${(ceiling * 100).toFixed(1)} %`,
  ];
}

async function main(): Promise<number> {
  console.log(`## Throughput and concurrency (B2)\n`);
  console.log(`Machine: ${describeMachine()}`);
  console.log(
    `Workload: N concurrent runs × ${STEPS} steps; the scripted model answers each tool-proposing turn after ${MODEL_DELAY_MS} ms and the final answer at once; ` +
      `each step calls the real filesystem MCP server (1 KB). Ideal = N / ${IDEAL_RUN_MS / 1000} s. All N runs are queued in one commit; "runnable → started" is ` +
      `the run's started_at − created_at (database clock). Bytes stored per run = growth of ${RUN_TABLES.join(", ")} (pg_total_relation_size) / N. ` +
      `Memory per run = (peak RSS − idle RSS) / N of the processes driving the runs ("no growth": the case fit in memory an earlier case of the same process had grown). Per-org cap raised to N (--max-runs-per-org). ` +
      `Each case starts its worker processes fresh and warms them up first (runs of the same agent with an instant model until each process has made 5: ` +
      `code optimised, tool server started), as the LangGraph.js peer is warmed up with one invocation. ` +
      `CPU (from /proc, while the runs ran): per step in the processes driving the runs ("kernel": the workers, or the one process), PostgreSQL's ` +
      `processes and the tool servers they started; "machine busy" = busy time of all cores / (cores × wall); "CPU ceiling" = the share of the ideal ` +
      `those processes could reach with every core to themselves: cores / (their CPU seconds per run) / (N / ${IDEAL_RUN_MS / 1000} s).\n`,
  );
  const results: CaseResult[] = [];
  const durability: string[] = [];

  const embedded = benchDatabaseKinds().includes("embedded") ? await openEmbeddedBench("throughput") : null;
  if (embedded) {
    try {
      durability.push(`embedded: ${await embedded.durability()}`);
      const setup = await setUpKernelBench(embedded.db, { steps: STEPS, delayMs: MODEL_DELAY_MS, label: "throughput" });
      for (const runs of SIZES) {
        console.log(`embedded, ${runs} runs…`);
        results.push(await embeddedCase(embedded, setup, runs));
      }
    } finally {
      await embedded.close();
    }
  }

  if (benchDatabaseKinds().includes("postgresql")) {
    const postgres = await openPostgresBench();
    const workerDir = fs.mkdtempSync(path.join(os.tmpdir(), "sb-bench-workers-"));
    try {
      durability.push(`postgresql: ${await postgres.durability()}`);
      const setup = await setUpKernelBench(postgres.db, { steps: STEPS, delayMs: MODEL_DELAY_MS, label: "throughput" });
      for (const runs of SIZES) {
        for (const count of WORKER_COUNTS) {
          console.log(`postgresql, ${runs} runs, ${count} worker(s)…`);
          results.push(await postgresCase(postgres, { ...setup, dataDir: workerDir }, runs, count));
        }
      }
    } finally {
      await postgres.close();
      fs.rmSync(workerDir, { recursive: true, force: true });
    }
  }

  for (const runs of process.env.BENCH_SKIP_PEERS ? [] : SIZES) {
    console.log(`LangGraph.js + SqliteSaver, ${runs} runs…`);
    const peer = await langGraphCase(runs);
    results.push(peer.result);
    if (!durability.some((d) => d.startsWith("LangGraph"))) durability.push(`LangGraph.js: ${peer.durability}`);
  }

  console.log(`\nDurability: ${durability.join("; ")}\n`);
  console.log(
    table(
      [
        "Case",
        "N",
        "wall",
        "runs/s",
        "of ideal",
        "runnable→started p50 / p99",
        "event loop p99",
        "memory / run",
        "stored / run",
        "failed",
        "CPU / step: kernel · PostgreSQL · tools",
        "machine busy",
        "CPU ceiling",
        "note",
      ],
      results.map((r) => [
        r.name,
        String(r.runs),
        `${(r.wallMs / 1000).toFixed(2)} s`,
        r.runsPerSecond.toFixed(1),
        `${(r.idealShare * 100).toFixed(1)} %`,
        `${fmtMs(r.startDelay.p50, 0)} / ${fmtMs(r.startDelay.p99, 0)}`,
        fmtMs(r.eventLoopP99Ms, 1),
        // In one process, a later case can run in memory an earlier one grew (V8 heap, PGlite's WebAssembly memory).
        r.memoryPerRunBytes > 0 ? fmtBytes(r.memoryPerRunBytes) : "no growth",
        fmtBytes(r.bytesPerRun),
        String(r.failed),
        ...cpuColumns(r),
        r.note,
      ]),
    ),
  );

  let ok = results.every((r) => r.failed === 0);
  const at200 = results.filter((r) => r.runs === 200 && !r.name.startsWith("LangGraph"));
  for (const r of at200) {
    const pass = r.idealShare >= 0.95;
    ok &&= pass;
    console.log(
      `${pass ? "PASS" : "MISS"}: ${r.name} at 200 runs reaches ${(r.idealShare * 100).toFixed(1)} % of the ideal (target ≥ 95 %).`,
    );
  }
  const one = results.find((r) => r.runs === 1000 && r.name.includes(", 1 worker"));
  const four = results.find((r) => r.runs === 1000 && r.name.includes(", 4 worker"));
  if (one && four) {
    const speedup = one.wallMs / four.wallMs;
    const pass = speedup >= 2.5;
    ok &&= pass;
    console.log(
      `${pass ? "PASS" : "MISS"}: 4 workers finish the 1,000-run case ${speedup.toFixed(2)}× faster than 1 (target ≥ 2.5×; --concurrency ${PER_WORKER_CONCURRENCY} per worker).`,
    );
  }
  return ok ? 0 : 1;
}

runMain(main);
