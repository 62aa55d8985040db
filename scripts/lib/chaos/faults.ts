import { execFile } from "node:child_process";
import fs from "node:fs";
import { promisify } from "node:util";
import type pg from "pg";
import { startWorkerProcess, type WorkerProcess, type WorkerProcessOptions } from "@/server/testing/worker-process";
import { HARNESS_APPLICATION_NAME } from "./database";

const execFileAsync = promisify(execFile);

/** A seeded random source, so a chaos run's timings can be replayed with --seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface UnexpectedExit {
  workerId: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  outputTail: string;
}

/**
 * N real worker processes kept at strength: a worker killed on purpose is replaced at once, and one that dies on
 * its own is recorded as a crash (a kernel bug) and replaced too, so the chaos run goes on and reports it.
 */
export class WorkerFleet {
  private readonly ready = new Set<WorkerProcess>();
  private readonly killedOnPurpose = new Set<WorkerProcess>();
  private readonly spawning = new Set<Promise<void>>();
  private stopping = false;
  readonly unexpectedExits: UnexpectedExit[] = [];
  readonly failedStarts: string[] = [];
  kills = 0;

  constructor(
    private readonly options: WorkerProcessOptions & { size: number; logFile: string },
  ) {}

  async start(): Promise<void> {
    await Promise.all(Array.from({ length: this.options.size }, () => this.spawn()));
  }

  workers(): WorkerProcess[] {
    return [...this.ready];
  }

  byWorkerId(workerId: string): WorkerProcess | undefined {
    return [...this.ready].find((worker) => worker.workerId === workerId);
  }

  /** SIGKILL: no drain, no lease release, no chance to finish the step it is in. A replacement starts at once. */
  async kill(worker: WorkerProcess): Promise<void> {
    if (!this.ready.delete(worker)) return;
    this.killedOnPurpose.add(worker);
    await worker.kill("SIGKILL");
    this.kills += 1;
    this.track(this.spawn());
  }

  /** Graceful stop of every worker (SIGTERM: drain), after any replacement still starting is up. */
  async stop(): Promise<void> {
    while (this.spawning.size > 0) await Promise.allSettled([...this.spawning]);
    this.stopping = true;
    await Promise.all([...this.ready].map((worker) => worker.stop()));
  }

  private track(spawn: Promise<void>): void {
    this.spawning.add(spawn);
    void spawn.finally(() => this.spawning.delete(spawn));
  }

  private async spawn(): Promise<void> {
    const { size: _size, logFile: _logFile, ...processOptions } = this.options;
    let worker: WorkerProcess;
    try {
      worker = await startWorkerProcess({ readyTimeoutMs: 180_000, ...processOptions, echoStderr: false });
    } catch (error) {
      // Not started within 3 minutes: an overloaded machine, not a kernel fault. Reported, and tried again.
      this.failedStarts.push((error as Error).message.slice(-2000));
      if (!this.stopping) this.track(sleep(1_000).then(() => this.spawn()));
      return;
    }
    this.ready.add(worker);
    void worker.exited.then((exit) => {
      this.ready.delete(worker);
      fs.appendFileSync(this.options.logFile, `\n===== worker ${worker.workerId} (pid ${worker.pid}) exited ${exit.signal ?? `code ${exit.code}`} =====\n${worker.output()}`);
      const expected = this.killedOnPurpose.has(worker) || (this.stopping && exit.code === 0);
      if (expected) return;
      this.unexpectedExits.push({ workerId: worker.workerId, code: exit.code, signal: exit.signal, outputTail: worker.output().slice(-2000) });
      if (!this.stopping) this.track(this.spawn());
    });
  }
}

/** Workers that hold at least one live lease right now: killing one interrupts runs mid-flight. */
export async function workersHoldingRuns(harness: pg.Client | pg.Pool, fleet: WorkerFleet): Promise<WorkerProcess[]> {
  const { rows } = await harness.query<{ lease_owner: string }>(
    `SELECT DISTINCT lease_owner FROM runs WHERE status = 'RUNNING' AND lease_until > now() AND lease_owner IS NOT NULL`,
  );
  const owners = new Set(rows.map((row) => row.lease_owner));
  return fleet.workers().filter((worker) => owners.has(worker.workerId));
}

/**
 * Terminates the workers' database backends that are inside a transaction or running a statement, as a failing
 * network or a PostgreSQL restart would. Returns how many were terminated (0: none was busy at that instant).
 */
export async function dropBusyConnections(harness: pg.Client | pg.Pool, database: string): Promise<number> {
  const { rows } = await harness.query<{ terminated: boolean }>(
    `SELECT pg_terminate_backend(pid) AS terminated
       FROM pg_stat_activity
      WHERE datname = $1 AND pid <> pg_backend_pid() AND application_name <> $2
        AND (state = 'active' OR state LIKE 'idle in transaction%')`,
    [database, HARNESS_APPLICATION_NAME],
  );
  return rows.filter((row) => row.terminated).length;
}

/** The demo MCP server processes a worker started (its children whose command line names our private ledger). */
export async function demoServerPids(workerPid: number, ledger: string): Promise<number[]> {
  try {
    const { stdout } = await execFileAsync("pgrep", ["-P", String(workerPid), "-f", ledger]);
    return stdout.split("\n").map((line) => Number(line.trim())).filter((pid) => Number.isInteger(pid) && pid > 0);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/** Seconds since a process started (ps etimes), or null when it is gone. */
export async function processAgeSeconds(pid: number): Promise<number | null> {
  try {
    const { stdout } = await execFileAsync("ps", ["-o", "etimes=", "-p", String(pid)]);
    const age = Number(stdout.trim());
    return Number.isFinite(age) && stdout.trim() !== "" ? age : null;
  } catch {
    return null;
  }
}

/** Every process still running the demo server on our ledger, whoever its parent (orphans after the run). */
export async function allDemoServerPids(ledger: string): Promise<number[]> {
  try {
    const { stdout } = await execFileAsync("pgrep", ["-f", ledger]);
    return stdout.split("\n").map((line) => Number(line.trim())).filter((pid) => Number.isInteger(pid) && pid > 0 && pid !== process.pid);
  } catch {
    return [];
  }
}

/** The workers whose runs have a tool call in flight (its intent written, its result not yet): "mid-call". */
export async function workersWithPendingToolCall(harness: pg.Client | pg.Pool, tool: string): Promise<string[]> {
  const { rows } = await harness.query<{ lease_owner: string }>(
    `SELECT DISTINCT r.lease_owner
       FROM run_events e JOIN runs r ON r.id = e.run_id
      WHERE e.type = 'TOOL_CALL' AND e.status = 'PENDING' AND e.name = $1 AND r.status = 'RUNNING' AND r.lease_owner IS NOT NULL`,
    [tool],
  );
  return rows.map((row) => row.lease_owner);
}
