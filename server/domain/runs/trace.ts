import { isRootClient, type Db, type DbOrTx } from "@/server/db";
import { KERNEL_TRANSACTION, newRowId, sqlFor } from "@/server/sql";
import { auditAppendSql, auditChainSql, auditRecords, type AuditEntry } from "../audit/audit-log";
import { WriteBatcher } from "./trace-batch";
import type { Prisma } from "@/server/generated/prisma/client";
import { DomainError } from "../errors";
import { gateDigestSql, gateUnchangedSql, toolCallGateUnchanged } from "../policy/tool-call-gate";

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
export async function appendEvents(
  db: DbOrTx,
  writer: TraceWriter,
  seq: number,
  events: readonly NewEvent[],
  audit?: AuditEntry,
): Promise<AppendedEvent[]> {
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

/** What one trace write holds (see writeTrace). */
export interface TraceWrite {
  complete?: { eventId: string; completion: EventCompletion };
  append?: { seq: number; events: readonly NewEvent[]; audit?: AuditEntry; unlessSpendLimited?: SpendSubjectIds };
  /** Ends the run with this write (see finishRun). */
  end?: RunOutcome;
  /**
   * The tool-call gate (identity, guard settings, policies) the written decision was taken on: the write happens only
   * while those facts are unchanged, and throws GateChanged otherwise (nothing is written).
   */
  gate?: { userId: string; digest: string };
}

export type TraceWritten = WriteReceipt & { appended: AppendedEvent[]; spendLimited: boolean };

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
 *
 * On a database client (not inside a transaction), writes that other runs make at the same moment go in the same
 * statement (see trace-batch.ts): each run's part still succeeds or is refused on its own conditions.
 */
export async function writeTrace(db: DbOrTx, writer: TraceWriter, write: TraceWrite): Promise<TraceWritten> {
  // Refused here, before it could join a batch: a malformed write must fail alone.
  if (write.append?.unlessSpendLimited && write.append.audit) throw new Error(SPEND_GUARDED_AUDIT);
  if (isRootClient(db)) return batcherFor(db).write({ writer, write });
  const [outcome] = await writeTraces(db, [{ writer, write }]);
  if (outcome instanceof Error) throw outcome;
  return outcome!;
}

const batchers = new WeakMap<Db, WriteBatcher<PendingTraceWrite, TraceWritten>>();

function batcherFor(db: Db): WriteBatcher<PendingTraceWrite, TraceWritten> {
  let batcher = batchers.get(db);
  if (!batcher) {
    // PGlite runs one statement at a time, in this process: a batch would only hold the event loop longer, and its
    // bigger statement is planned on every run. There every write goes alone, as soon as it is made.
    const together = sqlFor(db).oneAtATime !== true;
    batcher = new WriteBatcher((writes) => writeInRunOrder(db, writes), {
      maxItems: together ? TRACE_BATCH_MAX_WRITES : 1,
      maxInFlight: together ? TRACE_BATCHES_IN_FLIGHT : Number.POSITIVE_INFINITY,
      retryAlone: rolledBack,
      keyOf: ({ writer }) => writer.runId,
    });
    batchers.set(db, batcher);
  }
  return batcher;
}

/**
 * A batch locks its runs' rows in part order, and the worker's heartbeat locks the same rows in one statement too: both
 * go in run id order (bytewise, as COLLATE "C" sorts), so neither can hold one row while waiting for another the other
 * holds — a deadlock PostgreSQL breaks only after deadlock_timeout (1 s), stalling every run in both statements.
 */
async function writeInRunOrder(db: Db, writes: readonly PendingTraceWrite[]): Promise<(TraceWritten | Error)[]> {
  const order = writes.map((_, index) => index).sort((a, b) => byteOrder(writes[a]!.writer.runId, writes[b]!.writer.runId));
  const sorted = await writeTraces(
    db,
    order.map((index) => writes[index]!),
  );
  const results = new Array<TraceWritten | Error>(writes.length);
  order.forEach((index, position) => {
    results[index] = sorted[position]!;
  });
  return results;
}

function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const SPEND_GUARDED_AUDIT = "A write guarded by spend limits cannot carry an audit entry: it would be written without its events.";

/** Writes per statement: a bigger one holds its runs' rows, and its orgs' audit heads, locked for longer. */
const TRACE_BATCH_MAX_WRITES = 64;
/** Batches out at once per database client: one slow statement (a lock wait) does not hold every run's write. */
const TRACE_BATCHES_IN_FLIGHT = 2;

/**
 * An error PostgreSQL (or PGlite) reported for the statement itself — bad data, a constraint, a deadlock — so it was
 * rolled back and wrote nothing. Not a connection's failure (classes 08, 53, 57), after which it may have committed.
 */
function rolledBack(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) && !/^(08|53|57)/.test(code);
}

