import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { readDemoLedger } from "@/mcp-servers/demo/ledger";
import { createPrismaClient, type Db } from "@/server/db";
import { createRun } from "@/server/domain/runs/runs";
import { env } from "@/server/env";
import type { ScriptTurn } from "@/server/runtime/models/types";
import { createTestOrg, type TestOrg } from "@/server/testing/fixtures";
import { createDemoToolsFor, createScriptedAgent } from "@/server/testing/kernel-fixtures";
import { createScratchDatabase, type ScratchDatabase } from "./lib/chaos/database";
import {
  allDemoServerPids,
  demoServerPids,
  dropBusyConnections,
  processAgeSeconds,
  seededRandom,
  sleep,
  WorkerFleet,
  workersHoldingRuns,
  workersWithPendingToolCall,
} from "./lib/chaos/faults";
import { judge, stepSubject, TERMINAL, type LedgerRow, type ToolEventRow } from "./lib/chaos/verdict";

/**
 * The chaos suite: real worker processes on a scratch PostgreSQL database drive runs whose agent sends emails
 * through the demo MCP server (a non-idempotent side effect made exactly-once by idempotency keys), while this
 * script SIGKILLs workers, terminates their database connections mid-transaction and SIGKILLs the MCP server in
 * the middle of tool calls. Then it checks every run and every email (see lib/chaos/verdict.ts for the definitions)
 * and prints `runs: N, lost: 0, duplicated side effects: 0, stuck: 0`; it exits non-zero when any is above 0, when
 * a worker died on its own, or when it could not inject the faults it was asked for.
 *
 *   npm run chaos                                   (200 runs, 20 worker kills, 5 connection drops, 5 MCP kills)
 *   CHAOS_RUNS=50 CHAOS_KILLS=6 CHAOS_DROPS=2 CHAOS_MCP_KILLS=2 npm run chaos     (the CI size, ~1–2.5 minutes)
 *   npm run chaos -- --runs 50 --kills 6 --drops 2 --mcp-kills 2                 (the same with flags)
 *   npm run chaos -- --seed 42 --keep              (replay a fault schedule; keep the database and worker logs)
 *
 * PostgreSQL: the server of DATABASE_URL_TEST (or --postgres <url>); the scratch database chaos_test_<pid> is
 * created, migrated and dropped at the end.
 */

const USAGE = `npm run chaos -- [--runs N] [--kills N] [--drops N] [--mcp-kills N] [--workers N] [--concurrency N] [--steps N] [--lease-ms N] [--heartbeat-ms N] [--settle-s N] [--max-chaos-s N] [--seed N] [--keep] [--postgres URL]`;

