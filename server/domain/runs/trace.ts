import crypto from "node:crypto";
import type { Db, DbOrTx, Tx } from "@/server/db";
import type { Prisma } from "@/server/generated/prisma/client";
import { DomainError } from "../errors";
import { settleSpendReservation } from "../spend/reservations";

export type RunEventTypeName =
  | "RUN_STARTED"
  | "RUN_RESUMED"
  | "MODEL_CALL"
  | "TOOL_CALL"
  | "POLICY_DECISION"
  | "APPROVAL"
  | "MEMORY_READ"
  | "MEMORY_WRITE"
  | "CONTEXT_SUMMARY"
  | "DRAFT"
  | "DELEGATION"
  | "GUARD"
  | "ERROR"
  | "RUN_FINISHED";

/** Thrown when a worker tries to write to a run it no longer holds: another worker owns it now. */
export class LeaseLost extends DomainError {
  constructor(runId: string) {
    super("CONFLICT", `This worker no longer holds run ${runId}; another worker has taken it over.`);
  }
}

export interface TraceWriter {
  runId: string;
  orgId: string;
  workerId: string;
}

export interface NewEvent {
  type: RunEventTypeName;
  name?: string;
  status: "PENDING" | "OK" | "ERROR";
  payload: Prisma.InputJsonValue;
  idempotencyKey?: string;
  startedAt?: Date;
  endedAt?: Date | null;
  inputTokens?: number;
  outputTokens?: number;
  costMicros?: number;
}

/**
 * The fence: every trace write first proves, inside its transaction, that this worker still holds the run's lease.
 * A worker that was presumed dead (its lease expired and another claimed the run) can therefore never append to
 * or complete events of a run it lost — at most one writer per run, even across a network partition.
 */
async function assertLease(tx: Prisma.TransactionClient | Db, writer: TraceWriter): Promise<void> {
  const held = await tx.run.updateMany({
    where: { id: writer.runId, orgId: writer.orgId, leaseOwner: writer.workerId, status: "RUNNING" },
    data: { updatedAt: new Date() },
  });
  if (held.count !== 1) throw new LeaseLost(writer.runId);
}

/**
 * Trace writes wait longer than Prisma's default 2 s for a connection: on the embedded database (one connection) many
 * concurrent runs queue for it, and a step that gave up would stall its run until the lease expired.
 */
const TRACE_TRANSACTION = { maxWait: 15_000, timeout: 30_000 };

/** The row appendEvent returns: the event as stored. */
export interface AppendedEvent {
  id: string;
  seq: number;
  type: RunEventTypeName;
  name: string;
  status: "PENDING" | "OK" | "ERROR";
  payload: Prisma.JsonValue;
  startedAt: Date;
  endedAt: Date | null;
  inputTokens: number;
  outputTokens: number;
  costMicros: number;
}

/** Event ids are made here (one statement inserts the row), unique like the cuids Prisma would make. */
function newEventId(): string {
  return `ev${crypto.randomBytes(12).toString("hex")}`;
}

/**
 * Appends one event at `seq`; the (run, seq) unique key makes a racing duplicate fail instead of forking the log.
 * One statement, so one round trip and one commit on the hot path: the lease check (with the step counter) and the
 * insert are atomic because they are a single statement — the insert takes its run id from the lease update, so
 * without the lease nothing is written, and a failed insert undoes the update.
 */
export async function appendEvent(
  db: Db,
  writer: TraceWriter,
  seq: number,
  event: NewEvent,
  /** More writes committed with the event (e.g. its audit entry): one transaction, one commit, instead of two. */
  alsoInTransaction?: (tx: Tx) => Promise<void>,
): Promise<AppendedEvent> {
  if (!alsoInTransaction) return insertEvent(db, writer, seq, event);
  return db.$transaction(async (tx) => {
    const created = await insertEvent(tx, writer, seq, event);
    await alsoInTransaction(tx);
    return created;
  }, TRACE_TRANSACTION);
}