export interface PendingTraceWrite {
  writer: TraceWriter;
  write: TraceWrite;
}

/**
 * Several runs' trace writes (at most one per run) in ONE statement: one round trip and one commit for all. The
 * statement is set-based — one part per write, in json parameters — and its text depends only on the features the
 * writes use (traceWriteSql), so PostgreSQL plans it once per connection however many writes it carries; a write
 * sent alone uses the statement built for one (singleTraceSql). Each part is guarded by its own run's lease (and
 * gate, and spend limits), so a part whose lease is gone, whose gate changed or that a spend limit holds back is
 * refused alone and the others are written; audit entries are chained per org in part order. Runs' rows are locked
 * in part order: give several writes in run id order, as the batcher does (writeInRunOrder). Returns, for each
 * write, what it wrote or the error it was refused with (LeaseLost, GateChanged); a statement that fails as a whole
 * throws.
 */
export async function writeTraces(db: DbOrTx, writes: readonly PendingTraceWrite[]): Promise<(TraceWritten | Error)[]> {
  if (new Set(writes.map(({ writer }) => writer.runId)).size !== writes.length) {
    throw new Error("A run's trace writes go one at a time: two in one statement would overwrite each other's run row.");
  }
  const now = new Date();
  const parts = writes.map(({ writer, write }, index) => tracePart(index, writer, write, now));
  const audits = writes.flatMap(({ write }, part) => (write.append?.audit ? [{ entry: write.append.audit, part }] : []));
  const uses = (feature: (write: TraceWrite) => unknown) => writes.some(({ write }) => Boolean(feature(write)));
  const features: TraceFeatures = {
    gate: uses((write) => write.gate),
    limit: uses((write) => write.append?.unlessSpendLimited),
    complete: uses((write) => write.complete),
    spend: uses((write) => write.complete?.completion.spend),
    reservation: uses((write) => write.complete?.completion.spendReservationId),
    end: uses((write) => write.end),
    events: uses((write) => write.append && write.append.events.length > 0),
    audit: audits.length > 0,
  };
  const statement =
    writes.length === 1
      ? singleTraceSql(writes[0]!.writer, writes[0]!.write, parts[0]!, now)
      : {
          text: traceWriteSql(features),
          params: [
            now.toISOString(),
            JSON.stringify(parts.map((part) => part.record)),
            ...(features.events ? [JSON.stringify(parts.flatMap((part) => part.rows.map((row) => ({ ...row, part: part.index }))))] : []),
            ...(features.audit ? [JSON.stringify(auditRecords(audits))] : []),
          ],
        };
  const rows = await sqlFor(db).query<PartRow>(statement.text, statement.params);
  const byPart = new Map<number, PartRow[]>();
  for (const row of rows) {
    const partRows = byPart.get(row.part);
    if (partRows) partRows.push(row);
    else byPart.set(row.part, [row]);
  }
  return Promise.all(
    parts.map(async (part) => {
      const { writer, write } = writes[part.index]!;
      const result = byPart.get(part.index) ?? [];
      // Nothing matched: the lease is gone — or the gate the decision was taken on changed, which only a read can tell.
      if (result.length === 0 && write.gate && !(await toolCallGateUnchanged(db, writer.orgId, write.gate.userId, write.gate.digest)))
        return new GateChanged();
      return readPart(writer, part, result);
    }),
  );
}

