import type { Db, DbOrTx } from "@/server/db";
import { KERNEL_TRANSACTION, newRowId, sqlFor } from "@/server/sql";
import { auditAppendSql, type AuditEntry } from "../audit/audit-log";
import type { Prisma } from "@/server/generated/prisma/client";
import { DomainError } from "../errors";
import { gateUnchangedSql, toolCallGateUnchanged } from "../policy/tool-call-gate";

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

/**
 * Thrown by a trace write whose decision was taken on a tool-call gate that has changed since (a membership revoked,
 * a policy added): nothing was written, and the kernel decides again on the gate as it is now.
 */
export class GateChanged extends Error {
  constructor() {
    super("The identity, guard settings or policies a tool call was judged on changed before its decision was written.");
  }
}

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
  /** Read under the run's row lock by the same statement: a person asked to cancel the run. */
  cancelRequested: boolean;
}

/**
 * Appends one event at `seq`; the (run, seq) unique key makes a racing duplicate fail instead of forking the log.
 * One statement, so one round trip and one commit on the hot path (see appendEvents).
 */
export async function appendEvent(db: DbOrTx, writer: TraceWriter, seq: number, event: NewEvent): Promise<AppendedEvent> {
  const [appended] = await appendEvents(db, writer, seq, [event]);
  return appended!;
}

/** Events that mark a run's start, hand-over or end rather than a step of its work (not counted in step_count). */
const NOT_STEPS = new Set<RunEventTypeName>(["RUN_STARTED", "RUN_RESUMED", "RUN_FINISHED"]);

/**
 * Appends consecutive events (at seq, seq + 1, …) with the audit entry that records them: one statement (writeTrace).
 */
export async function appendEvents(db: DbOrTx, writer: TraceWriter, seq: number, events: readonly NewEvent[], audit?: AuditEntry): Promise<AppendedEvent[]> {
  return (await writeTrace(db, writer, { append: { seq, events, audit } })).appended;
}

/** Whose spend limits a model call counts against (besides the org's). */
export interface SpendSubjectIds {
  agentId: string;
  userId: string;
}

export interface EventCompletion {
  status: "OK" | "ERROR";
  payload: Prisma.InputJsonValue;
  inputTokens?: number;
  outputTokens?: number;
  costMicros?: number;
  /** Also written in the same statement: the spend ledger row of a model call. */
  spend?: { agentId: string; userId: string; modelConfigId: string | null; model: string };
  /** The model call's spend reservation, settled in the same statement: replaced by `spend`, or released. */
  spendReservationId?: string | null;
  /** When the call ended, for a completion written with a later write (the write's own time otherwise). */
  endedAt?: Date;
}

/** What a trace write learned about the run while it held the run's row: whether a person asked to cancel it. */
export interface WriteReceipt {
  cancelRequested: boolean;
}

/**
 * Completes a PENDING event (the "after" write) and rolls its usage into the run's totals, writes the call's spend
 * entry and settles its reservation: one statement (writeTrace).
 */
export async function completeEvent(db: DbOrTx, writer: TraceWriter, eventId: string, completion: EventCompletion): Promise<WriteReceipt> {
  return writeTrace(db, writer, { complete: { eventId, completion } });
}

/**
 * One trace write, whatever it holds — the completion of a PENDING event, then new events (at seq, seq + 1, …) with
 * the audit entry that records them — as ONE statement: one round trip and one commit. It is atomic because it is a
 * single statement. The lease update comes first and locks the run's row: it only matches while this worker holds
 * the run (and, with a completion, while that event is still PENDING), and every other write takes its run id from
 * it, so without the lease nothing is written, and any failed part undoes the rest (LeaseLost, or the error).
 * (PostgreSQL runs every data-modifying CTE whether or not the final SELECT reads it.)
 *
 * The kernel writes a model's answer together with the decision and intent of the tool call it proposed: one commit
 * per step fewer, and a crash before it leaves the model call PENDING — exactly as a crash during the call does.
 */
