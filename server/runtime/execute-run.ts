import type { Prisma } from "../generated/prisma/client";
import type { AuditEntry } from "../domain/audit/audit-log";
import { requestApproval, voidPendingApprovals } from "../domain/approvals/approvals";
import { canonicalJson } from "../domain/canonical";
import { wrapUntrusted, type Redactor } from "../domain/guards/redact";
import { decideToolCall } from "../domain/policy/engine";
import { loadToolCallGate, type ToolCallGate } from "../domain/policy/tool-call-gate";
import {
  completeEvent,
  finishRun,
  writeTrace,
  GateChanged,
  LeaseLost,
  parkForApproval,
  parkForChildren,
  parkForReview,
  type AppendedEvent,
  type EventCompletion,
  type FinalStatus,
  type NewEvent,
  type RunOutcome,
  type SpendSubjectIds,
  type TraceWriter,
} from "../domain/runs/trace";
import { estimateMaxCallCostMicros, reservationLifetimeMs, reserveSpend } from "../domain/spend/reservations";
import { commitArgs, discardOpenDrafts, readReview, submitDraft, type CommitAction } from "../domain/inbox/inbox";
import { readChildRuns, startChildRun, TERMINAL_RUN_STATUSES } from "../domain/runs/delegation";
import { requestCancellation } from "../domain/runs/runs";
import { principalForUser } from "../domain/identity/principal";
import { defaultScope, recallForRun, writeMemoryFromRun } from "../domain/memory/memories";
import { searchKnowledge } from "../domain/knowledge/knowledge";
import {
  chooseCut,
  inputBudget,
  KEPT_SHARE,
  memoryCitation,
  memoriesSection,
  ruleSummary,
  summariserMessages,
  tokenCounterFor,
  type InjectedMemory,
} from "../domain/memory/context";
import {
  DelegateArgs,
  delegateTool,
  describeIssues,
  memoryTools,
  RecallArgs,
  RememberArgs,
  SearchKnowledgeArgs,
  searchKnowledgeTool,
  SubmitDraftArgs,
  submitDraftTool,
} from "./builtins";
import { logger } from "../logger";
import { newRowId } from "../sql";
import { isDatabaseFailure } from "./database-failures";
import { coalescePerTurn } from "./coalesce";
import { readRunStart } from "./run-start";
import type { KernelAgent, KernelDeps, KernelTool } from "./kernel-deps";
import type { ChatMessage, ToolCallRequest } from "./models/types";

/** How many times an idempotent tool call is made when its server crashes under it (see executeTool). */
const TOOL_SERVER_CRASH_ATTEMPTS = 3;

/** Why a run's AbortSignal fired: the worker lost the lease or is shutting down (leave the run), or a person cancelled. */
export type StopReason = "lease_lost" | "shutdown" | "cancel";

interface TraceEvent {
  id: string;
  seq: number;
  type: string;
  name: string;
  status: "PENDING" | "OK" | "ERROR";
  payload: Prisma.JsonValue;
  /** For the observer's step latency; not part of the run's state. */
  startedAt?: Date;
}

interface ModelCallPayload {
  response?: { content: string; toolCalls: ToolCallRequest[] };
  error?: string;
  interrupted?: boolean;
}

interface ToolCallPayload {
  toolCallId: string;
  tool: string;
  server?: string;
  args: Record<string, unknown>;
  result?: { content: string; isError: boolean };
  error?: { kind: string; message: string };
  /** Written by Switchboard itself (a review decision), not read from outside: not fenced as untrusted. */
  trusted?: boolean;
  /** The commit action of an accepted draft: a call the kernel made for the reviewer, not one the model asked for. */
  commitOf?: string;
}

/** A DRAFT event: PENDING while the reviewer decides, then completed with their decision. */
interface DraftPayload {
  toolCallId: string;
  kind: string;
  title: string;
  body: string;
  commit: CommitAction | null;
  itemId?: string;
  revision?: number;
  outcome?: "ACCEPTED" | "CHANGES_REQUESTED" | "DISCARDED";
  accepted?: { revision: number; title: string; body: string };
  feedback?: string | null;
  decidedBy?: { id: string; email: string } | null;
  /** The reviewer may decide approvals: their acceptance also approves a commit action that policy holds. */
  reviewerMayApprove?: boolean;
}

/** A DELEGATION event: PENDING while the child run works, then completed with its outcome. */
interface DelegationPayload {
  toolCallId: string;
  tool: string;
  childRunId: string;
  agentId: string;
  agentSlug: string;
  task: string;
  outcome?: { status: string; output: string | null; error: string | null; costMicros: number };
}

/** An APPROVAL event: PENDING while a person decides, then completed with the decision the worker read from the row. */
interface ApprovalPayload {
  toolCallId: string;
  tool: string;
  toolId: string;
  args: Record<string, unknown>;
  reason: string;
  policyId: string | null;
  policyName: string | null;
  expiresAt: string;
  approvalId?: string;
  outcome?: "APPROVED" | "REJECTED" | "EXPIRED" | "VOID";
  decidedArgs?: Record<string, unknown>;
  comment?: string | null;
  decidedBy?: string | null;
}

/** A MEMORY_READ event: memories recalled at run start (`atStart`) or by a `recall` call. */
interface MemoryReadPayload {
  atStart?: boolean;
  toolCallId?: string;
  query: string;
  memories: (InjectedMemory & { score: number; source: { runId: string | null; eventId: string | null; userId: string | null } })[];
}

/** A MEMORY_WRITE event: PENDING before the memory is written (its id is the memory's provenance), then the result. */
interface MemoryWritePayload {
  toolCallId: string;
  content: string;
  kind: string;
  scope?: string;
  memoryId?: string;
  supersededId?: string | null;
}

/** A CONTEXT_SUMMARY event: the turns up to `coversThroughSeq` were replaced by `summary` in every later model call. */
interface ContextSummaryPayload {
  summary?: string;
  coversThroughSeq: number;
  method: "rule" | "model";
  tokenizer: string;
  budget: number;
  tokensBefore: number;
  tokensAfter?: number;
  summarisedMessages: number;
}

const asObject = <T>(payload: Prisma.JsonValue): T => (payload ?? {}) as T;

/** Whom a tool call acts for: the run's user, or — for an accepted draft's commit action — the reviewer. */
interface ActingAs {
  userId: string;
  /** The submit_draft call whose commit action this is. */
  commitOf?: string;
  /** The reviewer's email when their acceptance also counts as approving a held call. */
  approvedBy?: string;
}

/** Events during which a run waits for a person or for child runs: their time does not count against its time limit. */
const WAITING_EVENTS = new Set(["APPROVAL", "DRAFT", "DELEGATION"]);

async function timeSpentWaiting(db: KernelDeps["db"], runId: string): Promise<number> {
  const rows = await db.$queryRaw<{ ms: number | null }[]>`
    SELECT SUM(EXTRACT(EPOCH FROM (COALESCE(ended_at, now()) - started_at)) * 1000)::float8 AS ms
      FROM run_events WHERE run_id = ${runId} AND type IN ('APPROVAL', 'DRAFT', 'DELEGATION')`;
  return Number(rows[0]?.ms ?? 0);
}

/** Ids for child runs, chosen before the run row exists (see startChildRun). */
const newRunId = () => newRowId("run");

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The memories recalled into the context at run start, if any. */
function injectedMemories(events: readonly TraceEvent[]): InjectedMemory[] {
  const read = events.find((e) => e.type === "MEMORY_READ" && e.status === "OK" && asObject<MemoryReadPayload>(e.payload).atStart);
  return read ? asObject<MemoryReadPayload>(read.payload).memories : [];
}

/** The latest completed context summary: every model call after it sees it instead of the turns it covers. */
function latestSummary(events: readonly TraceEvent[]): (ContextSummaryPayload & { summary: string }) | null {
  for (let i = events.length - 1; i >= 0; i--) {
    const event = events[i]!;
    if (event.type === "CONTEXT_SUMMARY" && event.status === "OK")
      return asObject<ContextSummaryPayload & { summary: string }>(event.payload);
  }
  return null;
}

/** The assistant and tool messages of a stretch of the trace, in order. */
function turnMessages(events: readonly TraceEvent[]): ChatMessage[] {
  const messages: ChatMessage[] = [];
  for (const event of events) {
    if (event.type === "MODEL_CALL" && event.status === "OK") {
      const response = asObject<ModelCallPayload>(event.payload).response;
      if (response) messages.push({ role: "assistant", content: response.content, toolCalls: response.toolCalls });
    } else if (event.type === "TOOL_CALL" && event.status !== "PENDING") {
      const payload = asObject<ToolCallPayload>(event.payload);
      if (payload.commitOf) continue;
      // Tool output is data from outside, never new orders: the model sees it fenced and labelled as untrusted.
      const content = payload.result
        ? payload.trusted
          ? payload.result.content
          : wrapUntrusted(payload.server ? `${payload.server}/${payload.tool}` : payload.tool, payload.result.content)
        : `Error: ${payload.error?.message ?? "the tool call failed"}`;
      messages.push({ role: "tool", toolCallId: payload.toolCallId, name: payload.tool, content });
    }
  }
  return messages;
}

/**
 * The conversation the model sees, rebuilt from the persisted trace: the trace is the only state a run has.
 * Instructions (with the memories recalled at run start), the input, then the turns — except those a context summary
 * replaced, which appear as the summary after the input. `full` ignores summaries (the whole run, for the scripted
 * model's turn counting and for deciding what to summarise).
 */