/*
 * ROWS_BY_ID: in traceWriteSql's statements every row is found by its primary key from the part that names it, and every other
 * condition on it is wrapped in "(…) IS TRUE", which no index can serve. A queue's statistics lag behind it (runs
 * turn RUNNING by the thousand between two ANALYZEs), and with a condition on status, org or run an index could serve,
 * the planner was seen scanning every RUNNING run, or every run of the org, once per part: a batch's cost grew with
 * the square of the load.
 */

/** What a batch's writes use: the statement leaves out every CTE none of them needs. */
interface TraceFeatures {
  gate: boolean;
  limit: boolean;
  complete: boolean;
  spend: boolean;
  reservation: boolean;
  end: boolean;
  events: boolean;
  audit: boolean;
}

const traceStatements = new Map<string, string>();

/**
 * The statement of writeTraces for a batch using `features` (one text per combination, so each is a named statement
 * PostgreSQL plans once per connection). $1 the write's time, $2 the parts, then — when used — the new events (with
 * their part) and the audit entries (auditRecords, with their part). The lease update comes first and locks the runs' rows; every
 * other write takes its run from it, so a part without its lease writes nothing. (PostgreSQL runs every
 * data-modifying CTE whether or not the final SELECT reads it.)
 */
function traceWriteSql(features: TraceFeatures): string {
  const key = JSON.stringify(features);
  let text = traceStatements.get(key);
  if (!text) {
    text = buildTraceWriteSql(features);
    traceStatements.set(key, text);
  }
  return text;
}

