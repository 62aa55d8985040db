import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { decideApproval, listApprovals } from "@/server/domain/approvals/approvals";
import { createPolicy } from "@/server/domain/policy/policies";
import { createKernelDeps } from "@/server/runtime/deps";
import { McpClientPool } from "@/server/runtime/mcp/pool";
import { Worker } from "@/server/runtime/worker";
import { benchDatabaseKinds, openBenchDatabase, type BenchDatabase, type BenchDatabaseKind } from "./lib/databases";
import { BENCH_ENCRYPTION_KEY, BENCH_ENCRYPTION_KEY_HEX, queueBenchRuns, setUpKernelBench, type KernelBenchSetup } from "./lib/kernel";
import { describeMachine } from "./lib/machine";
import { envCount, fmtMs, runMain, sleep, summarise, table, type Summary } from "./lib/stats";
import { startBenchWorker, type BenchWorker } from "./lib/workers";

/**
 * B-approval: how long after a person approves a held tool call the tool has run. A one-step agent whose tool call
 * (read_text_file on the real filesystem MCP server) a policy holds for approval; BENCH_APPROVALS runs park on their
 * approval, then each is approved in turn with the domain function the tRPC procedure and REST endpoint call
 * (decideApproval), and the clock stops when the TOOL_CALL event is completed OK (its ended_at, written by the
 * worker right after the tool answered). One decision at a time, so each round trip is measured alone.
 *
 * Cases: the embedded database with the in-process worker (as `npm start` runs it); PostgreSQL with the worker in the
 * same process (woken in-process) and with a separate `npm run worker` process (production mode: it learns of the
 * decision from the database).
 *
 *   npm run bench:approvals
 *   BENCH_APPROVALS=20 BENCH_SKIP_POSTGRES=1 npm run bench:approvals
 */

const APPROVALS = envCount("BENCH_APPROVALS", 100, 20);

async function holdEveryRead(bench: BenchDatabase, setup: KernelBenchSetup): Promise<void> {
  const agent = await bench.db.agent.findFirstOrThrow({ where: { orgId: setup.org.orgId, slug: setup.agentSlug }, select: { id: true } });
  await createPolicy(bench.db, setup.org.principals.OWNER, {
    name: "Reading files needs approval",
    effect: "REQUIRE_APPROVAL",
    reason: "Benchmark: every read is held for a person.",
    toolName: "read_text_file",
    agentId: agent.id,
  });
}

async function roundTrips(bench: BenchDatabase, setup: KernelBenchSetup): Promise<number[]> {
  const ids = await queueBenchRuns(bench.db, setup, APPROVALS);
  const deadline = Date.now() + 300_000;
  while ((await bench.db.run.count({ where: { id: { in: ids }, status: "WAITING_APPROVAL" } })) < ids.length) {
    if (Date.now() > deadline) throw new Error("The bench runs did not all reach their approval within 300 s.");
    await sleep(200);
  }
  const supervisor = setup.org.principals.SUPERVISOR;
  const samples: number[] = [];
  for (const runId of ids) {
    const { items } = await listApprovals(bench.db, supervisor, { status: "PENDING", runId });
    const approval = items[0];
    if (!approval) throw new Error(`Run ${runId} has no pending approval.`);
    const decidedAt = Date.now();
    await decideApproval(bench.db, supervisor, { approvalId: approval.id, decision: "approve" });
    for (;;) {
      const executed = await bench.db.runEvent.findFirst({ where: { runId, type: "TOOL_CALL", status: { not: "PENDING" } }, select: { status: true, endedAt: true } });
      if (executed) {
        if (executed.status !== "OK" || !executed.endedAt) throw new Error(`The approved call of run ${runId} ended ${executed.status}.`);
        samples.push(executed.endedAt.getTime() - decidedAt);
        break;
      }
      if (Date.now() - decidedAt > 30_000) throw new Error(`Run ${runId}'s approved call had not run 30 s after the decision.`);
      await sleep(2);
    }
  }
  return samples;
}

interface CaseResult {
  name: string;
  durability: string;
  summary: Summary;
}

async function measure(kind: BenchDatabaseKind, workerMode: "in-process" | "process"): Promise<CaseResult> {
  const bench = await openBenchDatabase(kind, "approvals");
  const pool = new McpClientPool();
  let worker: Worker | null = null;
  let processWorker: BenchWorker | null = null;
  const workerDir = fs.mkdtempSync(path.join(os.tmpdir(), "sb-bench-approvals-"));
  const deps = createKernelDeps(bench.db, { pool, encryptionKey: BENCH_ENCRYPTION_KEY });
  try {
    const setup = await setUpKernelBench(bench.db, { steps: 1, delayMs: 0, label: "approvals" });
    await holdEveryRead(bench, setup);
    if (workerMode === "in-process") {
      worker = new Worker(deps, { concurrency: APPROVALS, maxRunsPerOrg: APPROVALS, orgIds: [setup.org.orgId] });
      worker.start();
    } else {
      processWorker = await startBenchWorker({
        databaseUrl: bench.url ?? "",
        dataDir: workerDir,
        flags: ["--concurrency", String(APPROVALS), "--max-runs-per-org", String(APPROVALS), "--orgs", setup.org.orgId],
        env: { SWITCHBOARD_ENCRYPTION_KEY: BENCH_ENCRYPTION_KEY_HEX, NEXTAUTH_SECRET: BENCH_ENCRYPTION_KEY_HEX },
      });
    }
    const samples = await roundTrips(bench, setup);
    const where = kind === "embedded" ? "embedded, in-process worker" : `postgresql, ${workerMode === "in-process" ? "worker in the deciding process" : "separate `npm run worker` process"}`;
    return { name: where, durability: await bench.durability(), summary: summarise(samples) };
  } finally {
    await worker?.stop(2_000);
    await processWorker?.stop();
    await deps.close();
    await pool.closeAll();
    await bench.close();
    fs.rmSync(workerDir, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  console.log(`## Approval round trip\n`);
  console.log(`Machine: ${describeMachine()}`);
  console.log(`Workload: ${APPROVALS} held read_text_file calls (real filesystem MCP server), approved one at a time with decideApproval; decision posted → TOOL_CALL completed OK.\n`);
  const results: CaseResult[] = [];
  for (const kind of benchDatabaseKinds()) {
    const modes = kind === "embedded" ? (["in-process"] as const) : (["in-process", "process"] as const);
    for (const mode of modes) {
      console.log(`measuring ${kind}, ${mode} worker…`);
      results.push(await measure(kind, mode));
    }
  }
  console.log(
    `\n${table(
      ["Case", "p50", "p95", "max", "Durability"],
      results.map((r) => [r.name, fmtMs(r.summary.p50, 1), fmtMs(r.summary.p95, 1), fmtMs(r.summary.max, 1), r.durability]),
    )}`,
  );
  return 0;
}

runMain(main);