const { values: flags } = parseArgs({
  options: {
    runs: { type: "string" },
    kills: { type: "string" },
    drops: { type: "string" },
    "mcp-kills": { type: "string" },
    workers: { type: "string" },
    concurrency: { type: "string" },
    steps: { type: "string" },
    "lease-ms": { type: "string" },
    "heartbeat-ms": { type: "string" },
    "settle-s": { type: "string" },
    "max-chaos-s": { type: "string" },
    seed: { type: "string" },
    postgres: { type: "string" },
    keep: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});

function setting(flag: string | undefined, envName: string, fallback: number, min = 0): number {
  const raw = flag ?? process.env[envName];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${envName.toLowerCase().replace(/^chaos_/, "--").replace(/_/g, "-")} must be a whole number of at least ${min}, not "${raw}".\n${USAGE}`);
  return value;
}

const config = {
  runs: setting(flags.runs, "CHAOS_RUNS", 200, 1),
  kills: setting(flags.kills, "CHAOS_KILLS", 20),
  drops: setting(flags.drops, "CHAOS_DROPS", 5),
  mcpKills: setting(flags["mcp-kills"], "CHAOS_MCP_KILLS", 5),
  workers: setting(flags.workers, "CHAOS_WORKERS", 3, 1),
  // Runs each worker drives at once: within its database pool (10 connections), so a run waits for a connection
  // rather than failing to get one in time (which the kernel survives, but which slows everything down).
  concurrency: setting(flags.concurrency, "CHAOS_CONCURRENCY", 10, 1),
  steps: setting(flags.steps, "CHAOS_STEPS", 5, 1),
  leaseMs: setting(flags["lease-ms"], "CHAOS_LEASE_MS", 3_000, 500),
  heartbeatMs: setting(flags["heartbeat-ms"], "CHAOS_HEARTBEAT_MS", 1_000, 100),
  settleMs: setting(flags["settle-s"], "CHAOS_SETTLE_S", 120, 10) * 1000,
  maxChaosMs: setting(flags["max-chaos-s"], "CHAOS_MAX_CHAOS_S", 600, 10) * 1000,
  seed: setting(flags.seed, "CHAOS_SEED", Date.now() % 1_000_000),
  keep: flags.keep ?? false,
  postgres: flags.postgres ?? env.DATABASE_URL_TEST,
};

const AGENTS = 4;
/**
 * A demo server younger than this may still be starting (tsx compiles it first, ≈ 1–2 s here), so no call is in
 * flight yet. 8 s was too long: when worker kills come every few seconds, their replacements' servers rarely got that
 * old while calls were in flight, and the run ended with an MCP kill that never happened.
 */
const MCP_SERVER_MIN_AGE_S = 4;
const TOOL = "send_email";

const random = seededRandom(config.seed);
const between = (low: number, high: number) => low + random() * (high - low);
const log = (line: string) => console.log(`[chaos ${((Date.now() - startedAt) / 1000).toFixed(1).padStart(6)} s] ${line}`);
const startedAt = Date.now();

interface FaultTally {
  kills: number;
  drops: number;
  backendsTerminated: number;
  mcpKills: number;
}

async function seed(db: Db): Promise<{ org: TestOrg; ledger: string; dataDir: string; slugs: string[] }> {
  const org = await createTestOrg(db, "chaos");
  const demo = await createDemoToolsFor(db, org);
  const slugs: string[] = [];
  for (let a = 0; a < AGENTS; a++) {
    // Each agent sends one email per step, each a distinct side effect named after the run's input and the step.
    const script: ScriptTurn[] = Array.from({ length: config.steps }, (_, i) => ({
      tool: TOOL,
      args: { to: "customer@acme.test", subject: stepSubject("{{input}}", i + 1), body: `Step ${i + 1} of {{input}}.` },
      delayMs: Math.round(between(20, 200)),
    }));
    script.push({ final: "All emails sent.", delayMs: Math.round(between(20, 200)) });
    const agent = await createScriptedAgent(db, org, { tools: [TOOL], script, maxSteps: config.steps + 5 });
    // The suite is about crashes, not approvals: a rule lets these agents send without a person deciding.
    await db.policy.create({ data: { orgId: org.orgId, name: `chaos: allow ${agent.slug}`, effect: "ALLOW", reason: "Chaos suite agent", agentId: agent.agentId } });
    slugs.push(agent.slug);
  }
  return { org, ledger: demo.ledger, dataDir: demo.dataDir, slugs };
}

async function main(): Promise<number> {
  if (flags.help) {
    console.log(USAGE);
    return 0;
  }
  log(
    `seed ${config.seed}: ${config.runs} runs of ${config.steps} ${TOOL} steps on ${config.workers} workers × ${config.concurrency} runs (lease ${config.leaseMs} ms, heartbeat ${config.heartbeatMs} ms); ` +
      `${config.kills} worker SIGKILLs (every 0.5–3 s), ${config.drops} connection drops, ${config.mcpKills} MCP server SIGKILLs`,
  );
  const database: ScratchDatabase = await createScratchDatabase(config.postgres, `chaos_test_${process.pid}`);
  const db = createPrismaClient(new PrismaPg({ connectionString: database.harnessUrl, max: 4 }));
  const harness = new pg.Pool({ connectionString: database.harnessUrl, max: 4 });
  let fleet: WorkerFleet | null = null;
  let ledger = "";
  try {
    const seeded = await seed(db);
    ledger = seeded.ledger;
    const logFile = path.join(seeded.dataDir, "workers.log");
    log(`database ${database.name}, ledger ${ledger}`);

    fleet = new WorkerFleet({
      size: config.workers,
      logFile,
      databaseUrl: database.url,
      dataDir: seeded.dataDir,
      orgIds: [seeded.org.orgId],
      leaseMs: config.leaseMs,
      heartbeatMs: config.heartbeatMs,
      concurrency: config.concurrency,
      logLevel: "warn",
    });
    await fleet.start();
    log(`${config.workers} workers ready`);

    const tally: FaultTally = { kills: 0, drops: 0, backendsTerminated: 0, mcpKills: 0 };
    const queued: string[] = [];
    const chaosDeadline = Date.now() + config.maxChaosMs;
    const activeFleet = fleet;
    const openRuns = async () => {
      const { rows } = await harness.query<{ status: string }>(`SELECT status::text AS status FROM runs WHERE org_id = $1`, [seeded.org.orgId]);
      return rows.filter((row) => !TERMINAL.has(row.status)).length;
    };
    const until = async (condition: () => boolean) => {
      while (!condition() && Date.now() < chaosDeadline) await sleep(50);
    };

    // Runs arrive as the faults progress — one share per fault, two shares ahead — so however fast or slow this
    // machine (and the kernel) is, every fault finds runs in flight and runs keep arriving until the last fault: a
    // share is left for it (F + 2 shares for F faults). When nothing is in flight while a fault still waits, one more
    // run is released, beyond the count asked for if need be: a fault waiting for a target must never run out of
    // runs (CI once queued its last run while every MCP server was too young to kill, then waited 10 minutes).
    const faultsPlanned = config.kills + config.drops + config.mcpKills;
    const faultsDone = () => tally.kills + tally.drops + tally.mcpKills;
    const faultsOver = () => faultsDone() >= faultsPlanned || Date.now() >= chaosDeadline;
    const share = Math.max(1, Math.floor(config.runs / (faultsPlanned + 2)));
    const queueRuns = async () => {
      let starved = 0;
      while (!(faultsOver() && queued.length >= config.runs)) {
        const allowed = faultsOver() ? config.runs : Math.min(config.runs, share * (faultsDone() + 2)) + starved;
        if (allowed <= queued.length) {
          if ((await openRuns()) === 0) starved += 1;
          else await sleep(100);
          continue;
        }
        for (let i = queued.length; i < allowed; i++) {
          const run = await createRun(db, seeded.org.principals.OWNER, { agent: seeded.slugs[i % AGENTS]!, input: `chaos run ${i + 1}` });
          queued.push(run.id);
          if (i === config.runs) log(`all ${config.runs} runs asked for are queued and a fault still waits for a target: queuing more, one at a time`);
        }
      }
      log(`all ${queued.length} runs queued`);
    };

    const killWorkers = async () => {
      while (tally.kills < config.kills && Date.now() < chaosDeadline) {
        await sleep(between(500, 3_000));
        // Never the last worker standing while replacements start: the runs must keep moving between kills.
        const victims = activeFleet.workers().length >= 2 ? await workersHoldingRuns(harness, activeFleet) : [];
        if (victims.length === 0) continue;
        const victim = victims[Math.floor(random() * victims.length)]!;
        await activeFleet.kill(victim);
        tally.kills += 1;
        log(`SIGKILL worker ${victim.workerId} (${tally.kills}/${config.kills})`);
      }
    };

    // The other faults are spread between the kills: the d-th of D comes after kill K·(d+1)/(D+1).
    const afterKill = (index: number, of: number) => Math.floor((config.kills * (index + 1)) / (of + 1));

    const dropConnections = async () => {
      for (let d = 0; d < config.drops; d++) {
        await until(() => tally.kills >= afterKill(d, config.drops));
        await sleep(between(0, 1_000));
        while (Date.now() < chaosDeadline) {
          const terminated = await dropBusyConnections(harness, database.name);
          if (terminated > 0) {
            tally.drops += 1;
            tally.backendsTerminated += terminated;
            log(`terminated ${terminated} busy database connection(s) (${tally.drops}/${config.drops})`);
            break;
          }
          await sleep(10);
        }
      }
    };

    const killMcpServers = async () => {
      for (let m = 0; m < config.mcpKills; m++) {
        await until(() => tally.kills >= afterKill(m, config.mcpKills));
        await sleep(between(0, 1_000));
        while (Date.now() < chaosDeadline) {
          const owners = new Set(await workersWithPendingToolCall(harness, TOOL));
          const worker = activeFleet.workers().find((w) => owners.has(w.workerId));
          const candidates = worker ? await demoServerPids(worker.pid, ledger) : [];
          // Only a server that has been up a while: one still starting has no call in flight yet.
          const ages = await Promise.all(candidates.map(processAgeSeconds));
          const pids = candidates.filter((_, i) => (ages[i] ?? 0) >= MCP_SERVER_MIN_AGE_S);
          // Re-checked after the awaits above: a worker SIGKILLed meanwhile left an orphan, not a call in flight.
          if (worker && pids.length > 0 && activeFleet.workers().includes(worker)) {
            for (const pid of pids) process.kill(pid, "SIGKILL");
            tally.mcpKills += 1;
            log(`SIGKILL demo MCP server ${pids.join(", ")} of worker ${worker.workerId} mid-call (${tally.mcpKills}/${config.mcpKills})`);
            break;
          }
          await sleep(20);
        }
      }
    };

    await Promise.all([queueRuns(), killWorkers(), dropConnections(), killMcpServers()]);
    log(`faults done; waiting up to ${config.settleMs / 1000} s for every run to end`);

    const settleDeadline = Date.now() + config.settleMs;
    for (;;) {
      const { rows } = await harness.query<{ status: string }>(`SELECT status::text AS status FROM runs WHERE org_id = $1`, [seeded.org.orgId]);
      const open = rows.filter((row) => !TERMINAL.has(row.status)).length;
      if (open === 0 || Date.now() > settleDeadline) break;
      await sleep(250);
    }
    log("settled; stopping workers");
    await fleet.stop();
    await sleep(500);
    const orphans = await allDemoServerPids(ledger);
    for (const pid of orphans) process.kill(pid, "SIGKILL");

    // ─── The evidence ─────────────────────────────────────────────────────────────────────────────────────
    const runs = (
      await harness.query<{ id: string; status: string; input: string; error: string | null }>(`SELECT id, status::text AS status, input, error FROM runs WHERE org_id = $1`, [seeded.org.orgId])
    ).rows;
    const events = (
      await harness.query<{ run_id: string; seq: number; status: "PENDING" | "OK" | "ERROR"; idempotency_key: string | null; payload: ToolPayload }>(
        `SELECT run_id, seq, status::text AS status, idempotency_key, payload FROM run_events WHERE org_id = $1 AND type = 'TOOL_CALL' AND name = $2`,
        [seeded.org.orgId, TOOL],
      )
    ).rows;
    const toolEvents: ToolEventRow[] = events.map((event) => ({
      runId: event.run_id,
      seq: event.seq,
      status: event.status,
      idempotencyKey: event.idempotency_key,
      subject: typeof event.payload.args?.subject === "string" ? event.payload.args.subject : null,
      errorKind: event.payload.error?.kind ?? (event.payload.result?.isError ? "tool_error" : null),
      errorMessage: event.payload.error?.message ?? (event.payload.result?.isError ? (event.payload.result.content ?? null) : null),
    }));
    const ledgerRows: LedgerRow[] = readDemoLedger(ledger).flatMap((entry) => (entry.kind === "email" ? [{ idempotencyKey: entry.idempotencyKey, subject: entry.subject }] : []));
    const handOvers = (
      await harness.query<{ all: number; mid_call: number }>(
        `SELECT count(*)::int AS all, count(*) FILTER (WHERE payload->>'reason' LIKE '%during step%(${TOOL})%')::int AS mid_call
           FROM run_events WHERE org_id = $1 AND type = 'RUN_RESUMED'`,
        [seeded.org.orgId],
      )
    ).rows[0]!;

    const verdict = judge({ queuedRunIds: queued, runs, toolEvents, ledger: ledgerRows, stepsPerRun: config.steps });
    const seconds = ((Date.now() - startedAt) / 1000).toFixed(0);

    console.log("");
    console.log(`Chaos run (seed ${config.seed}, ${seconds} s, database ${database.name}):`);
    console.log(`  worker SIGKILLs:            ${tally.kills} of ${config.kills} (each while the worker held runs)`);
    console.log(`  connection drops:           ${tally.drops} of ${config.drops} (${tally.backendsTerminated} backends terminated mid-transaction or mid-statement)`);
    console.log(`  MCP server SIGKILLs:        ${tally.mcpKills} of ${config.mcpKills} (each while one of its tool calls was pending)`);
    console.log(`  runs handed over:           ${handOvers.all} resumptions, ${handOvers.mid_call} of them from inside a ${TOOL} call (replayed with its idempotency key)`);
    console.log(`  emails sent:                ${ledgerRows.length} (expected ${verdict.succeeded * config.steps} for ${verdict.succeeded} succeeded runs; ${verdict.skippedSteps} steps skipped after a failed call)`);
    console.log(`  runs succeeded:             ${verdict.succeeded} of ${verdict.runs}`);
    for (const [reason, count] of verdict.notSucceeded) console.log(`  ended otherwise:            ${count} × ${reason}`);
    for (const [reason, count] of verdict.failedToolCalls) console.log(`  tool calls failed:          ${count} × ${reason}`);
    console.log(`  worker deaths not ours:     ${fleet.unexpectedExits.length}`);
    for (const exit of fleet.unexpectedExits.slice(0, 3)) console.log(`    ${exit.workerId} exited ${exit.signal ?? `code ${exit.code}`}:\n${indent(exit.outputTail)}`);
    if (fleet.failedStarts.length > 0) console.log(`  workers too slow to start:  ${fleet.failedStarts.length} (not ready within 3 minutes; started again)`);
    console.log(`  orphaned MCP servers:       ${orphans.length}`);
    for (const problem of verdict.problems) console.log(`  ! ${problem}`);
    console.log(`  worker logs:                ${config.keep ? logFile : "(deleted; --keep keeps them)"}`);
    console.log("");
    console.log(`runs: ${verdict.runs}, lost: ${verdict.lost}, duplicated side effects: ${verdict.duplicated}, stuck: ${verdict.stuck}`);

    const shortfalls = [
      tally.kills < config.kills ? `only ${tally.kills} of ${config.kills} worker kills happened` : null,
      tally.drops < config.drops ? `only ${tally.drops} of ${config.drops} connection drops happened` : null,
      tally.mcpKills < config.mcpKills ? `only ${tally.mcpKills} of ${config.mcpKills} MCP server kills happened` : null,
      fleet.unexpectedExits.length > 0 ? `${fleet.unexpectedExits.length} worker(s) died without being killed` : null,
    ].filter((line): line is string => line !== null);
    for (const line of shortfalls) console.log(`FAILED: ${line}`);
    const ok = verdict.lost === 0 && verdict.duplicated === 0 && verdict.stuck === 0 && shortfalls.length === 0;
    if (!config.keep) fs.rmSync(seeded.dataDir, { recursive: true, force: true });
    return ok ? 0 : 1;
  } finally {
    await fleet?.stop().catch(() => undefined);
    if (ledger) for (const pid of await allDemoServerPids(ledger)) process.kill(pid, "SIGKILL");
    await harness.end();
    await db.$disconnect();
    if (config.keep) console.log(`kept database ${database.name} (${database.url})`);
    else await database.drop();
  }
}

interface ToolPayload {
  args?: { subject?: unknown };
  error?: { kind?: string; message?: string };
  result?: { isError?: boolean; content?: string };
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => `      ${line}`)
    .join("\n");
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
