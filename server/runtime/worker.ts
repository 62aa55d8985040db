import crypto from "node:crypto";
import os from "node:os";
import { onRunnable } from "../domain/runs/wakeup";
import { expireApprovals } from "../domain/approvals/approvals";
import { loadGovernanceSettings } from "../domain/governance/settings";
import { createDueScheduledRuns } from "../domain/triggers/schedules";
import { deleteExpiredMemories } from "../domain/memory/memories";
import { embedMissingMemories } from "../domain/memory/embeddings";
import { embedMissingChunks } from "../domain/knowledge/vectors";
import { logger } from "../logger";
import { sqlFor } from "../sql";
import { executeRun, type StopReason } from "./execute-run";
import type { KernelDeps } from "./kernel-deps";

/** Timing invariants shared by every worker host. A lease must outlive several missed heartbeats. */
export const LEASE_MS = 30_000;
export const HEARTBEAT_MS = 5_000;
export const IDLE_POLL_MS = 500;
export const MAX_CONCURRENT_RUNS_PER_ORG = 50;
/** How often a worker looks for due schedule ticks: a scheduled run starts within about this long of its tick. */
export const SCHEDULE_SWEEP_MS = 2_000;
/** How often expired memories are deleted and memories and passages written without an embedding get one. */
export const MEMORY_SWEEP_MS = 10 * 60_000;

export interface WorkerOptions {
  /** Runs this worker drives at once (each waits mostly on models and tools, so this can be high). */
  concurrency?: number;
  leaseMs?: number;
  heartbeatMs?: number;
  pollMs?: number;
  workerId?: string;
  /**
   * Claim only these organisations' runs (default: every organisation's) — workers dedicated to some tenants, and
   * test suites sharing one database whose workers must not pick up each other's runs.
   */
  orgIds?: readonly string[];
  /**
   * Runs of one organisation in progress at once across all workers (default MAX_CONCURRENT_RUNS_PER_ORG), so one
   * tenant cannot take every slot. Raise it for an organisation that really runs that many (benchmarks, big tenants).
   */
  maxRunsPerOrg?: number;
}

/**
 * Claims runs ($1 worker id, $2 lease seconds, $3 org ids or null, $4 runs per org at most, $5 how many). Sent on the
 * kernel's SQL path: it runs whenever a run ends, and through Prisma each one cost several ms of the worker's CPU.
 */
const CLAIM_SQL = `
  WITH busy AS MATERIALIZED (
    SELECT org_id, count(*) AS running FROM runs
     WHERE status = 'RUNNING' AND lease_until >= now()
       AND ($3::text[] IS NULL OR org_id = ANY($3::text[]))
     GROUP BY org_id),
  waiting AS MATERIALIZED (
    SELECT r.id,
           COALESCE(busy.running, 0) + row_number() OVER (PARTITION BY r.org_id ORDER BY r.created_at, r.id) AS slot
      FROM runs r LEFT JOIN busy ON busy.org_id = r.org_id
     WHERE (r.status = 'QUEUED' OR (r.status = 'RUNNING' AND r.lease_until < now()))
       AND ($3::text[] IS NULL OR r.org_id = ANY($3::text[])))
  UPDATE runs
     SET status = 'RUNNING', lease_owner = $1::text,
         lease_until = now() + make_interval(secs => $2::float8),
         started_at = COALESCE(started_at, now()), updated_at = now()
   WHERE id IN (
     SELECT r.id FROM runs r
      WHERE r.id IN (SELECT id FROM waiting WHERE slot <= $4::int)
        AND (r.status = 'QUEUED' OR (r.status = 'RUNNING' AND r.lease_until < now()))
      ORDER BY r.created_at, r.id
      LIMIT $5::int
      FOR UPDATE OF r SKIP LOCKED)
  RETURNING id, org_id`;

/**
 * Extends a worker's leases ($1 seconds, $2 run ids, $3 worker id). Rows are locked in id order, as a batch of trace
 * writes locks them (trace.ts): the two never wait on each other in a cycle, which PostgreSQL would break only after
 * its deadlock timeout (1 s), stalling every run involved.
 */
const RENEW_LEASES_SQL = `
  UPDATE runs SET lease_until = now() + make_interval(secs => $1::float8)
   WHERE id IN (
     SELECT id FROM runs
      WHERE id = ANY($2::text[]) AND lease_owner = $3::text AND status = 'RUNNING'
      ORDER BY id COLLATE "C"
      FOR UPDATE)
  RETURNING id, cancel_requested_at IS NOT NULL AS cancelled`;

interface ActiveRun {
  runId: string;
  orgId: string;
  controller: AbortController;
  done: Promise<void>;
}