async function insertEvent(db: DbOrTx, writer: TraceWriter, seq: number, event: NewEvent): Promise<AppendedEvent> {
  const countsAsStep = event.type !== "RUN_STARTED" && event.type !== "RUN_RESUMED" && event.type !== "RUN_FINISHED" ? 1 : 0;
  const startedAt = event.startedAt ?? new Date();
  const endedAt = event.endedAt === undefined ? (event.status === "PENDING" ? null : new Date()) : event.endedAt;
  const rows = await db.$queryRaw<
    { id: string; seq: number; type: string; name: string; status: string; payload: Prisma.JsonValue; started_at: Date; ended_at: Date | null; input_tokens: number; output_tokens: number; cost_micros: number }[]
  >`
    WITH lease AS (
      UPDATE runs SET updated_at = ${new Date()}, step_count = step_count + ${countsAsStep}::int
       WHERE id = ${writer.runId} AND org_id = ${writer.orgId} AND lease_owner = ${writer.workerId} AND status = 'RUNNING'
      RETURNING id)
    INSERT INTO run_events (id, org_id, run_id, seq, type, name, status, payload, idempotency_key, started_at, ended_at, input_tokens, output_tokens, cost_micros)
    SELECT ${newEventId()}, ${writer.orgId}, lease.id, ${seq}::int, ${event.type}::"RunEventType", ${event.name ?? ""}, ${event.status}::"RunEventStatus",
           ${JSON.stringify(event.payload)}::jsonb, ${event.idempotencyKey ?? null}, ${startedAt}::timestamp, ${endedAt}::timestamp,
           ${event.inputTokens ?? 0}::int, ${event.outputTokens ?? 0}::int, ${event.costMicros ?? 0}::int
      FROM lease
    RETURNING id, seq, type::text AS type, name, status::text AS status, payload, started_at, ended_at, input_tokens, output_tokens, cost_micros`;
  const row = rows[0];
  if (!row) throw new LeaseLost(writer.runId);
  return {
    id: row.id,
    seq: row.seq,
    type: row.type as RunEventTypeName,
    name: row.name,
    status: row.status as AppendedEvent["status"],
    payload: row.payload,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    costMicros: row.cost_micros,
  };
}

export interface EventCompletion {
  status: "OK" | "ERROR";
  payload: Prisma.InputJsonValue;
  inputTokens?: number;
  outputTokens?: number;
  costMicros?: number;
  /** Also written in the same transaction: the spend ledger row of a model call. */
  spend?: { agentId: string; userId: string; modelConfigId: string | null; model: string };
  /** The model call's spend reservation, settled in the same transaction: replaced by `spend`, or released. */
  spendReservationId?: string | null;
}

/** Completes a PENDING event (the "after" write) and rolls its usage into the run's totals atomically. */
export async function completeEvent(db: Db, writer: TraceWriter, eventId: string, completion: EventCompletion): Promise<void> {
  const usage = (completion.inputTokens ?? 0) + (completion.outputTokens ?? 0) + (completion.costMicros ?? 0);
  if (usage === 0 && !completion.spend && !completion.spendReservationId) {
    // Nothing to roll into the run's totals (a tool call's result): the lease check and the update are one statement,
    // one round trip — the event is only updated when the lease update found the run still ours.
    const rows = await db.$queryRaw<{ id: string }[]>`
      WITH lease AS (
        UPDATE runs SET updated_at = ${new Date()}
         WHERE id = ${writer.runId} AND org_id = ${writer.orgId} AND lease_owner = ${writer.workerId} AND status = 'RUNNING'
        RETURNING id)
      UPDATE run_events SET status = ${completion.status}::"RunEventStatus", payload = ${JSON.stringify(completion.payload)}::jsonb,
             ended_at = ${new Date()}::timestamp, input_tokens = 0, output_tokens = 0, cost_micros = 0
       WHERE id = ${eventId} AND run_id IN (SELECT id FROM lease) AND status = 'PENDING'
      RETURNING id`;
    if (rows.length !== 1) throw new LeaseLost(writer.runId);
    return;
  }
  await db.$transaction(async (tx) => {
    await assertLease(tx, writer);
    const { count } = await tx.runEvent.updateMany({
      where: { id: eventId, runId: writer.runId, status: "PENDING" },
      data: {
        status: completion.status,
        payload: completion.payload,
        endedAt: new Date(),
        inputTokens: completion.inputTokens ?? 0,
        outputTokens: completion.outputTokens ?? 0,
        costMicros: completion.costMicros ?? 0,
      },
    });
    if (count !== 1) throw new LeaseLost(writer.runId);
    const inputTokens = completion.inputTokens ?? 0;
    const outputTokens = completion.outputTokens ?? 0;
    const costMicros = completion.costMicros ?? 0;
    if (inputTokens || outputTokens || costMicros) {
      await tx.run.update({
        where: { id: writer.runId },
        data: { inputTokens: { increment: inputTokens }, outputTokens: { increment: outputTokens }, costMicros: { increment: costMicros } },
      });
    }
    if (completion.spend) {
      await tx.spendEntry.create({
        data: {
          orgId: writer.orgId,
          runId: writer.runId,
          agentId: completion.spend.agentId,
          userId: completion.spend.userId,
          modelConfigId: completion.spend.modelConfigId,
          model: completion.spend.model,
          inputTokens,
          outputTokens,
          costMicros,
        },
      });
    }
    if (completion.spendReservationId) await settleSpendReservation(tx, writer.orgId, completion.spendReservationId);
  }, TRACE_TRANSACTION);
}

export type FinalStatus = "SUCCEEDED" | "FAILED" | "CANCELLED" | "HALTED";