function buildTraceWriteSql(f: TraceFeatures): string {
  const eventsParam = "$3";
  const auditParam = f.events ? "$4" : "$3";
  const ctes = [
    `parts AS (
       SELECT * FROM json_to_recordset($2::json) AS p(part int, run_id text, org_id text, worker_id text, steps int, tokens_in int, tokens_out int, cost int,
              event_id text, done_status text, done_payload jsonb, done_at timestamp, spend_id text, spend_agent text, spend_user text, spend_model_config text,
              spend_model text, reservation_id text, limit_agent text, limit_user text, end_status text, end_output text, end_error text, end_halt text,
              gate_user text, gate_digest text))`,
  ];
  if (f.gate) {
    ctes.push(`gates AS MATERIALIZED (
       -- Once per user in the batch, not once per part.
       SELECT w.org_id, w.gate_user, ${gateDigestSql("w.org_id", "w.gate_user")} AS digest
         FROM (SELECT DISTINCT org_id, gate_user FROM parts WHERE gate_user IS NOT NULL) AS w)`);
  }
  const conditions = [
    ...(f.complete
      ? [
          "(p.event_id IS NULL OR EXISTS (SELECT 1 FROM run_events e WHERE e.id = p.event_id AND (e.run_id = p.run_id AND e.status = 'PENDING') IS TRUE))",
        ]
      : []),
    ...(f.gate
      ? [
          "(p.gate_user IS NULL OR (SELECT g.digest FROM gates g WHERE g.org_id = p.org_id AND g.gate_user = p.gate_user) IS NOT DISTINCT FROM p.gate_digest)",
        ]
      : []),
  ];
  // The parts whose completion is still PENDING and whose gate is unchanged, with whether a spend limit holds them
  // back (read in the statement that admits the call: a limit created a moment ago applies to it).
  const limited = f.limit
    ? `(p.limit_agent IS NOT NULL AND EXISTS (
                      SELECT 1 FROM spend_limits s
                       WHERE s.org_id = p.org_id
                         AND (s.scope = 'ORG' OR (s.scope = 'AGENT' AND s.agent_id = p.limit_agent) OR (s.scope = 'USER' AND s.user_id = p.limit_user))))`
    : "false";
  ctes.push(`checked AS MATERIALIZED (
       SELECT p.*, ${limited} AS limited
         FROM parts p${conditions.length > 0 ? `\n        WHERE ${conditions.join("\n          AND ")}` : ""})`);
  const ending = f.end
    ? `,
              status = COALESCE(p.end_status::"RunStatus", r.status),
              output = CASE WHEN p.end_status IS NULL THEN r.output ELSE p.end_output END,
              error = CASE WHEN p.end_status IS NULL THEN r.error ELSE p.end_error END,
              halt_reason = CASE WHEN p.end_status IS NULL THEN r.halt_reason ELSE p.end_halt END,
              ended_at = CASE WHEN p.end_status IS NULL THEN r.ended_at ELSE $1::timestamp END,
              lease_owner = CASE WHEN p.end_status IS NULL THEN r.lease_owner END,
              lease_until = CASE WHEN p.end_status IS NULL THEN r.lease_until END`
    : "";
  ctes.push(`lease AS (
       UPDATE runs r SET updated_at = $1::timestamp, step_count = r.step_count + CASE WHEN p.limited THEN 0 ELSE p.steps END,
              input_tokens = r.input_tokens + p.tokens_in, output_tokens = r.output_tokens + p.tokens_out, cost_micros = r.cost_micros + p.cost${ending}
         FROM checked p
        -- Rows are found by id alone: the other conditions, wrapped in "(…) IS TRUE", are checked on the row found and
        -- never used to find rows (see ROWS_BY_ID).
        WHERE r.id = p.run_id AND (r.org_id = p.org_id AND r.lease_owner = p.worker_id AND r.status = 'RUNNING') IS TRUE
       RETURNING p.part, r.id, r.org_id, r.parent_run_id, r.cancel_requested_at IS NOT NULL AS cancel_requested, p.end_status IS NOT NULL AS ending, p.limited)`);
  if (f.end) {
    ctes.push(`parent AS (
       -- See finishRun: the parent's row is updated whatever its status, so its lock orders this with parkForChildren.
       UPDATE runs r SET status = CASE WHEN r.status = 'WAITING_CHILDREN' THEN 'QUEUED'::"RunStatus" ELSE r.status END,
              updated_at = CASE WHEN r.status = 'WAITING_CHILDREN' THEN $1::timestamp ELSE r.updated_at END
         FROM lease l
        WHERE r.id = l.parent_run_id AND (l.ending AND r.org_id = l.org_id) IS TRUE
       RETURNING r.id)`);
  }
  if (f.complete) {
    ctes.push(`completed AS (
       UPDATE run_events e SET status = p.done_status::"RunEventStatus", payload = p.done_payload, ended_at = COALESCE(p.done_at, $1::timestamp),
              input_tokens = p.tokens_in, output_tokens = p.tokens_out, cost_micros = p.cost
         FROM parts p JOIN lease l ON l.part = p.part
        WHERE e.id = p.event_id AND (e.run_id = l.id AND e.status = 'PENDING') IS TRUE
       RETURNING p.part)`);
  }
  if (f.spend) {
    ctes.push(`ledger AS (
       INSERT INTO spend_entries (id, org_id, run_id, agent_id, user_id, model_config_id, model, input_tokens, output_tokens, cost_micros, created_at)
       SELECT p.spend_id, p.org_id, p.run_id, p.spend_agent, p.spend_user, p.spend_model_config, p.spend_model, p.tokens_in, p.tokens_out, p.cost, $1::timestamp
         FROM completed c JOIN parts p ON p.part = c.part
        WHERE p.spend_id IS NOT NULL
       RETURNING id)`);
  }
  if (f.reservation) {
    ctes.push(`settled AS (
       DELETE FROM spend_reservations s USING completed c JOIN parts p ON p.part = c.part
        WHERE s.id = p.reservation_id AND (s.org_id = p.org_id) IS TRUE
       RETURNING s.id)`);
  }
  if (f.events) {
    ctes.push(`inserted AS (
       INSERT INTO run_events (id, org_id, run_id, seq, type, name, status, payload, idempotency_key, started_at, ended_at, input_tokens, output_tokens, cost_micros)
       SELECT e.id, l.org_id, l.id, e.seq, e.type::"RunEventType", e.name, e.status::"RunEventStatus", e.payload, e.idempotency_key, e.started_at, e.ended_at,
              e.input_tokens, e.output_tokens, e.cost_micros
         FROM json_to_recordset(${eventsParam}::json) AS e(part int, id text, seq int, type text, name text, status text, payload jsonb, idempotency_key text, started_at timestamp,
              ended_at timestamp, input_tokens int, output_tokens int, cost_micros int)
         JOIN lease l ON l.part = e.part
        WHERE NOT l.limited
       RETURNING id, run_id, payload)`);
  }
  if (f.audit) ctes.push(auditChainSql(auditParam, "a.part IN (SELECT part FROM lease)"));
  return `WITH RECURSIVE ${ctes.join(",\n     ")}
     SELECT l.part, ${f.events ? "i.id, i.payload" : "NULL::text AS id, NULL::jsonb AS payload"}, l.cancel_requested,
            ${f.complete ? "(SELECT count(*) FROM completed c WHERE c.part = l.part)::int" : "0"} AS completed, l.limited
       FROM lease l${f.events ? " LEFT JOIN inserted i ON i.run_id = l.id" : ""}`;
}