export function messagesFromTrace(
  agent: KernelAgent,
  input: string,
  events: readonly TraceEvent[],
  options: { full?: boolean } = {},
): ChatMessage[] {
  const system: ChatMessage = { role: "system", content: agent.instructions + memoriesSection(injectedMemories(events)) };
  const summary = options.full ? null : latestSummary(events);
  if (!summary) return [system, { role: "user", content: input }, ...turnMessages(events)];
  // Summaries are built from tool output too, so they are fenced as data like tool output itself.
  const withSummary = `${input}\n\n${wrapUntrusted("switchboard/context-summary", `Summary of the earlier steps of this run:\n${summary.summary}`)}`;
  return [system, { role: "user", content: withSummary }, ...turnMessages(events.filter((e) => e.seq > summary.coversThroughSeq))];
}

type NextStep =
  | { kind: "model" }
  | { kind: "tool"; call: ToolCallRequest }
  | { kind: "children"; waiting: TraceEvent[] }
  | { kind: "finish"; status: FinalStatus; output?: string; error?: string; haltReason?: string }
  | { kind: "recover"; event: TraceEvent };

/** Decides what the run does next from its trace alone, so a resumed run continues exactly where it stopped. */
export function nextStep(events: readonly TraceEvent[]): NextStep {
  // A PENDING delegation is a child run at work, not an interrupted step: the run waits for it (see below).
  const pending = events.find((event) => event.status === "PENDING" && event.type !== "DELEGATION");
  if (pending) return { kind: "recover", event: pending };
  let lastModelIndex = -1;
  for (let i = events.length - 1; i >= 0; i--) {
    if (events[i]?.type === "MODEL_CALL") {
      lastModelIndex = i;
      break;
    }
  }
  const lastModel = events[lastModelIndex];
  if (!lastModel) return { kind: "model" };
  const payload = asObject<ModelCallPayload>(lastModel.payload);
  if (lastModel.status === "ERROR") {
    if (payload.interrupted) return { kind: "model" };
    return { kind: "finish", status: "FAILED", error: payload.error ?? "The model call failed." };
  }
  const toolCalls = payload.response?.toolCalls ?? [];
  if (toolCalls.length === 0) return { kind: "finish", status: "SUCCEEDED", output: payload.response?.content ?? "" };
  const after = events.slice(lastModelIndex + 1);
  const answered = new Set(after.filter((e) => e.type === "TOOL_CALL").map((e) => asObject<ToolCallPayload>(e.payload).toolCallId));
  const delegating = after.filter((e) => e.type === "DELEGATION" && e.status === "PENDING");
  const busy = new Set(delegating.map((e) => asObject<DelegationPayload>(e.payload).toolCallId));
  // Calls of one turn start in order; delegations run side by side, and the run waits once every call has started.
  const unanswered = toolCalls.find((call) => !answered.has(call.id) && !busy.has(call.id));
  if (unanswered) return { kind: "tool", call: unanswered };
  return delegating.length > 0 ? { kind: "children", waiting: delegating } : { kind: "model" };
}

const gateReaders = new WeakMap<KernelDeps["db"], (orgId: string, userId: string) => Promise<ToolCallGate>>();

/** The tool-call gate read of runs that reach their first tool call together is one read (see coalescePerTurn). */
function gateReaderFor(db: KernelDeps["db"]): (orgId: string, userId: string) => Promise<ToolCallGate> {
  let reader = gateReaders.get(db);
  if (!reader) {
    reader = coalescePerTurn((orgId: string, userId: string) => loadToolCallGate(db, orgId, userId));
    gateReaders.set(db, reader);
  }
  return reader;
}

export interface RunClaim {
  runId: string;
  orgId: string;
  workerId: string;
}

/**
 * The canonical form of a TOOL_CALL event's arguments, computed once per payload (a completed event gets a new one):
 * the loop guard compares every earlier call with the new one on every step, which made a run's canonicalisations
 * grow with the square of its steps.
 */
const fingerprints = new WeakMap<object, string>();
function argsFingerprint(event: TraceEvent): string {
  const payload = asObject<ToolCallPayload>(event.payload);
  if (typeof payload !== "object") return canonicalJson(undefined);
  let fingerprint = fingerprints.get(payload);
  if (fingerprint === undefined) {
    fingerprint = canonicalJson(payload.args);
    fingerprints.set(payload, fingerprint);
  }
  return fingerprint;
}

/**
 * Drives one claimed run until it ends, waits, or the worker must let go. Every step is written before it happens
 * (a PENDING intent) and completed after, each in its own transaction, so a crash at any point loses nothing: the
 * next worker to claim the run reads the trace and continues (see nextStep / recover).
 */
