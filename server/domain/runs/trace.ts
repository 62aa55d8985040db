import type { Db } from "@/server/db";
import type { Prisma } from "@/server/generated/prisma/client";
import { DomainError } from "../errors";

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

/** Appends one event at `seq`; the (run, seq) unique key makes a racing duplicate fail instead of forking the log. */
export async function appendEvent(db: Db, writer: TraceWriter, seq: number, event: NewEvent) {
  return db.$transaction(async (tx) => {
    await assertLease(tx, writer);
    const created = await tx.runEvent.create({
      data: {
        orgId: writer.orgId,
        runId: writer.runId,
        seq,
        type: event.type,
        name: event.name ?? "",
        status: event.status,
        payload: event.payload,
        idempotencyKey: event.idempotencyKey,
        startedAt: event.startedAt ?? new Date(),
        endedAt: event.endedAt === undefined ? (event.status === "PENDING" ? null : new Date()) : event.endedAt,
        inputTokens: event.inputTokens ?? 0,
        outputTokens: event.outputTokens ?? 0,
        costMicros: event.costMicros ?? 0,
      },
    });
    if (event.type !== "RUN_STARTED" && event.type !== "RUN_RESUMED" && event.type !== "RUN_FINISHED") {
      await tx.run.update({ where: { id: writer.runId }, data: { stepCount: { increment: 1 } } });
    }
    return created;
  });
}

export interface EventCompletion {
  status: "OK" | "ERROR";
  payload: Prisma.InputJsonValue;
  inputTokens?: number;
  outputTokens?: number;
  costMicros?: number;
  /** Also written in the same transaction: the spend ledger row of a model call. */
  spend?: { agentId: string; userId: string; modelConfigId: string | null; model: string };
}

/** Completes a PENDING event (the "after" write) and rolls its usage into the run's totals atomically. */
export async function completeEvent(db: Db, writer: TraceWriter, eventId: string, completion: EventCompletion) {
  return db.$transaction(async (tx) => {
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
  });
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
  });
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
  });
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
  });
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
  });
}