/**
 * The statement for a write sent alone: the same write as traceWriteSql's for one part, with its values as
 * parameters instead of JSON rows. Its plan is simpler, and a write sent alone (an idle worker, the embedded
 * database) is mostly the database's time to run it: about 0.1 ms less per write on PostgreSQL and more on PGlite,
 * which plans every statement it runs.
 */
function singleTraceSql(writer: TraceWriter, write: TraceWrite, part: TracePart, now: Date): { text: string; params: unknown[] } {
  const params: unknown[] = [];
  const param = (value: unknown) => `$${params.push(value)}`;
  const at = param(now.toISOString());
  const runId = param(writer.runId);
  const orgId = param(writer.orgId);
  const ctes: string[] = [];
  const completion = write.complete?.completion;
  const tokensIn = param(completion?.inputTokens ?? 0);
  const tokensOut = param(completion?.outputTokens ?? 0);
  const cost = param(completion?.costMicros ?? 0);
  const { rows } = part;
  const steps = param(part.record.steps);
  const eventId = write.complete ? param(write.complete.eventId) : null;
  const guard = write.append?.unlessSpendLimited;
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
          eventId
            ? `\n          AND EXISTS (SELECT 1 FROM run_events WHERE id = ${eventId} AND run_id = ${runId} AND status = 'PENDING')`
            : ""
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
       SELECT ${param(part.record.spend_id)}, ${orgId}, ${runId}, ${param(spend.agentId)}, ${param(spend.userId)}, ${param(spend.modelConfigId)}, ${param(spend.model)},
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
  const text = `WITH ${ctes.join(",\n     ")}
     SELECT 0 AS part, ${rows.length > 0 ? "inserted.id, inserted.payload" : "NULL AS id, NULL AS payload"}, lease.cancel_requested,
            ${completion ? "(SELECT count(*) FROM completed)::int" : "0"} AS completed, ${guard ? "(SELECT limited FROM limited)" : "false"} AS limited
       FROM lease${rows.length > 0 ? " LEFT JOIN inserted ON true" : ""}`;
  return { text, params };
}