/**
 * Claims runnable runs from the database and drives them. Several workers (in any number of processes and machines)
 * may run at once: a run is claimed with FOR UPDATE SKIP LOCKED under a lease that only its holder renews, and every
 * trace write re-checks the lease, so each run is executed by exactly one worker at a time. A run whose worker died
 * becomes claimable when its lease expires.
 */
export class Worker {
  readonly workerId: string;
  private readonly concurrency: number;
  private readonly orgIds: string[] | null;
  private readonly maxRunsPerOrg: number;
  private readonly leaseMs: number;
  private readonly heartbeatMs: number;
  private readonly pollMs: number;
  private readonly active = new Map<string, ActiveRun>();
  private stopping = false;
  private loopDone: Promise<void> | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private renewing = false;
  private lastSweep = 0;
  private lastScheduleSweep = 0;
  /** The first memory sweep comes a minute after start, so short-lived workers (tests, scripts) skip it. */
  private lastMemorySweep = Date.now() - MEMORY_SWEEP_MS + 60_000;
  private wake: (() => void) | null = null;

  constructor(
    private readonly deps: KernelDeps,
    options: WorkerOptions = {},
  ) {
    this.workerId = options.workerId ?? `${os.hostname()}:${process.pid}:${crypto.randomBytes(3).toString("hex")}`;
    this.concurrency = options.concurrency ?? 100;
    this.orgIds = options.orgIds ? [...options.orgIds] : null;
    this.maxRunsPerOrg = options.maxRunsPerOrg ?? MAX_CONCURRENT_RUNS_PER_ORG;
    this.leaseMs = options.leaseMs ?? LEASE_MS;
    this.heartbeatMs = options.heartbeatMs ?? HEARTBEAT_MS;
    this.pollMs = options.pollMs ?? IDLE_POLL_MS;
  }

  get activeRuns(): number {
    return this.active.size;
  }

  start(): void {
    if (this.loopDone) return;
    const unsubscribe = onRunnable(() => this.wake?.());
    this.heartbeat = setInterval(() => void this.renewLeases(), this.heartbeatMs);
    this.loopDone = this.loop().finally(unsubscribe);
    logger.info("worker started", { workerId: this.workerId, concurrency: this.concurrency });
  }