export async function executeRun(deps: KernelDeps, claim: RunClaim, signal: AbortSignal): Promise<void> {
  const { db } = deps;
  const writer: TraceWriter = { runId: claim.runId, orgId: claim.orgId, workerId: claim.workerId };
  // With the other runs this worker took up at the same moment: one statement for all (see readRunStart).
  const start = await readRunStart(db, claim);
  if (!start) return;
  const { run } = start;
  const events: TraceEvent[] = start.events;
  let nextSeq = (events[events.length - 1]?.seq ?? 0) + 1;
  let costMicros = run.costMicros;
  // Every trace write reads the run's row under its lock and reports whether a person asked to cancel: the loop's
  // check uses what the latest write saw instead of reading the row again (one round trip per step fewer). Only
  // when nothing was written since the last check is the row read.
  let cancelSeenByLastWrite: boolean | null = null;
  const takeCancelSeen = (): boolean | null => {
    const seen = cancelSeenByLastWrite;
    cancelSeenByLastWrite = null;
    return seen;
  };
  const keepAppended = (created: AppendedEvent): TraceEvent => {
    nextSeq = created.seq + 1;
    cancelSeenByLastWrite = created.cancelRequested;
    const local: TraceEvent = {
      id: created.id,
      seq: created.seq,
      type: created.type,
      name: created.name,
      status: created.status,
      payload: created.payload,
      startedAt: created.startedAt,
    };
    events.push(local);
    if (created.status !== "PENDING") {
      deps.observer?.eventEnded({
        ...local,
        status: created.status,
        endedAt: created.endedAt ?? created.startedAt,
        inputTokens: created.inputTokens,
        outputTokens: created.outputTokens,
        costMicros: created.costMicros,
      });
    }
    return local;
  };

  /**
   * The result of the last call (a model's answer, a tool's result), already applied to the run's state here, whose
   * write rides along with the next one (see writeTrace): every write below sends it first, or with it — one commit
   * per call fewer. Until then the call's event is PENDING in the database, and a crash recovers it exactly like a
   * crash during the call. Nothing reaches the outside world in between: every call is preceded by a write (its
   * intent), so a result is always committed before the next call is made.
   */
  let unwrittenCompletion: { event: TraceEvent; completion: EventCompletion } | null = null;
  const takeUnwrittenCompletion = () => {
    const unwritten = unwrittenCompletion;
    unwrittenCompletion = null;
    return unwritten;
  };
  const applyCompletion = (event: TraceEvent, completion: EventCompletion) => {
    event.status = completion.status;
    event.payload = completion.payload as Prisma.JsonValue;
    costMicros += completion.costMicros ?? 0;
  };
  const deferCompletion = (event: TraceEvent, completion: EventCompletion) => {
    // One at a time: a write always sends the waiting one before a new call can produce another.
    if (unwrittenCompletion)
      throw new Error(`The result of event ${unwrittenCompletion.event.seq} was never written before event ${event.seq} completed.`);
    applyCompletion(event, completion);
    unwrittenCompletion = { event, completion: { ...completion, endedAt: new Date() } };
  };
  const completionWritten = (event: TraceEvent, completion: EventCompletion) =>
    deps.observer?.eventEnded({
      ...event,
      status: completion.status,
      endedAt: completion.endedAt ?? new Date(),
      inputTokens: completion.inputTokens ?? 0,
      outputTokens: completion.outputTokens ?? 0,
      costMicros: completion.costMicros ?? 0,
    });
  /** Runs `write` with the waiting completion, if any, for it to send along. */
  const withUnwrittenCompletion = async <T>(
    write: (complete: { eventId: string; completion: EventCompletion } | undefined) => Promise<T>,
  ): Promise<T> => {
    const unwritten = takeUnwrittenCompletion();
    let result: T;
    try {
      result = await write(unwritten ? { eventId: unwritten.event.id, completion: unwritten.completion } : undefined);
    } catch (error) {
      // Nothing was written: the result still waits (a write refused with GateChanged is followed by another).
      unwrittenCompletion = unwritten;
      throw error;
    }
    if (unwritten) completionWritten(unwritten.event, unwritten.completion);
    return result;
  };
  /**
   * This worker's RUN_STARTED or RUN_RESUMED, written with the run's next write (one commit per run fewer): it marks
   * where the worker took the run up and reaches nothing outside, so a crash before that write loses nothing the
   * next worker needs — it starts or resumes the run the same way.
   */
  let unwrittenMarker: NewEvent | null = null;
  /** Events appended in one write, after any unwritten marker, with any unwritten completion (and the audit entry that records them). */
  const writeEvents = async ({
    gate,
    events: batch,
    ...append
  }: {
    events: NewEvent[];
    audit?: AuditEntry;
    unlessSpendLimited?: SpendSubjectIds;
    gate?: { userId: string; digest: string };
  }) => {
    const marker = unwrittenMarker;
    unwrittenMarker = null;
    let written: Awaited<ReturnType<typeof writeTrace>>;
    try {
      written = await withUnwrittenCompletion((complete) =>
        writeTrace(db, writer, {
          ...(complete ? { complete } : {}),
          append: { seq: nextSeq, events: marker ? [marker, ...batch] : batch, ...append },
          ...(gate ? { gate } : {}),
        }),
      );
    } catch (error) {
      unwrittenMarker = marker;
      throw error;
    }
    cancelSeenByLastWrite = written.cancelRequested;
    // A write a spend limit held back appended nothing, the marker included: it goes with the next one.
    if (written.spendLimited) unwrittenMarker = marker;
    const appended = written.appended.map(keepAppended);
    return { appended: marker && !written.spendLimited ? appended.slice(1) : appended, spendLimited: written.spendLimited };
  };
  const appendTogether = async (batch: NewEvent[], audit?: AuditEntry) => (await writeEvents({ events: batch, audit })).appended;
  const append = async (event: NewEvent, audit?: AuditEntry) => (await appendTogether([event], audit))[0]!;
  /** Writes what waits to be written (a marker, a call's result) now, in one write. */
  const writeWhatWaits = async () => {
    if (unwrittenMarker) {
      await appendTogether([]);
      return;
    }
    if (!unwrittenCompletion) return;
    // Checked just above: `complete` is the waiting completion.
    const receipt = await withUnwrittenCompletion((complete) => completeEvent(db, writer, complete!.eventId, complete!.completion));
    cancelSeenByLastWrite = receipt.cancelRequested;
  };
  const complete = async (event: TraceEvent, completion: EventCompletion) => {
    await writeWhatWaits();
    const receipt = await completeEvent(db, writer, event.id, completion);
    cancelSeenByLastWrite = receipt.cancelRequested;
    applyCompletion(event, completion);
    completionWritten(event, completion);
  };
  /** A model call that was asked (or about to be) but gave no answer: marked interrupted, never billed. */
  const interruptModelCall = (event: TraceEvent, error: string, spendReservationId?: string | null) =>
    complete(event, {
      status: "ERROR",
      payload: { ...asObject<Record<string, unknown>>(event.payload), error, interrupted: true },
      ...(spendReservationId ? { spendReservationId } : {}),
    });
  const finish = async (outcome: RunOutcome) => {
    // Rare: a run that ends before anything else was written (a limit reached at once).
    if (unwrittenMarker) await writeWhatWaits();
    await withUnwrittenCompletion((complete) => finishRun(db, writer, nextSeq, outcome, complete));
  };

  // Cancelled while parked (e.g. its agent was disabled): end it before anything else, the agent may be gone.
  if (run.cancelRequested && events.some((e) => e.type === "RUN_STARTED")) {
    await endWaiting("The run was cancelled before anyone decided.");
    await finish({ status: "CANCELLED", error: "Cancelled by a person." });
    return;
  }

  let agent: KernelAgent;
  let tools: KernelTool[];
  let redactor: Redactor;
  try {
    // Independent reads, sent together: the run starts after the slowest, not after their sum.
    const [loadedAgent, mcpTools, loadedRedactor] = await Promise.all([
      deps.loadAgent(claim.orgId, run.agentVersionId),
      deps.loadTools(claim.orgId, run.agentId),
      deps.loadRedactor(claim.orgId),
    ]);
    agent = loadedAgent;
    redactor = loadedRedactor;
    const delegates = await deps.loadDelegates(claim.orgId, agent.config.delegateAgentIds);
    const builtins = [
      ...(agent.config.submitDrafts ? [submitDraftTool()] : []),
      ...delegates.map(delegateTool),
      ...(agent.config.memory.remember ? memoryTools() : []),
      ...(agent.config.memory.knowledge ? [searchKnowledgeTool()] : []),
    ];
    const reserved = new Set(builtins.map((tool) => tool.modelName));
    // Built-in names win: an MCP tool that happens to share one stays out rather than being called by mistake.
    tools = [...builtins, ...mcpTools.filter((tool) => !reserved.has(tool.modelName))];
  } catch (error) {
    // A dropped or exhausted database connection says nothing about the run: leave it to be claimed again.
    if (isDatabaseFailure(error)) throw error;
    if (!events.some((e) => e.type === "RUN_STARTED")) {
      await append({ type: "RUN_STARTED", status: "OK", payload: { input: run.input } });
    }
    await finish({ status: "FAILED", error: `The run could not start: ${errorMessage(error)}` });
    return;
  }
  const toolsByName = new Map(tools.map((tool) => [tool.modelName, tool]));
  /** The tool-call gate last read for this run (see runTool), with the user it was read for. */
  let gateKept: { userId: string; gate: ToolCallGate } | null = null;
  /** Set once a spend limit applied to one of this run's model calls: from then on every call is reserved first. */
  let spendLimitsApply = false;
  const takenUpAt = new Date();
  if (!events.some((e) => e.type === "RUN_STARTED")) {
    unwrittenMarker = {
      type: "RUN_STARTED",
      name: agent.slug,
      status: "OK",
      payload: {
        input: run.input,
        model: agent.model.name,
        fallback: agent.fallback?.name ?? null,
        tools: tools.map((t) => t.modelName),
        workerId: claim.workerId,
      },
      startedAt: takenUpAt,
      endedAt: takenUpAt,
    };
  } else {
    // Visible hand-over: supervisors see in the timeline where a new worker picked the run up and why.
    const last = events[events.length - 1];
    const pending = events.find((e) => e.status === "PENDING" && e.type !== "DELEGATION");
    let reason: string;
    const delegating = events.some((e) => e.type === "DELEGATION" && e.status === "PENDING");
    if (pending?.type === "APPROVAL") reason = `Continuing after the decision on ${pending.name}.`;
    else if (pending?.type === "DRAFT") reason = `Continuing after the review of “${pending.name}”.`;
    else if (!pending && delegating) reason = "Continuing with the runs it delegated to.";
    else if (pending)
      reason = `The previous worker stopped during step ${pending.seq} (${pending.name || pending.type}); continuing from there.`;
    else if (last?.type === "RUN_FINISHED") reason = `A person resumed the run after it ${last.name === "halted" ? "halted" : "ended"}.`;
    else reason = `The previous worker stopped after step ${last?.seq ?? 0}; continuing with the next one.`;
    unwrittenMarker = {
      type: "RUN_RESUMED",
      name: `by worker ${claim.workerId}`,
      status: "OK",
      payload: { workerId: claim.workerId, afterSeq: last?.seq ?? 0, reason },
      startedAt: takenUpAt,
      endedAt: takenUpAt,
    };
  }
  const startedAt = run.startedAt ?? new Date();
  const { limits } = agent.config;
  await recallAtStart();
  // The time limit counts working time: waiting for a person (approval, review) or for child runs is excluded.
  const waitedMs = events.some((e) => WAITING_EVENTS.has(e.type)) ? await timeSpentWaiting(db, run.id) : 0;

  try {
    for (;;) {
      if (signal.aborted && signal.reason !== "cancel") {
        // Shutting down: keep the last result (a lost lease makes this write fail, and the run is left as it is).
        await writeWhatWaits();
        return;
      }
      const step = nextStep(events);
      // A model call or an MCP tool call writes a waiting result with its first write, which also reports a cancel
      // before the call is made (runModel, runTool). Any other step writes it now: nothing is started, parked or
      // read past it.
      const resultRides =
        (unwrittenCompletion !== null || unwrittenMarker !== null) &&
        (step.kind === "model" || (step.kind === "tool" && !toolsByName.get(step.call.name)?.builtin));
      if (!resultRides) await writeWhatWaits();
      const cancelRequested =
        takeCancelSeen() ??
        (resultRides
          ? false
          : (await db.run.findUniqueOrThrow({ where: { id: run.id }, select: { cancelRequestedAt: true } })).cancelRequestedAt !== null);
      if (cancelRequested || signal.reason === "cancel") {
        await endWaiting("The run was cancelled before anyone decided.");
        await finish({ status: "CANCELLED", error: "Cancelled by a person." });
        return;
      }
      if (Date.now() - startedAt.getTime() - waitedMs > limits.timeoutMs) {
        await finish({ status: "FAILED", error: `The run exceeded its time limit of ${Math.round(limits.timeoutMs / 1000)} s.` });
        return;
      }

      if (step.kind === "finish") {
        await finish({ status: step.status, output: step.output, error: step.error, haltReason: step.haltReason });
        return;
      }
      if (step.kind === "recover") {
        const outcome =
          step.event.type === "APPROVAL"
            ? await readDecision(step.event)
            : step.event.type === "DRAFT"
              ? await readDraftReview(step.event)
              : await recover(step.event);
        if (outcome === "halt") return;
        continue;
      }
      if (step.kind === "children") {
        if ((await awaitChildren(step.waiting)) === "halt") return;
        continue;
      }
      if (step.kind === "tool") {
        if ((await runTool(step.call)) === "stop") return;
        continue;
      }
      const modelCalls = events.filter((e) => e.type === "MODEL_CALL" && e.status === "OK").length;
      if (modelCalls >= limits.maxSteps) {
        await finish({ status: "HALTED", haltReason: "max_steps", error: `The run reached its limit of ${limits.maxSteps} model steps.` });
        return;
      }
      if (limits.maxCostMicros > 0 && costMicros >= limits.maxCostMicros) {
        await finish({
          status: "HALTED",
          haltReason: "max_cost",
          error: `The run reached its cost limit of $${(limits.maxCostMicros / 1e6).toFixed(4)}.`,
        });
        return;
      }
      const failed = await runModel();
      if (failed) return;
    }
  } catch (error) {
    if (error instanceof LeaseLost) {
      logger.warn("lost the lease on a run; another worker continues it", { runId: run.id, workerId: claim.workerId });
      return;
    }
    throw error;
  }

  /** Returns true when the run ended (or must be left) because of this step. */
  async function runModel(): Promise<boolean> {
    const toolSpecs = tools.map((t) => ({ name: t.modelName, description: t.description, inputSchema: t.inputSchema }));
    const context = await fitContext(JSON.stringify(toolSpecs));
    if (context === "stopped") return true;
    const { messages, tokens } = context;
    const summarised = latestSummary(events) !== null;
    const admitted = await admitModelCall(
      {
        type: "MODEL_CALL",
        name: agent.model.name,
        status: "PENDING",
        payload: {
          model: agent.model.model,
          modelConfig: agent.model.name,
          messageCount: messages.length,
          contextTokens: tokens,
          tools: tools.map((t) => t.modelName),
        },
      },
      tokens,
    );
    if (!admitted) return true;
    const { intent, reservation } = admitted;
    if (cancelSeenByLastWrite) {
      // Cancelled while the last tool ran (this write was the first to see it): the model is not asked.
      await interruptModelCall(intent, "Cancelled before the model was asked.", reservation);
      await finish({ status: "CANCELLED", error: "Cancelled by a person." });
      return true;
    }
    // Set once the model has answered: a failure after that is the database's (recording the answer), not the
    // model's, and must not fail the run. It propagates instead; the intent stays PENDING and recover() asks again.
    let answered = false;
    try {
      const result = await deps.callModel(agent.model, agent.fallback, {
        messages,
        tools: toolSpecs,
        script: agent.config.script,
        ...(summarised ? { history: messagesFromTrace(agent, run.input, events, { full: true }) } : {}),
        signal,
      });
      answered = true;
      // Secrets and configured patterns never reach the trace, the console or the next model call.
      const response = redactor.redactJson({ content: result.content, toolCalls: result.toolCalls });
      const answer: EventCompletion = {
        status: "OK",
        payload: {
          model: result.model,
          modelConfig: result.modelConfigName,
          usedFallback: result.usedFallback,
          attempts: result.attempts,
          latencyMs: result.latencyMs,
          messageCount: messages.length,
          contextTokens: tokens,
          response: response.value,
          ...(response.redactions.length > 0 ? { redactions: response.redactions } : {}),
        } as unknown as Prisma.InputJsonValue,
        inputTokens: result.usage.inputTokens,
        outputTokens: result.usage.outputTokens,
        costMicros: result.costMicros,
        spend: {
          agentId: agent.agentId,
          userId: run.onBehalfOfUserId,
          modelConfigId: result.usedFallback ? (agent.fallback?.id ?? null) : agent.model.id,
          model: result.model,
        },
        spendReservationId: reservation,
      };
      // Written with the next write (the decision on the call it proposes, or the run's end): one commit fewer.
      deferCompletion(intent, answer);
      return false;
    } catch (error) {
      if (answered) throw error;
      if (signal.aborted) {
        if (signal.reason === "cancel") {
          await interruptModelCall(intent, "Cancelled while the model was answering.", reservation);
          await finish({ status: "CANCELLED", error: "Cancelled by a person." });
        }
        return true;
      }
      const message = errorMessage(error);
      await complete(intent, { status: "ERROR", payload: { error: message, model: agent.model.name }, spendReservationId: reservation });
      await finish({ status: "FAILED", error: message });
      return true;
    }
  }

  /**
   * One tool call through the gates of DESIGN.md §4, each decision written to the trace before anything happens:
   * a decision already taken by a person → identity (the user the run acts for may still act) → guards (redaction,
   * loop) → policy (allow, deny, or hold for approval). Returns "stop" when the run ended or was parked.
   */
  async function runTool(call: ToolCallRequest, acting: ActingAs = { userId: run.onBehalfOfUserId }): Promise<"continue" | "stop"> {
    const tool = toolsByName.get(call.name);
    if (!tool) {
      await append({
        type: "TOOL_CALL",
        name: call.name,
        status: "ERROR",
        payload: {
          toolCallId: call.id,
          tool: call.name,
          args: call.args,
          error: { kind: "not_granted", message: `The tool "${call.name}" is not available to this agent.` },
        } as Prisma.InputJsonValue,
      });
      return "continue";
    }

    // A built-in call already under way continues from its trace (a reviewed draft, a finished delegation).
    const draft = events.find((e) => e.type === "DRAFT" && asObject<DraftPayload>(e.payload).toolCallId === call.id);
    if (draft) return continueDraft(draft, call);
    const delegation = events.find((e) => e.type === "DELEGATION" && asObject<DelegationPayload>(e.payload).toolCallId === call.id);
    if (delegation) {
      await answerDelegation(delegation);
      return "continue";
    }

    // Only a decision taken on this turn's call counts: providers choose call ids, and a model that repeats an id in
    // a later turn (with other arguments) must ask again, never inherit the earlier approval.
    const turnStart = events.map((e) => e.type).lastIndexOf("MODEL_CALL");
    const decided = events
      .slice(turnStart + 1)
      .find((e) => e.type === "APPROVAL" && e.status !== "PENDING" && asObject<ApprovalPayload>(e.payload).toolCallId === call.id);
    if (decided) {
      const decision = asObject<ApprovalPayload>(decided.payload);
      if (decision.outcome === "APPROVED") {
        // Exactly the arguments the person approved (or edited), as stored on the approval row.
        return executeToolCall(tool, { ...call, args: decision.decidedArgs ?? decision.args }, acting);
      }
      const why =
        decision.outcome === "REJECTED"
          ? `A person rejected this call${decision.comment ? `: ${decision.comment}` : "."}`
          : decision.outcome === "EXPIRED"
            ? "Nobody approved this call in time, so it was not made."
            : "The approval was voided, so the call was not made.";
      await append({
        type: "TOOL_CALL",
        name: tool.modelName,
        status: "ERROR",
        payload: {
          toolCallId: call.id,
          tool: tool.modelName,
          server: tool.serverName,
          args: decision.args,
          error: { kind: "rejected", message: why },
          commitOf: acting.commitOf,
        } as Prisma.InputJsonValue,
      });
      return "continue";
    }

    // Identity, guard settings and policies (one statement). Read once, then kept for the run's next calls: the write
    // of an allowed call's decision and intent happens only while they are unchanged (GateChanged otherwise), and any
    // other outcome is judged again on a fresh read — so a revocation or a new policy still applies to the very next
    // call, with one round trip per step fewer.
    const kept = gateKept?.userId === acting.userId ? gateKept.gate : null;
    const gate = kept ?? (await gateReaderFor(db)(claim.orgId, acting.userId));
    gateKept = { userId: acting.userId, gate };
    const judgeAgainFresh = () => {
      gateKept = null;
      return runTool(call, acting);
    };
    const refusal = gate.refusal;
    if (refusal && kept) return judgeAgainFresh();
    if (refusal) {
      await append({
        type: "TOOL_CALL",
        name: tool.modelName,
        status: "ERROR",
        payload: {
          toolCallId: call.id,
          tool: tool.modelName,
          server: tool.serverName,
          args: call.args,
          error: { kind: "forbidden", message: refusal },
          commitOf: acting.commitOf,
        } as Prisma.InputJsonValue,
      });
      // The reviewer lost the right to act: the commit fails, the run (acting for its own user) goes on.
      if (acting.commitOf) return "continue";
      await finish({ status: "FAILED", error: refusal });
      return "stop";
    }

    const redacted = redactor.redactJson(call.args);
    const args = redacted.value;
    const settings = gate.settings;
    const fingerprint = canonicalJson(args);
    const repeats = events.filter(
      (e) => e.type === "TOOL_CALL" && asObject<ToolCallPayload>(e.payload).tool === tool.modelName && argsFingerprint(e) === fingerprint,
    ).length;
    if (repeats + 1 >= settings.loopThreshold) {
      if (kept) return judgeAgainFresh();
      const message = `The agent called ${tool.modelName} with the same arguments ${repeats + 1} times; halted as a loop (limit ${settings.loopThreshold}).`;
      await append({
        type: "GUARD",
        name: "loop",
        status: "ERROR",
        payload: { kind: "loop", toolCallId: call.id, tool: tool.modelName, args, repeats: repeats + 1, message } as Prisma.InputJsonValue,
      });
      await finish({ status: "HALTED", haltReason: "loop", error: message });
      return "stop";
    }

    const untrustedContentSeen = events.some(
      (e) => e.type === "TOOL_CALL" && e.status === "OK" && !asObject<ToolCallPayload>(e.payload).trusted,
    );
    const decision = decideToolCall(gate.rules, {
      agentId: agent.agentId,
      toolName: tool.serverToolName,
      toolRisk: tool.risk,
      onBehalfOfUserId: acting.userId,
      args,
      untrustedContentSeen,
    });
    const decisionEvent: NewEvent = {
      type: "POLICY_DECISION",
      name: `${tool.modelName}: ${decision.effect.toLowerCase().replace("_", " ")}`,
      status: decision.effect === "DENY" ? "ERROR" : "OK",
      payload: {
        toolCallId: call.id,
        tool: tool.modelName,
        effect: decision.effect,
        reason: decision.reason,
        policyId: decision.policyId,
        policyName: decision.policyName,
        explanation: decision.explanation,
        untrustedContentSeen,
        redactions: redacted.redactions,
        ...(acting.commitOf ? { onBehalfOfUserId: acting.userId, commitOf: acting.commitOf } : {}),
        ...(decision.effect === "REQUIRE_APPROVAL" && acting.approvedBy
          ? { approvedBy: acting.approvedBy, approvedVia: "inbox acceptance" }
          : {}),
      } as unknown as Prisma.InputJsonValue,
    };
    // The decision and its audit entry commit together: one commit per step fewer, and never one without the other.
    const auditDecision: AuditEntry = {
      orgId: claim.orgId,
      action: "policy.decision",
      actorType: "AGENT",
      actorId: agent.agentId,
      targetType: "Run",
      targetId: run.id,
      data: { tool: tool.modelName, effect: decision.effect, policyId: decision.policyId, reason: decision.reason },
    };
    // A reviewer who may decide approvals accepted exactly these arguments: their acceptance is the approval.
    const heldForApproval = decision.effect === "REQUIRE_APPROVAL" && !acting.approvedBy;
    if (decision.effect !== "DENY" && !heldForApproval && !tool.builtin) {
      // Allowed, and an MCP call: the decision, its audit entry and the call's intent are one commit. The intent is
      // still written before the call, and a crash leaves either nothing (decided again) or the intent (recovered).
      const idempotencyKey = `${run.id}:${nextSeq + 1}`;
      const allowed = { ...call, args };
      let intent: TraceEvent;
      try {
        [, intent] = (
          await writeEvents({
            events: [decisionEvent, toolIntent(tool, allowed, acting, idempotencyKey)],
            audit: auditDecision,
            gate: { userId: acting.userId, digest: gate.digest },
          })
        ).appended as [TraceEvent, TraceEvent];
      } catch (error) {
        if (error instanceof GateChanged) return judgeAgainFresh();
        throw error;
      }
      if (cancelSeenByLastWrite) {
        // Cancelled while the model was answering: the call is not made (the loop then ends the run).
        await complete(intent, {
          status: "ERROR",
          payload: {
            ...asObject<Record<string, unknown>>(intent.payload),
            error: { kind: "cancelled", message: "Cancelled by a person before the call was made." },
          },
        });
        return "continue";
      }
      await executeTool(intent, tool, allowed, idempotencyKey);
      return "continue";
    }
    if (kept) return judgeAgainFresh();
    if (decision.effect === "DENY") {
      const refused: NewEvent = {
        type: "TOOL_CALL",
        name: tool.modelName,
        status: "ERROR",
        payload: {
          toolCallId: call.id,
          tool: tool.modelName,
          server: tool.serverName,
          args,
          error: { kind: "denied", message: `Policy denied this call: ${decision.reason}` },
          commitOf: acting.commitOf,
        } as Prisma.InputJsonValue,
      };
      await appendTogether([decisionEvent, refused], auditDecision);
      return "continue";
    }
    await append(decisionEvent, auditDecision);
    if (heldForApproval) {
      const expiresAt = new Date(Date.now() + settings.approvalTimeoutMinutes * 60_000);
      const held: ApprovalPayload = {
        toolCallId: call.id,
        tool: tool.modelName,
        toolId: tool.toolId,
        args,
        reason: decision.reason,
        policyId: decision.policyId,
        policyName: decision.policyName,
        expiresAt: expiresAt.toISOString(),
      };
      const event = await append({
        type: "APPROVAL",
        name: tool.modelName,
        status: "PENDING",
        payload: held as unknown as Prisma.InputJsonValue,
      });
      return (await waitForDecision(event)) === "halt" ? "stop" : "continue";
    }
    return executeToolCall(tool, { ...call, args }, acting);
  }

  async function executeToolCall(tool: KernelTool, call: ToolCallRequest, acting: ActingAs): Promise<"continue" | "stop"> {
    if (tool.builtin?.kind === "submit_draft") return submitDraftCall(call);
    if (tool.builtin?.kind === "delegate") {
      await delegate(tool, call);
      return "continue";
    }
    if (tool.builtin?.kind === "remember") return remember(call);
    if (tool.builtin?.kind === "recall") return recall(call);
    if (tool.builtin?.kind === "search_knowledge") return searchKnowledgeCall(call);
    const idempotencyKey = `${run.id}:${nextSeq}`;
    const intent = await append(toolIntent(tool, call, acting, idempotencyKey));
    await executeTool(intent, tool, call, idempotencyKey);
    return "continue";
  }

  /** The PENDING TOOL_CALL written before an MCP call; its key makes a repeated call after a crash a no-op. */
  function toolIntent(tool: KernelTool, call: ToolCallRequest, acting: ActingAs, idempotencyKey: string): NewEvent {
    return {
      type: "TOOL_CALL",
      name: tool.modelName,
      status: "PENDING",
      idempotencyKey,
      payload: {
        toolCallId: call.id,
        tool: tool.modelName,
        server: tool.serverName,
        args: call.args,
        idempotencyKey,
        commitOf: acting.commitOf,
      } as Prisma.InputJsonValue,
    };
  }

  /** Answers a model's call to a built-in tool (a TOOL_CALL event the model sees as the tool's reply). */
  async function answer(
    call: ToolCallRequest,
    outcome: { content: string; isError: boolean; trusted?: boolean; extra?: Record<string, unknown> },
  ): Promise<void> {
    const tool = toolsByName.get(call.name);
    await append({
      type: "TOOL_CALL",
      name: call.name,
      status: outcome.isError ? "ERROR" : "OK",
      payload: {
        toolCallId: call.id,
        tool: call.name,
        server: tool?.serverName ?? "switchboard",
        args: call.args,
        builtin: true,
        ...(outcome.isError
          ? { error: { kind: "builtin", message: outcome.content } }
          : { result: { content: outcome.content, isError: false } }),
        ...(outcome.trusted ? { trusted: true } : {}),
        ...outcome.extra,
      } as unknown as Prisma.InputJsonValue,
    });
  }

  // ─── Memory: recall at start, remember, recall, search_knowledge, context budget ─────────────────────────

  /**
   * Before the first model call, the memories most relevant to the input (ORG, this agent's, and the acting
   * person's) go into the instructions with citation markers. Recorded as a MEMORY_READ event, so the trace shows
   * what was recalled; nothing is recorded when nothing matched.
   */
  async function recallAtStart(): Promise<void> {
    const { recallEnabled, recallTopK } = agent.config.memory;
    if (!recallEnabled || recallTopK === 0) return;
    if (events.some((e) => e.type === "MODEL_CALL" || (e.type === "MEMORY_READ" && asObject<MemoryReadPayload>(e.payload).atStart))) return;
    try {
      const recalled = await recallForRun(db, {
        orgId: claim.orgId,
        agentId: agent.agentId,
        onBehalfOfUserId: run.onBehalfOfUserId,
        query: run.input,
        k: recallTopK,
      });
      if (recalled.length === 0) return;
      await append({
        type: "MEMORY_READ",
        name: `recalled ${recalled.length} memor${recalled.length === 1 ? "y" : "ies"}`,
        status: "OK",
        payload: { atStart: true, query: run.input, memories: recalled.map(memoryView) } as unknown as Prisma.InputJsonValue,
      });
    } catch (error) {
      if (error instanceof LeaseLost) throw error;
      // The run can work without its memories; the trace says they were missing and why.
      logger.warn("could not recall memories at run start", { runId: run.id, error: errorMessage(error) });
      await append({
        type: "MEMORY_READ",
        name: "recall failed",
        status: "ERROR",
        payload: { atStart: true, query: run.input, memories: [], error: errorMessage(error) },
      });
    }
  }

  function memoryView(memory: Awaited<ReturnType<typeof recallForRun>>[number]): MemoryReadPayload["memories"][number] {
    return { id: memory.id, content: memory.content, kind: memory.kind, scope: memory.scope, score: memory.score, source: memory.source };
  }

  async function remember(call: ToolCallRequest): Promise<"continue" | "stop"> {
    const parsed = RememberArgs.safeParse(call.args);
    if (!parsed.success) {
      await answer(call, { isError: true, content: `Nothing was remembered: ${describeIssues(parsed.error)}` });
      return "continue";
    }
    // Written before the memory (the event id is its provenance), completed after: a crash in between is finished by
    // recover() with the same event id, and writeMemoryFromRun is idempotent on it.
    const existing = events.find((e) => e.type === "MEMORY_WRITE" && asObject<MemoryWritePayload>(e.payload).toolCallId === call.id);
    const event =
      existing ??
      (await append({
        type: "MEMORY_WRITE",
        name: parsed.data.kind.toLowerCase(),
        status: "PENDING",
        payload: { toolCallId: call.id, content: parsed.data.content, kind: parsed.data.kind, scope: parsed.data.scope },
      }));
    if (event.status === "PENDING") await writeMemory(event);
    await answerRemember(call, event);
    return "continue";
  }

  async function writeMemory(event: TraceEvent): Promise<void> {
    const intent = asObject<MemoryWritePayload>(event.payload);
    try {
      const written = await writeMemoryFromRun(db, {
        orgId: claim.orgId,
        agentId: agent.agentId,
        onBehalfOfUserId: run.onBehalfOfUserId,
        runId: run.id,
        eventId: event.id,
        content: intent.content,
        kind: intent.kind as "FACT" | "PREFERENCE" | "EPISODE",
        ...(intent.scope ? { scope: intent.scope as "ORG" | "AGENT" | "USER" } : {}),
      });
      const scope = intent.scope ?? defaultScope(intent.kind as "FACT" | "PREFERENCE" | "EPISODE", run.onBehalfOfUserId);
      await complete(event, { status: "OK", payload: { ...intent, scope, memoryId: written.id, supersededId: written.supersededId } });
    } catch (error) {
      if (error instanceof LeaseLost) throw error;
      await complete(event, { status: "ERROR", payload: { ...intent, error: errorMessage(error) } });
    }
  }

  async function answerRemember(call: ToolCallRequest, event: TraceEvent): Promise<void> {
    const written = asObject<MemoryWritePayload & { error?: string }>(event.payload);
    if (event.status !== "OK" || !written.memoryId) {
      await answer(call, { isError: true, content: `Nothing was remembered: ${written.error ?? "the memory could not be written."}` });
      return;
    }
    const merged = written.supersededId ? ` It replaces an older, nearly identical memory ${memoryCitation(written.supersededId)}.` : "";
    await answer(call, {
      isError: false,
      trusted: true,
      content: `Remembered as ${memoryCitation(written.memoryId)}.${merged}`,
      extra: { memoryId: written.memoryId },
    });
  }

  async function recall(call: ToolCallRequest): Promise<"continue" | "stop"> {
    const parsed = RecallArgs.safeParse(call.args);
    if (!parsed.success) {
      await answer(call, { isError: true, content: `Nothing was recalled: ${describeIssues(parsed.error)}` });
      return "continue";
    }
    const recalled = await recallForRun(db, {
      orgId: claim.orgId,
      agentId: agent.agentId,
      onBehalfOfUserId: run.onBehalfOfUserId,
      query: parsed.data.query,
      k: parsed.data.k,
    });
    await append({
      type: "MEMORY_READ",
      name: `recall: ${recalled.length} found`,
      status: "OK",
      payload: { toolCallId: call.id, query: parsed.data.query, memories: recalled.map(memoryView) } as unknown as Prisma.InputJsonValue,
    });
    // Memories may have been written from untrusted input: they reach the model fenced, like tool output.
    await answer(call, {
      isError: false,
      content:
        recalled.length === 0
          ? "No memory matches that."
          : recalled.map((m) => `${memoryCitation(m.id)} ${m.content} (${m.kind.toLowerCase()})`).join("\n"),
    });
    return "continue";
  }

  async function searchKnowledgeCall(call: ToolCallRequest): Promise<"continue" | "stop"> {
    const parsed = SearchKnowledgeArgs.safeParse(call.args);
    if (!parsed.success) {
      await answer(call, { isError: true, content: `The search did not run: ${describeIssues(parsed.error)}` });
      return "continue";
    }
    const passages = await searchKnowledge(db, { orgId: claim.orgId, query: parsed.data.query, k: parsed.data.k });
    const citations = passages.map((p) => ({
      marker: `[doc:${p.documentTitle} §${p.position}]`,
      documentId: p.documentId,
      chunkId: p.chunkId,
      position: p.position,
      title: p.documentTitle,
      collection: p.collection,
      href: `/knowledge/${p.documentId}#chunk-${p.position}`,
    }));
    await answer(call, {
      isError: false,
      content:
        passages.length === 0 ? "No passage matches that." : passages.map((p, i) => `${citations[i]!.marker}\n${p.content}`).join("\n\n"),
      extra: { citations },
    });
    return "continue";
  }

  /**
   * The messages for the next model call, within the model's input budget: when the run's turns would not fit,
   * the older ones are summarised (by the agent's model, or by rule for the scripted model) and the summary is
   * recorded as a CONTEXT_SUMMARY event before the call. The newest turn is always kept verbatim.
   */
  async function fitContext(toolsJson: string): Promise<{ messages: ChatMessage[]; tokens: number } | "stopped"> {
    const counter = await tokenCounterFor(agent.model.provider, agent.model.model);
    const budget = inputBudget(agent.model.contextWindow);
    let messages = messagesFromTrace(agent, run.input, events);
    const tokensBefore = counter.count(messages, toolsJson);
    if (tokensBefore <= budget) return { messages, tokens: tokensBefore };

    const previous = latestSummary(events);
    const open = events.filter((e) => e.seq > (previous?.coversThroughSeq ?? 0));
    const turnStarts = open.flatMap((e, index) => (e.type === "MODEL_CALL" && e.status === "OK" ? [index] : []));
    const fixed = counter.count(messages.slice(0, 2), toolsJson);
    const cut = chooseCut(turnStarts, (index) => counter.count(turnMessages(open.slice(index))), Math.max(0, budget * KEPT_SHARE - fixed));
    if (cut === null) return { messages, tokens: tokensBefore }; // a single huge turn: nothing older to fold away
    const elided = turnMessages(open.slice(0, cut));
    const coversThroughSeq = open[cut - 1]!.seq;
    const method = agent.model.provider === "SCRIPTED" ? "rule" : "model";
    const base: ContextSummaryPayload = {
      coversThroughSeq,
      method,
      tokenizer: counter.method,
      budget,
      tokensBefore,
      summarisedMessages: elided.length,
    };
    // Summarising with the model is a model call too: its worst-case cost is reserved like any other.
    const admitted =
      method === "model" ? await reserveModelCall(counter.count(summariserMessages(previous?.summary ?? null, elided))) : null;
    if (admitted?.halted) return "stopped";
    const reservation = admitted?.reservationId ?? null;
    const intent = await append({
      type: "CONTEXT_SUMMARY",
      name: `summarised ${elided.length} message(s)`,
      status: "PENDING",
      payload: base as unknown as Prisma.InputJsonValue,
    });
    // The summary may take at most a quarter of the budget (characters ≈ 4 × tokens).
    const maxChars = Math.floor(budget / 4) * 4;
    try {
      let summary: string;
      let usage: { inputTokens: number; outputTokens: number; costMicros: number; model: string; usedFallback: boolean } | null = null;
      if (method === "rule") {
        summary = ruleSummary(previous?.summary ?? null, elided, maxChars);
      } else {
        const result = await deps.callModel(agent.model, agent.fallback, {
          messages: summariserMessages(previous?.summary ?? null, elided),
          tools: [],
          signal,
        });
        summary = result.content.trim().slice(0, maxChars) || ruleSummary(previous?.summary ?? null, elided, maxChars);
        usage = {
          inputTokens: result.usage.inputTokens,
          outputTokens: result.usage.outputTokens,
          costMicros: result.costMicros,
          model: result.model,
          usedFallback: result.usedFallback,
        };
      }
      const text = redactor.redactText(summary).text;
      const after = messagesFromTrace(agent, run.input, [...events, { ...intent, status: "OK", payload: { ...base, summary: text } }]);
      await complete(intent, {
        status: "OK",
        payload: { ...base, summary: text, tokensAfter: counter.count(after, toolsJson) },
        ...(usage
          ? {
              inputTokens: usage.inputTokens,
              outputTokens: usage.outputTokens,
              costMicros: usage.costMicros,
              spend: {
                agentId: agent.agentId,
                userId: run.onBehalfOfUserId,
                modelConfigId: usage.usedFallback ? (agent.fallback?.id ?? null) : agent.model.id,
                model: usage.model,
              },
            }
          : {}),
        spendReservationId: reservation,
      });
    } catch (error) {
      if (error instanceof LeaseLost) throw error;
      if (signal.aborted) return "stopped";
      const message = `The run's context no longer fits the model (${tokensBefore} of ${budget} tokens) and summarising it failed: ${errorMessage(error)}`;
      await complete(intent, { status: "ERROR", payload: { ...base, error: errorMessage(error) }, spendReservationId: reservation });
      await finish({ status: "FAILED", error: message });
      return "stopped";
    }
    messages = messagesFromTrace(agent, run.input, events);
    return { messages, tokens: counter.count(messages, toolsJson) };
  }

  // ─── submit_draft: the inbox ──────────────────────────────────────────────────────────────────────────────

  async function submitDraftCall(call: ToolCallRequest): Promise<"continue" | "stop"> {
    const parsed = SubmitDraftArgs.safeParse(call.args);
    if (!parsed.success) {
      await answer(call, { isError: true, content: `The draft was not submitted: ${describeIssues(parsed.error)}` });
      return "continue";
    }
    const commit = parsed.data.commit ?? null;
    if (commit) {
      const target = toolsByName.get(commit.tool);
      if (!target || target.builtin) {
        const available = tools.filter((t) => !t.builtin).map((t) => t.modelName);
        await answer(call, {
          isError: true,
          content: `The draft was not submitted: commit.tool "${commit.tool}" is not one of your tools${available.length ? ` (${available.join(", ")})` : ""}.`,
        });
        return "continue";
      }
    }
    const payload: DraftPayload = { toolCallId: call.id, kind: parsed.data.kind, title: parsed.data.title, body: parsed.data.body, commit };
    const event = await append({
      type: "DRAFT",
      name: parsed.data.title,
      status: "PENDING",
      payload: payload as unknown as Prisma.InputJsonValue,
    });
    return (await waitForReview(event)) === "halt" ? "stop" : "continue";
  }

  /** Files the DRAFT event's item (if a crash came between) and parks the run until a reviewer decides. */
  async function waitForReview(event: TraceEvent): Promise<"continue" | "halt"> {
    const draft = asObject<DraftPayload>(event.payload);
    const { itemId, revision } = await submitDraft(db, {
      orgId: claim.orgId,
      runId: run.id,
      agentId: agent.agentId,
      eventId: event.id,
      kind: draft.kind as "EMAIL" | "DOCUMENT" | "TICKET_REPLY",
      title: draft.title,
      body: draft.body,
      commitAction: draft.commit,
    });
    event.payload = { ...draft, itemId, revision } as unknown as Prisma.JsonValue;
    if (await parkForReview(db, writer, itemId)) return "halt";
    return readDraftReview(event);
  }

  /** A PENDING DRAFT event: park again while the item waits, else complete the event with the reviewer's decision. */
  async function readDraftReview(event: TraceEvent): Promise<"continue" | "halt"> {
    const review = await readReview(db, claim.orgId, event.id);
    if (!review || review.status === "PENDING") return waitForReview(event);
    const draft = asObject<DraftPayload>(event.payload);
    const reviewer = review.decidedBy ? await principalForUser(db, review.decidedBy.id, claim.orgId) : null;
    const decided: DraftPayload = {
      ...draft,
      itemId: review.itemId,
      outcome: review.status,
      accepted: review.status === "ACCEPTED" ? { revision: review.revision, title: review.title, body: review.body } : undefined,
      feedback: review.feedback,
      decidedBy: review.decidedBy ? { id: review.decidedBy.id, email: review.decidedBy.email } : null,
      reviewerMayApprove: Boolean(reviewer?.orgId === claim.orgId && reviewer.scopes.includes("approvals:decide")),
    };
    await complete(event, { status: review.status === "DISCARDED" ? "ERROR" : "OK", payload: decided as unknown as Prisma.InputJsonValue });
    return "continue";
  }

  /**
   * After the reviewer decided: an accepted draft's commit action runs (through every gate, acting for the
   * reviewer), then the model gets the decision as the answer to its submit_draft call.
   */
  async function continueDraft(event: TraceEvent, call: ToolCallRequest): Promise<"continue" | "stop"> {
    const draft = asObject<DraftPayload>(event.payload);
    const revision = draft.accepted?.revision ?? draft.revision ?? 1;
    if (draft.outcome === "CHANGES_REQUESTED") {
      await answer(call, {
        isError: false,
        trusted: true,
        content: JSON.stringify({
          decision: "changes_requested",
          revision,
          feedback: draft.feedback ?? "",
          instructions: "Revise the draft using the feedback and call submit_draft again.",
        }),
      });
      return "continue";
    }
    if (draft.outcome === "DISCARDED") {
      await answer(call, {
        isError: false,
        trusted: true,
        content: JSON.stringify({ decision: "discarded", revision, decidedBy: draft.decidedBy?.email ?? null }),
      });
      return "continue";
    }
    if (!draft.commit || !draft.accepted || !draft.decidedBy) {
      await answer(call, {
        isError: false,
        trusted: true,
        content: JSON.stringify({ decision: "accepted", revision, decidedBy: draft.decidedBy?.email ?? null }),
      });
      return "continue";
    }
    const commitCallId = `${call.id}:commit`;
    let committed = events.find(
      (e) => e.type === "TOOL_CALL" && e.status !== "PENDING" && asObject<ToolCallPayload>(e.payload).toolCallId === commitCallId,
    );
    if (!committed) {
      const commitCall: ToolCallRequest = { id: commitCallId, name: draft.commit.tool, args: commitArgs(draft.commit, draft.accepted) };
      const outcome = await runTool(commitCall, {
        userId: draft.decidedBy.id,
        commitOf: call.id,
        approvedBy: draft.reviewerMayApprove ? draft.decidedBy.email : undefined,
      });
      if (outcome === "stop") return "stop";
      committed = events.find(
        (e) => e.type === "TOOL_CALL" && e.status !== "PENDING" && asObject<ToolCallPayload>(e.payload).toolCallId === commitCallId,
      );
      // Parked on an approval of the commit: the draft's answer waits until that is decided.
      if (!committed) return "continue";
    }
    const result = asObject<ToolCallPayload>(committed.payload);
    const commitOutcome =
      result.result && !result.result.isError
        ? { tool: draft.commit.tool, status: "ok", result: result.result.content }
        : {
            tool: draft.commit.tool,
            status: "failed",
            error: result.error?.message ?? result.result?.content ?? "The commit action failed.",
          };
    await answer(call, {
      isError: commitOutcome.status !== "ok",
      trusted: true,
      content:
        commitOutcome.status === "ok"
          ? JSON.stringify({ decision: "accepted", revision, decidedBy: draft.decidedBy.email, commit: commitOutcome })
          : `The reviewer accepted revision ${revision}, but its commit action ${draft.commit.tool} failed: ${commitOutcome.error}`,
    });
    return "continue";
  }

  // ─── delegate_to_<slug>: child runs ──────────────────────────────────────────────────────────────────────

  async function delegate(tool: KernelTool, call: ToolCallRequest): Promise<void> {
    if (tool.builtin?.kind !== "delegate") return;
    const parsed = DelegateArgs.safeParse(call.args);
    if (!parsed.success) {
      await answer(call, { isError: true, content: `Nothing was delegated: ${describeIssues(parsed.error)}` });
      return;
    }
    const payload: DelegationPayload = {
      toolCallId: call.id,
      tool: tool.modelName,
      childRunId: newRunId(),
      agentId: tool.builtin.agentId,
      agentSlug: tool.builtin.agentSlug,
      task: parsed.data.task,
    };
    const event = await append({
      type: "DELEGATION",
      name: tool.builtin.agentSlug,
      status: "PENDING",
      payload: payload as unknown as Prisma.InputJsonValue,
    });
    await startChild(event);
  }

  /** Creates the child run of a PENDING DELEGATION event (idempotent); a refused delegation completes the event. */
  async function startChild(event: TraceEvent): Promise<boolean> {
    const payload = asObject<DelegationPayload>(event.payload);
    const started = await startChildRun(db, {
      orgId: claim.orgId,
      parentRunId: run.id,
      childRunId: payload.childRunId,
      agentId: payload.agentId,
      task: payload.task,
      onBehalfOfUserId: run.onBehalfOfUserId,
    });
    if (started.ok) return true;
    await complete(event, {
      status: "ERROR",
      payload: { ...payload, outcome: { status: "REFUSED", output: null, error: started.reason, costMicros: 0 } },
    });
    return false;
  }

  /** Completes the DELEGATION events whose child ended; parks the run while any child is still at work. */
  async function awaitChildren(waiting: TraceEvent[]): Promise<"continue" | "halt"> {
    const ids = waiting.map((e) => asObject<DelegationPayload>(e.payload).childRunId);
    const children = new Map((await readChildRuns(db, claim.orgId, ids)).map((child) => [child.id, child]));
    const live: string[] = [];
    for (const event of waiting) {
      const payload = asObject<DelegationPayload>(event.payload);
      const child = children.get(payload.childRunId);
      if (!child) {
        // The worker died between writing the delegation and creating the child: create it now.
        if (await startChild(event)) live.push(payload.childRunId);
        continue;
      }
      if (!(TERMINAL_RUN_STATUSES as readonly string[]).includes(child.status)) {
        live.push(child.id);
        continue;
      }
      const outcome = { status: child.status, output: child.output, error: child.error, costMicros: child.costMicros };
      await complete(event, { status: child.status === "SUCCEEDED" ? "OK" : "ERROR", payload: { ...payload, outcome } });
    }
    if (live.length === 0) return "continue";
    return (await parkForChildren(db, writer, live)) ? "halt" : "continue";
  }

  /** The model's answer for a finished delegation: the child's final answer, or why it did not finish. */
  async function answerDelegation(event: TraceEvent): Promise<void> {
    const payload = asObject<DelegationPayload>(event.payload);
    const call: ToolCallRequest = { id: payload.toolCallId, name: payload.tool, args: { task: payload.task } };
    const outcome = payload.outcome;
    if (!outcome) return;
    const extra = { childRunId: payload.childRunId };
    if (outcome.status === "SUCCEEDED") {
      // Another agent's answer may carry what it read from outside: it stays fenced as untrusted data.
      await answer(call, { isError: false, content: outcome.output ?? "", extra });
    } else {
      const what = outcome.status === "REFUSED" ? "could not start" : `ended ${outcome.status.toLowerCase()}`;
      await answer(call, { isError: true, content: `The delegated run ${what}: ${outcome.error ?? "no reason given"}`, extra });
    }
  }

  /** Ends what a cancelled run was waiting on: a pending approval, a draft under review, child runs. */
  async function endWaiting(why: string): Promise<void> {
    await voidWaitingApproval(why);
    await discardOpenDrafts(db, claim.orgId, run.id, why);
    const waitingDraft = events.find((e) => e.type === "DRAFT" && e.status === "PENDING");
    if (waitingDraft)
      await complete(waitingDraft, {
        status: "ERROR",
        payload: {
          ...asObject<DraftPayload>(waitingDraft.payload),
          outcome: "DISCARDED",
          feedback: why,
        } as unknown as Prisma.InputJsonValue,
      });
    const children = events
      .filter((e) => e.type === "DELEGATION" && e.status === "PENDING")
      .map((e) => asObject<DelegationPayload>(e.payload).childRunId);
    await requestCancellation(db, claim.orgId, children);
  }

  /** Creates the approval row for a PENDING APPROVAL event (if the worker died before it did) and parks the run. */
  async function waitForDecision(event: TraceEvent): Promise<"continue" | "halt"> {
    const held = asObject<ApprovalPayload>(event.payload);
    const approval =
      (await db.approval.findUnique({ where: { eventId: event.id }, select: { id: true } })) ??
      (await requestApproval(db, {
        orgId: claim.orgId,
        runId: run.id,
        eventId: event.id,
        toolId: held.toolId,
        toolName: held.tool,
        args: held.args as Prisma.InputJsonValue,
        policyId: held.policyId,
        reason: held.reason,
        expiresAt: new Date(held.expiresAt),
      }));
    if (await parkForApproval(db, writer, approval.id)) return "halt";
    return readDecision(event); // decided while we were writing: go straight on
  }

  /** A PENDING APPROVAL event: park again if nobody decided yet, else complete it with the stored decision. */
  async function readDecision(event: TraceEvent): Promise<"continue" | "halt"> {
    const approval = await db.approval.findUnique({
      where: { eventId: event.id },
      select: { id: true, status: true, decidedArgs: true, comment: true, decidedBy: { select: { email: true } } },
    });
    if (!approval || approval.status === "PENDING") return waitForDecision(event);
    const held = asObject<ApprovalPayload>(event.payload);
    const decided: ApprovalPayload = {
      ...held,
      approvalId: approval.id,
      outcome: approval.status,
      decidedArgs: approval.status === "APPROVED" ? ((approval.decidedArgs ?? held.args) as Record<string, unknown>) : undefined,
      comment: approval.comment,
      decidedBy: approval.decidedBy?.email ?? null,
    };
    await complete(event, {
      status: approval.status === "APPROVED" ? "OK" : "ERROR",
      payload: decided as unknown as Prisma.InputJsonValue,
    });
    return "continue";
  }

  async function voidWaitingApproval(why: string): Promise<void> {
    const waiting = events.find((e) => e.type === "APPROVAL" && e.status === "PENDING");
    if (!waiting) return;
    await voidPendingApprovals(db, { orgId: claim.orgId, runIds: [run.id] }, why);
    await complete(waiting, {
      status: "ERROR",
      payload: { ...asObject<ApprovalPayload>(waiting.payload), outcome: "VOID", comment: why } as unknown as Prisma.InputJsonValue,
    });
  }

  /**
   * Writes a model call's intent once the spend limits admit it. While no limit applies to the run, that is one
   * write: it only inserts the intent if the org still has no limit for this agent or user (read in the same
   * statement, so a limit created a moment ago applies to this call). Otherwise — and for the rest of the run — the
   * call's worst-case cost is reserved first (reserveModelCall). Null when a limit ended the run.
   */
  async function admitModelCall(
    intentEvent: NewEvent,
    inputTokens: number,
  ): Promise<{ intent: TraceEvent; reservation: string | null } | null> {
    if (!spendLimitsApply) {
      const written = await writeEvents({
        events: [intentEvent],
        unlessSpendLimited: { agentId: agent.agentId, userId: run.onBehalfOfUserId },
      });
      if (!written.spendLimited) return { intent: written.appended[0]!, reservation: null };
      spendLimitsApply = true;
    }
    const admitted = await reserveModelCall(inputTokens);
    if (admitted.halted) return null;
    return { intent: await append(intentEvent), reservation: admitted.reservationId };
  }

  /**
   * Before every model call its worst-case cost is reserved against the spend limits (domain/spend/reservations.ts):
   * a HARD limit used up — spent plus the calls in flight — halts the run ("budget"); a limit past its warning
   * threshold warns once. Returns the reservation the call's completion settles (null when no HARD limit applies).
   */
  async function reserveModelCall(inputTokens: number): Promise<{ halted: true } | { halted: false; reservationId: string | null }> {
    const endpoints = [agent.model, agent.fallback];
    const spend = await reserveSpend(db, {
      orgId: claim.orgId,
      agentId: agent.agentId,
      userId: run.onBehalfOfUserId,
      runId: run.id,
      estimateMicros: estimateMaxCallCostMicros(inputTokens, endpoints),
      lifetimeMs: reservationLifetimeMs(endpoints),
    });
    if (spend.blocked) {
      await append({
        type: "GUARD",
        name: "budget",
        status: "ERROR",
        payload: { kind: "budget", limit: spend.blocked } as unknown as Prisma.InputJsonValue,
      });
      await finish({ status: "HALTED", haltReason: "budget", error: spend.blocked.message });
      return { halted: true };
    }
    for (const warning of spend.warnings) {
      const warned = events.some(
        (e) => e.type === "GUARD" && asObject<{ limit?: { limitId?: string } }>(e.payload).limit?.limitId === warning.limitId,
      );
      if (!warned)
        await append({
          type: "GUARD",
          name: "budget warning",
          status: "OK",
          payload: { kind: "budget_warning", limit: warning } as unknown as Prisma.InputJsonValue,
        });
    }
    return { halted: false, reservationId: spend.reservationId };
  }

  async function executeTool(intent: TraceEvent, tool: KernelTool, call: ToolCallRequest, idempotencyKey: string): Promise<void> {
    const base = { toolCallId: call.id, tool: tool.modelName, server: tool.serverName, args: call.args, idempotencyKey };
    // Set once the tool has answered: a failure after that is the database's (recording the result), not the tool's.
    // Recording it as a failed call would tell the model a side effect that happened did not; it propagates instead,
    // the intent stays PENDING, and recover() repeats the call under the same idempotency key.
    let answered = false;
    try {
      const result = await callToolSurvivingServerCrashes(tool, call, idempotencyKey);
      answered = true;
      const content = redactor.redactText(result.content);
      // Written with the next write (the next model call's intent, or whatever comes first): one commit per step fewer.
      deferCompletion(intent, {
        status: result.isError ? "ERROR" : "OK",
        payload: {
          ...base,
          result: { content: content.text, isError: result.isError, truncated: result.truncated, bytes: result.bytes },
          ...(content.redactions.length > 0 ? { redactions: content.redactions } : {}),
        } as unknown as Prisma.InputJsonValue,
      });
    } catch (error) {
      if (answered) throw error;
      if (signal.aborted && signal.reason !== "cancel") return;
      const kind = (error as { kind?: string }).kind ?? "failed";
      await complete(intent, {
        status: "ERROR",
        payload: { ...base, error: { kind, message: errorMessage(error) } } as Prisma.InputJsonValue,
      });
    }
  }

  /**
   * A tool server that died during the call (or while starting for it) leaves its outcome unknown. An idempotent
   * tool is asked again under the same idempotency key — the pool starts a new server — exactly as recover() does
   * after a worker crash; any other tool's failure is reported as it is.
   */
  async function callToolSurvivingServerCrashes(tool: KernelTool, call: ToolCallRequest, idempotencyKey: string) {
    for (let attempt = 1; ; attempt++) {
      try {
        return await deps.callTool(claim.orgId, tool, call.args, { signal, idempotencyKey });
      } catch (error) {
        const kind = (error as { kind?: string }).kind;
        if (!tool.idempotent || (kind !== "crashed" && kind !== "connect") || attempt >= TOOL_SERVER_CRASH_ATTEMPTS || signal.aborted)
          throw error;
        logger.warn("tool server failed during an idempotent call; calling again with the same idempotency key", {
          runId: run.id,
          tool: tool.modelName,
          attempt,
          error: errorMessage(error),
        });
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
  }

  /**
   * A PENDING event means a worker died between intent and result. A model call is simply asked again (the
   * interrupted one is marked, never billed twice: only completed calls carry usage). A tool call is repeated only
   * when the tool is idempotent — under the same idempotency key — otherwise nobody knows whether the side effect
   * happened, and the run halts for a person to check.
   */
  async function recover(event: TraceEvent): Promise<"continue" | "halt"> {
    if (event.type === "MODEL_CALL") {
      await interruptModelCall(event, "The worker stopped before the model answered; asked again.");
      return "continue";
    }
    if (event.type === "TOOL_CALL") {
      const payload = asObject<ToolCallPayload & { idempotencyKey?: string }>(event.payload);
      const tool = toolsByName.get(payload.tool);
      if (tool?.idempotent && payload.idempotencyKey) {
        await executeTool(event, tool, { id: payload.toolCallId, name: payload.tool, args: payload.args }, payload.idempotencyKey);
        return "continue";
      }
      const message = `The worker stopped during the call to "${payload.tool}", which is not idempotent; whether it took effect is unknown. Check it before resuming.`;
      await complete(event, {
        status: "ERROR",
        payload: { ...payload, error: { kind: "interrupted", message } } as unknown as Prisma.InputJsonValue,
      });
      await finish({ status: "HALTED", haltReason: "interrupted", error: message });
      return "halt";
    }
    if (event.type === "MEMORY_WRITE") {
      await writeMemory(event); // idempotent on the event id: a memory written before the crash is found, not doubled
      return "continue";
    }
    await complete(event, { status: "ERROR", payload: { ...asObject<Record<string, unknown>>(event.payload), error: "Interrupted." } });
    return "continue";
  }
}