interface PartRow {
  part: number;
  id: string | null;
  payload: Prisma.JsonValue;
  cancel_requested: boolean;
  completed: number;
  limited: boolean;
}

interface EventRow {
  id: string;
  seq: number;
  type: RunEventTypeName;
  name: string;
  status: NewEvent["status"];
  payload: Prisma.InputJsonValue;
  idempotency_key: string | null;
  started_at: Date;
  ended_at: Date | null;
  input_tokens: number;
  output_tokens: number;
  cost_micros: number;
}

interface TracePart {
  index: number;
  /** The part's row of the trace statement's `parts` (traceWriteSql). */
  record: { steps: number; spend_id: string | null } & Record<string, unknown>;
  rows: EventRow[];
  completing: boolean;
}

/** One write as a part of the trace statement (traceWriteSql): its row of `parts` and its new events. */
function tracePart(index: number, writer: TraceWriter, write: TraceWrite, now: Date): TracePart {
  const completion = write.complete?.completion;
  const newEvents = write.append?.events ?? [];
  const rows: EventRow[] = newEvents.map((event, offset) => ({
    id: newRowId("ev"),
    seq: write.append!.seq + offset,
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
  const guard = write.append?.unlessSpendLimited;
  if (guard && write.append?.audit) throw new Error(SPEND_GUARDED_AUDIT);
  const spend = completion?.spend ?? null;
  const record = {
    part: index,
    run_id: writer.runId,
    org_id: writer.orgId,
    worker_id: writer.workerId,
    steps: newEvents.filter((event) => !NOT_STEPS.has(event.type)).length,
    tokens_in: completion?.inputTokens ?? 0,
    tokens_out: completion?.outputTokens ?? 0,
    cost: completion?.costMicros ?? 0,
    event_id: write.complete?.eventId ?? null,
    done_status: completion?.status ?? null,
    done_payload: completion?.payload ?? null,
    done_at: completion?.endedAt ?? null,
    spend_id: spend ? newRowId("sp") : null,
    spend_agent: spend?.agentId ?? null,
    spend_user: spend?.userId ?? null,
    spend_model_config: spend?.modelConfigId ?? null,
    spend_model: spend?.model ?? null,
    reservation_id: completion?.spendReservationId ?? null,
    limit_agent: guard?.agentId ?? null,
    limit_user: guard?.userId ?? null,
    end_status: write.end?.status ?? null,
    end_output: write.end?.output ?? null,
    end_error: write.end?.error ?? null,
    end_halt: write.end?.haltReason ?? null,
    gate_user: write.gate?.userId ?? null,
    gate_digest: write.gate?.digest ?? null,
  };
  return { index, record, rows, completing: completion !== undefined };
}

/** What one part's rows say it wrote, or LeaseLost when nothing (or not all of it) was. */
function readPart(writer: TraceWriter, part: TracePart, result: readonly PartRow[]): TraceWritten | LeaseLost {
  const { rows } = part;
  const spendLimited = result[0]?.limited === true;
  const written = result.filter((row) => row.id !== null);
  if (result.length === 0 || (!spendLimited && written.length !== rows.length) || (part.completing && result[0]!.completed !== 1))
    return new LeaseLost(writer.runId);
  const cancelRequested = result[0]!.cancel_requested;
  if (spendLimited) return { cancelRequested, appended: [], spendLimited };
  const stored = new Map(written.map((row) => [row.id, row.payload]));
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
    payload: {
      status: outcome.status,
      output: outcome.output ?? null,
      error: outcome.error ?? null,
      haltReason: outcome.haltReason ?? null,
    },
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
    const live = await tx.run.count({
      where: { id: { in: [...childRunIds] }, orgId: writer.orgId, status: { notIn: ["SUCCEEDED", "FAILED", "CANCELLED", "HALTED"] } },
    });
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