  /**
   * Graceful drain: stop claiming, give current runs `graceMs` to reach a step boundary, then release the rest so
   * another worker takes them over at once instead of waiting for the lease to expire.
   */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loopDone;
    const all = Promise.all([...this.active.values()].map((run) => run.done));
    const timedOut = await Promise.race([all.then(() => false), sleep(graceMs).then(() => true)]);
    if (timedOut) {
      for (const run of this.active.values()) run.controller.abort("shutdown" satisfies StopReason);
      await all;
    }
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.releaseAll();
    logger.info("worker stopped", { workerId: this.workerId });
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      const free = this.concurrency - this.active.size;
      let claimed = 0;
      if (Date.now() - this.lastSweep >= this.heartbeatMs) {
        this.lastSweep = Date.now();
        await this.sweepApprovals();
      }
      if (Date.now() - this.lastScheduleSweep >= SCHEDULE_SWEEP_MS) {
        this.lastScheduleSweep = Date.now();
        await this.sweepSchedules();
      }
      if (Date.now() - this.lastMemorySweep >= MEMORY_SWEEP_MS) {
        this.lastMemorySweep = Date.now();
        await this.sweepMemories();
      }
      if (free > 0) {
        try {
          claimed = await this.claim(Math.min(free, 20));
        } catch (error) {
          logger.error("claiming runs failed; retrying", { workerId: this.workerId, error });
          await sleep(this.pollMs * 4);
        }
      }
      if (claimed === 0 || this.active.size >= this.concurrency) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.pollMs);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = null;
      }
    }
  }

  /** Approvals nobody decided in time get their org's default outcome, and their runs are queued again. */
  private async sweepApprovals(): Promise<void> {
    try {
      await expireApprovals(this.deps.db, async (orgId) => (await loadGovernanceSettings(this.deps.db, orgId)).approvalDefaultOutcome);
    } catch (error) {
      logger.error("expiring approvals failed; retrying on the next sweep", { workerId: this.workerId, error });
    }
  }

  /**
   * Queues the runs of due schedule ticks. Every worker does this; the database makes each tick's run exactly once,
   * so no worker needs to be the leader.
   */
  private async sweepSchedules(): Promise<void> {
    try {
      const sweep = await createDueScheduledRuns(this.deps.db, new Date());
      if (sweep.created.length > 0) logger.info("queued scheduled runs", { workerId: this.workerId, runs: sweep.created.length });
    } catch (error) {
      logger.error("creating scheduled runs failed; retrying on the next sweep", { workerId: this.workerId, error });
    }
  }

  /**
   * Deletes expired memories for good (recall already ignores them) and refreshes the planner statistics recall
   * relies on — the embedded database has no autovacuum to do it — then embeds memories written while no embeddings
   * provider answered (a no-op without one). Idempotent, so every worker may run it.
   */
  private async sweepMemories(): Promise<void> {
    try {
      const deleted = await deleteExpiredMemories(this.deps.db, new Date());
      if (deleted > 0) logger.info("deleted expired memories", { workerId: this.workerId, deleted });
      const embedded = await embedMissingMemories(this.deps.db, 100);
      if (embedded > 0) logger.info("embedded memories written without an embedding", { workerId: this.workerId, embedded });
      const passages = await embedMissingChunks(this.deps.db, 200);
      if (passages > 0) logger.info("embedded knowledge passages uploaded without an embedding", { workerId: this.workerId, passages });
    } catch (error) {
      logger.error("deleting expired memories failed; retrying on the next sweep", { workerId: this.workerId, error });
    }
  }

  /**
   * One atomic statement (CLAIM_SQL): pick runnable runs nobody holds (or whose holder's lease expired) and take them,
   * oldest first, without taking an organisation past `maxRunsPerOrg` running at once. Each org's running runs are
   * counted once per claim and its waiting runs ranked after them, so a claim takes at most its free slots (counting
   * once per waiting run was quadratic in the queue, and let one claim take `limit` runs of an org with one slot
   * left). A concurrent claim ranks the runs this one locked as still waiting and skips them, so two workers together
   * do not exceed the cap either. Both steps are MATERIALIZED: with statistics taken before a burst of runs was
   * queued, the planner otherwise re-ran them once per waiting run (a second per claim with 200 queued).
   */
  private async claim(limit: number): Promise<number> {
    const rows = await sqlFor(this.deps.db).query<{ id: string; org_id: string }>(CLAIM_SQL, [
      this.workerId,
      this.leaseMs / 1000,
      this.orgIds,
      this.maxRunsPerOrg,
      limit,
    ]);
    for (const row of rows) this.launch(row.id, row.org_id);
    return rows.length;
  }

  private launch(runId: string, orgId: string): void {
    // Our own lease lapsed (a heartbeat failed or came late) and nobody else took the run: the claim renewed it, and
    // the execution already under way goes on. A second one would race it for the same trace in the same name.
    if (this.active.has(runId)) return;
    const controller = new AbortController();
    const since = new Date();
    const done = executeRun(this.deps, { runId, orgId, workerId: this.workerId }, controller.signal)
      .catch((error: unknown) => logger.error("run execution failed; its lease will expire and it will be retried", { runId, error }))
      .finally(() => {
        // Trace export happens in the background: it never delays or fails the run (see server/observability).
        this.deps.observer?.runDriven({ runId, orgId, since });
        this.active.delete(runId);
        this.wake?.();
      });
    this.active.set(runId, { runId, orgId, controller, done });
  }

  /** Heartbeat: extend our leases; a run we no longer hold, or one a person cancelled, is stopped. */
  private async renewLeases(): Promise<void> {
    // A heartbeat slower than the interval (a loaded database) must not overlap the next: two updates of the same
    // rows from one worker only queue behind each other, or deadlock.
    if (this.active.size === 0 || this.renewing) return;
    this.renewing = true;
    const ids = [...this.active.keys()];
    try {
      const held = await sqlFor(this.deps.db).query<{ id: string; cancelled: boolean }>(RENEW_LEASES_SQL, [
        this.leaseMs / 1000,
        ids,
        this.workerId,
      ]);
      const heldIds = new Map(held.map((row) => [row.id, row.cancelled]));
      const renewed = new Set(ids);
      for (const run of this.active.values()) {
        // A run claimed while this heartbeat was in flight was not in it: it is ours, not lost.
        if (!renewed.has(run.runId)) continue;
        if (!heldIds.has(run.runId)) run.controller.abort("lease_lost" satisfies StopReason);
        else if (heldIds.get(run.runId)) run.controller.abort("cancel" satisfies StopReason);
      }
    } catch (error) {
      logger.warn("heartbeat failed", { workerId: this.workerId, error });
    } finally {
      this.renewing = false;
    }
  }

  private async releaseAll(): Promise<void> {
    try {
      await this.deps.db.$executeRaw`
        UPDATE runs SET lease_until = now() - interval '1 second'
         WHERE lease_owner = ${this.workerId} AND status = 'RUNNING'`;
    } catch (error) {
      logger.warn("could not release leases; they will expire on their own", { workerId: this.workerId, error });
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * On the embedded database exactly one process owns the data folder, so at start-up every RUNNING run is an orphan
 * of a previous process (killed or crashed): make it claimable now rather than after its lease expires.
 */
export async function reclaimOrphansOnEmbeddedStart(deps: KernelDeps): Promise<number> {
  return deps.db.$executeRaw`UPDATE runs SET lease_until = now() - interval '1 second' WHERE status = 'RUNNING'`;
}