/** Ends the run (CAS from RUNNING under this worker's lease) and writes the RUN_FINISHED event with it. */
export async function finishRun(
  db: Db,
  writer: TraceWriter,
  seq: number,
  outcome: { status: FinalStatus; output?: string | null; error?: string | null; haltReason?: string | null },
) {
  await db.$transaction(async (tx) => {
    await assertLease(tx, writer);
    // The application's clock, like every other event: the database's now() may differ by a few milliseconds.
    const at = new Date();
    await tx.runEvent.create({
      data: {
        orgId: writer.orgId,
        runId: writer.runId,
        seq,
        type: "RUN_FINISHED",
        name: outcome.status.toLowerCase(),
        status: outcome.status === "SUCCEEDED" ? "OK" : "ERROR",
        payload: { status: outcome.status, output: outcome.output ?? null, error: outcome.error ?? null, haltReason: outcome.haltReason ?? null },
        startedAt: at,
        endedAt: at,
      },
    });
    const { count } = await tx.run.updateMany({
      where: { id: writer.runId, orgId: writer.orgId, status: "RUNNING", leaseOwner: writer.workerId },
      data: {
        status: outcome.status,
        output: outcome.output ?? null,
        error: outcome.error ?? null,
        haltReason: outcome.haltReason ?? null,
        endedAt: at,
        leaseOwner: null,
        leaseUntil: null,
      },
    });
    if (count !== 1) throw new LeaseLost(writer.runId);
    await wakeParent(tx, writer);
  }, TRACE_TRANSACTION);
}

/**
 * A child run that ends queues its parent again if the parent is waiting for its children. The parent row is locked
 * first, so this serialises with the parent's own parkForChildren: whichever commits second sees the other's write.
 */
async function wakeParent(tx: Prisma.TransactionClient, writer: TraceWriter): Promise<void> {
  const child = await tx.run.findUnique({ where: { id: writer.runId }, select: { parentRunId: true } });
  if (!child?.parentRunId) return;
  await tx.$queryRaw`SELECT id FROM runs WHERE id = ${child.parentRunId} AND org_id = ${writer.orgId} FOR UPDATE`;
  await tx.run.updateMany({ where: { id: child.parentRunId, orgId: writer.orgId, status: "WAITING_CHILDREN" }, data: { status: "QUEUED" } });
}

/**
 * Parks a run until one of its child runs ends: WAITING_CHILDREN, lease released. Returns false (not parked) when
 * every child in `childRunIds` has already ended — the caller then reads their outcomes straight away.
 */
export async function parkForChildren(db: Db, writer: TraceWriter, childRunIds: readonly string[]): Promise<boolean> {
  return db.$transaction(async (tx) => {
    await assertLease(tx, writer);
    const live = await tx.run.count({ where: { id: { in: [...childRunIds] }, orgId: writer.orgId, status: { notIn: ["SUCCEEDED", "FAILED", "CANCELLED", "HALTED"] } } });
    if (live === 0) return false;
    await tx.run.updateMany({
      where: { id: writer.runId, orgId: writer.orgId, leaseOwner: writer.workerId, status: "RUNNING" },
      data: { status: "WAITING_CHILDREN", leaseOwner: null, leaseUntil: null },
    });
    return true;
  }, TRACE_TRANSACTION);
}

/**
 * Parks a run until a reviewer decides its draft: WAITING_REVIEW, lease released. Like parkForApproval, the item is
 * locked first, so a decision racing this call is never missed (returns false: go on and read it).
 */
export async function parkForReview(db: Db, writer: TraceWriter, itemId: string): Promise<boolean> {
  return db.$transaction(async (tx) => {
    await assertLease(tx, writer);
    const rows = await tx.$queryRaw<{ status: string }[]>`SELECT status::text AS status FROM inbox_items WHERE id = ${itemId} FOR UPDATE`;
    if (rows[0]?.status !== "PENDING") return false;
    await tx.run.updateMany({
      where: { id: writer.runId, orgId: writer.orgId, leaseOwner: writer.workerId, status: "RUNNING" },
      data: { status: "WAITING_REVIEW", leaseOwner: null, leaseUntil: null },
    });
    return true;
  }, TRACE_TRANSACTION);
}

/**
 * Parks a run until a person decides its approval: WAITING_APPROVAL, lease released. The approval row is locked
 * first, so a decision racing this call either lands before (the run is not parked: returns false) or waits and
 * then finds the run parked and queues it again — a run can never be parked on an approval already decided.
 */
export async function parkForApproval(db: Db, writer: TraceWriter, approvalId: string): Promise<boolean> {
  return db.$transaction(async (tx) => {
    await assertLease(tx, writer);
    const rows = await tx.$queryRaw<{ status: string }[]>`SELECT status::text AS status FROM approvals WHERE id = ${approvalId} FOR UPDATE`;
    if (rows[0]?.status !== "PENDING") return false;
    await tx.run.updateMany({
      where: { id: writer.runId, orgId: writer.orgId, leaseOwner: writer.workerId, status: "RUNNING" },
      data: { status: "WAITING_APPROVAL", leaseOwner: null, leaseUntil: null },
    });
    return true;
  }, TRACE_TRANSACTION);
}