export async function writeTrace(
  db: DbOrTx,
  writer: TraceWriter,
  write: {
    complete?: { eventId: string; completion: EventCompletion };
    append?: { seq: number; events: readonly NewEvent[]; audit?: AuditEntry; unlessSpendLimited?: SpendSubjectIds };
    /** Ends the run with this write (see finishRun). */
    end?: RunOutcome;
    /**
     * The tool-call gate (identity, guard settings, policies) the written decision was taken on: the write happens only
     * while those facts are unchanged, and throws GateChanged otherwise (nothing is written).
     */
    gate?: { userId: string; digest: string };
  },
): Promise<WriteReceipt & { appended: AppendedEvent[]; spendLimited: boolean }> {
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const now = new Date();
  const at = param(now.toISOString());
  const runId = param(writer.runId);
  const orgId = param(writer.orgId);
  const ctes: string[] = [];

  const completion = write.complete?.completion;
  const tokensIn = param(completion?.inputTokens ?? 0);
  const tokensOut = param(completion?.outputTokens ?? 0);
  const cost = param(completion?.costMicros ?? 0);
  const newEvents = write.append?.events ?? [];
  const rows = newEvents.map((event, index) => ({
    id: newRowId("ev"),
    seq: write.append!.seq + index,
    type: event.type,
    name: event.name ?? "",
    status: event.status,
    payload: event.payload,
    idempotency_key: event.idempotencyKey ?? null,
    started_at: event.startedAt ?? now,
    ended_at: event.endedAt === undefined ? (event.status === "PENDING" ? null : now) : event.endedAt,
    input_tokens: event.inputTokens ?? 0,
    output_tokens: event.outputTokens ?? 0,
    cost_micros: event.costMicros ?? 0,
  }));
  const steps = param(newEvents.filter((event) => !NOT_STEPS.has(event.type)).length);
  const eventId = write.complete ? param(write.complete.eventId) : null;
  const guard = write.append?.unlessSpendLimited;
  if (guard && write.append?.audit) throw new Error("A write guarded by spend limits cannot carry an audit entry: it would be written without its events.");
  if (guard) {
    // Read in the statement that admits the call: a limit created a moment ago applies to it.
    ctes.push(`limited AS (
       SELECT EXISTS (SELECT 1 FROM spend_limits
                       WHERE org_id = ${orgId}
                         AND (scope = 'ORG' OR (scope = 'AGENT' AND agent_id = ${param(guard.agentId)}) OR (scope = 'USER' AND user_id = ${param(guard.userId)}))) AS limited)`);
  }
  const end = write.end;
  const ending = end
    ? `, status = ${param(end.status)}::"RunStatus", output = ${param(end.output ?? null)}, error = ${param(end.error ?? null)},
              halt_reason = ${param(end.haltReason ?? null)}, ended_at = ${at}::timestamp, lease_owner = NULL, lease_until = NULL`
    : "";
  ctes.push(`lease AS (
       UPDATE runs SET updated_at = ${at}::timestamp, step_count = step_count + ${guard ? `CASE WHEN (SELECT limited FROM limited) THEN 0 ELSE ${steps}::int END` : `${steps}::int`}, input_tokens = input_tokens + ${tokensIn}::int,
              output_tokens = output_tokens + ${tokensOut}::int, cost_micros = cost_micros + ${cost}::int${ending}
        WHERE id = ${runId} AND org_id = ${orgId} AND lease_owner = ${param(writer.workerId)} AND status = 'RUNNING'${
          eventId ? `\n          AND EXISTS (SELECT 1 FROM run_events WHERE id = ${eventId} AND run_id = ${runId} AND status = 'PENDING')` : ""
        }${write.gate ? `\n          AND ${gateUnchangedSql(orgId, param(write.gate.userId), param(write.gate.digest))}` : ""}
       RETURNING id, parent_run_id, cancel_requested_at IS NOT NULL AS cancel_requested)`);
  if (end) {
    // See finishRun: the parent's row is updated whatever its status, so its lock orders this with parkForChildren.
    ctes.push(`parent AS (
       UPDATE runs SET status = CASE WHEN status = 'WAITING_CHILDREN' THEN 'QUEUED'::"RunStatus" ELSE status END,
              updated_at = CASE WHEN status = 'WAITING_CHILDREN' THEN ${at}::timestamp ELSE updated_at END
        WHERE id = (SELECT parent_run_id FROM lease) AND org_id = ${orgId}
       RETURNING id)`);
  }
  if (completion) {
    const spend = completion.spend ?? null;
    ctes.push(`completed AS (
       UPDATE run_events SET status = ${param(completion.status)}::"RunEventStatus", payload = ${param(JSON.stringify(completion.payload))}::jsonb,
              ended_at = ${completion.endedAt ? param(completion.endedAt.toISOString()) : at}::timestamp, input_tokens = ${tokensIn}::int, output_tokens = ${tokensOut}::int, cost_micros = ${cost}::int
        WHERE id = ${eventId} AND run_id IN (SELECT id FROM lease) AND status = 'PENDING'
       RETURNING id)`);
    if (spend) {
      ctes.push(`ledger AS (
       INSERT INTO spend_entries (id, org_id, run_id, agent_id, user_id, model_config_id, model, input_tokens, output_tokens, cost_micros, created_at)
       SELECT ${param(newRowId("sp"))}, ${orgId}, ${runId}, ${param(spend.agentId)}, ${param(spend.userId)}, ${param(spend.modelConfigId)}, ${param(spend.model)},
              ${tokensIn}::int, ${tokensOut}::int, ${cost}::int, ${at}::timestamp
         FROM completed
       RETURNING id)`);
    }
    if (completion.spendReservationId) {
      ctes.push(`settled AS (
       DELETE FROM spend_reservations WHERE id = ${param(completion.spendReservationId)} AND org_id = ${orgId} AND EXISTS (SELECT 1 FROM completed)
       RETURNING id)`);
    }
  }
  if (rows.length > 0) {
    ctes.push(`inserted AS (
       INSERT INTO run_events (id, org_id, run_id, seq, type, name, status, payload, idempotency_key, started_at, ended_at, input_tokens, output_tokens, cost_micros)
       SELECT e.id, ${orgId}, lease.id, e.seq, e.type::"RunEventType", e.name, e.status::"RunEventStatus", e.payload, e.idempotency_key, e.started_at, e.ended_at,
              e.input_tokens, e.output_tokens, e.cost_micros
         FROM lease, jsonb_to_recordset(${param(JSON.stringify(rows))}::jsonb) AS e(id text, seq int, type text, name text, status text, payload jsonb,
              idempotency_key text, started_at timestamp, ended_at timestamp, input_tokens int, output_tokens int, cost_micros int)${
                guard ? "\n        WHERE NOT (SELECT limited FROM limited)" : ""
              }
       RETURNING id, payload)`);
  }
  if (write.append?.audit) {
    const audited = auditAppendSql(write.append.audit, params.length + 1, "lease");
    params.push(...audited.params);
    ctes.push(audited.ctes);
  }
  const result = await sqlFor(db).query<{ id: string | null; payload: Prisma.JsonValue; cancel_requested: boolean; completed: number; limited: boolean }>(
    `WITH ${ctes.join(",\n     ")}
     SELECT ${rows.length > 0 ? "inserted.id, inserted.payload" : "NULL AS id, NULL AS payload"}, lease.cancel_requested,
            ${completion ? "(SELECT count(*) FROM completed)::int" : "0"} AS completed, ${guard ? "(SELECT limited FROM limited)" : "false"} AS limited
       FROM lease${rows.length > 0 ? " LEFT JOIN inserted ON true" : ""}`,
    params,
  );
  // Nothing matched: the lease is gone — or the gate the decision was taken on changed, which only a read can tell.
  if (result.length === 0 && write.gate && !(await toolCallGateUnchanged(db, writer.orgId, write.gate.userId, write.gate.digest))) throw new GateChanged();
  const spendLimited = result[0]?.limited === true;
  const written = result.filter((row) => row.id !== null);
  if (result.length === 0 || (!spendLimited && written.length !== rows.length) || (completion && result[0]!.completed !== 1)) throw new LeaseLost(writer.runId);
  if (spendLimited) return { cancelRequested: result[0]!.cancel_requested, appended: [], spendLimited };
  const stored = new Map(written.map((row) => [row.id, row.payload]));
  const cancelRequested = result[0]!.cancel_requested;
  const appended = rows.map((row) => ({
    id: row.id,
    seq: row.seq,
    type: row.type,
    name: row.name,
    status: row.status,
    payload: stored.get(row.id) ?? null,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    costMicros: row.cost_micros,
    cancelRequested,
  }));
  return { cancelRequested, appended, spendLimited: false };
}

export type FinalStatus = "SUCCEEDED" | "FAILED" | "CANCELLED" | "HALTED";

export interface RunOutcome {
  status: FinalStatus;
  output?: string | null;
  error?: string | null;
  haltReason?: string | null;
}

/**
 * Ends the run (CAS from RUNNING under this worker's lease), writes the RUN_FINISHED event with it — and the last
 * call's result still to be written, if any — and wakes a parent that waits for its children: one statement
 * (writeTrace), so one round trip and one commit.
 *
 * The parent's row is updated whatever its status (it only becomes QUEUED if it is WAITING_CHILDREN): an UPDATE that
 * matches the row takes its lock and, when the parent is mid-park, waits and then computes the new status from the
 * parent's latest version. That serialises with parkForChildren, which locks the parent first: whichever commits
 * second sees the other's write, so a parent is never parked on a child that already ended.
 */
export async function finishRun(
  db: DbOrTx,
  writer: TraceWriter,
  seq: number,
  outcome: RunOutcome,
  complete?: { eventId: string; completion: EventCompletion },
): Promise<void> {
  const finished: NewEvent = {
    type: "RUN_FINISHED",
    name: outcome.status.toLowerCase(),
    status: outcome.status === "SUCCEEDED" ? "OK" : "ERROR",
    payload: { status: outcome.status, output: outcome.output ?? null, error: outcome.error ?? null, haltReason: outcome.haltReason ?? null },
  };
  await writeTrace(db, writer, { ...(complete ? { complete } : {}), append: { seq, events: [finished] }, end: outcome });
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
  }, KERNEL_TRANSACTION);
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
  }, KERNEL_TRANSACTION);
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
  }, KERNEL_TRANSACTION);
}
