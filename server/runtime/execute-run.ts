import type { Prisma } from "../generated/prisma/client";
import { appendAudit } from "../domain/audit/audit-log";
import { requestApproval, voidPendingApprovals } from "../domain/approvals/approvals";
import { canonicalJson } from "../domain/canonical";
import { loadGovernanceSettings } from "../domain/governance/settings";
import { wrapUntrusted, type Redactor } from "../domain/guards/redact";
import { userMayActFor } from "../domain/identity/acting-for";
import { decideToolCall } from "../domain/policy/engine";
import { loadPolicyRules } from "../domain/policy/policies";
import { appendEvent, completeEvent, finishRun, LeaseLost, parkForApproval, type FinalStatus, type TraceWriter } from "../domain/runs/trace";
import { checkSpend } from "../domain/spend/limits";
import { logger } from "../logger";
import type { KernelAgent, KernelDeps, KernelTool } from "./kernel-deps";
import type { ChatMessage, ToolCallRequest } from "./models/types";

/** Why a run's AbortSignal fired: the worker lost the lease or is shutting down (leave the run), or a person cancelled. */
export type StopReason = "lease_lost" | "shutdown" | "cancel";

interface TraceEvent {
  id: string;
  seq: number;
  type: string;
  name: string;
  status: "PENDING" | "OK" | "ERROR";
  payload: Prisma.JsonValue;
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

const asObject = <T>(payload: Prisma.JsonValue): T => (payload ?? {}) as T;

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The conversation the model sees, rebuilt from the persisted trace: the trace is the only state a run has. */
export function messagesFromTrace(agent: KernelAgent, input: string, events: readonly TraceEvent[]): ChatMessage[] {
  const messages: ChatMessage[] = [
    { role: "system", content: agent.instructions },
    { role: "user", content: input },
  ];
  for (const event of events) {
    if (event.type === "MODEL_CALL" && event.status === "OK") {
      const response = asObject<ModelCallPayload>(event.payload).response;
      if (response) messages.push({ role: "assistant", content: response.content, toolCalls: response.toolCalls });
    } else if (event.type === "TOOL_CALL" && event.status !== "PENDING") {
      const payload = asObject<ToolCallPayload>(event.payload);
      // Tool output is data from outside, never new orders: the model sees it fenced and labelled as untrusted.
      const content = payload.result
        ? wrapUntrusted(payload.server ? `${payload.server}/${payload.tool}` : payload.tool, payload.result.content)
        : `Error: ${payload.error?.message ?? "the tool call failed"}`;
      messages.push({ role: "tool", toolCallId: payload.toolCallId, name: payload.tool, content });
    }
  }
  return messages;
}

type NextStep =
  | { kind: "model" }
  | { kind: "tool"; call: ToolCallRequest }
  | { kind: "finish"; status: FinalStatus; output?: string; error?: string; haltReason?: string }
  | { kind: "recover"; event: TraceEvent };

/** Decides what the run does next from its trace alone, so a resumed run continues exactly where it stopped. */
export function nextStep(events: readonly TraceEvent[]): NextStep {
  const pending = events.find((event) => event.status === "PENDING");
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
  const answered = new Set(
    events.slice(lastModelIndex + 1).filter((e) => e.type === "TOOL_CALL").map((e) => asObject<ToolCallPayload>(e.payload).toolCallId),
  );
  const unanswered = toolCalls.find((call) => !answered.has(call.id));
  return unanswered ? { kind: "tool", call: unanswered } : { kind: "model" };
}

export interface RunClaim {
  runId: string;
  orgId: string;
  workerId: string;
}

/**
 * Drives one claimed run until it ends, waits, or the worker must let go. Every step is written before it happens
 * (a PENDING intent) and completed after, each in its own transaction, so a crash at any point loses nothing: the
 * next worker to claim the run reads the trace and continues (see nextStep / recover).
 */
export async function executeRun(deps: KernelDeps, claim: RunClaim, signal: AbortSignal): Promise<void> {
  const { db } = deps;
  const writer: TraceWriter = { runId: claim.runId, orgId: claim.orgId, workerId: claim.workerId };
  const run = await db.run.findFirst({
    where: { id: claim.runId, orgId: claim.orgId, status: "RUNNING", leaseOwner: claim.workerId },
    select: { id: true, input: true, agentId: true, agentVersionId: true, onBehalfOfUserId: true, startedAt: true, costMicros: true, cancelRequestedAt: true },
  });
  if (!run) return;
  const events: TraceEvent[] = await db.runEvent.findMany({
    where: { runId: run.id },
    orderBy: { seq: "asc" },
    select: { id: true, seq: true, type: true, name: true, status: true, payload: true },
  });
  let nextSeq = (events[events.length - 1]?.seq ?? 0) + 1;
  let costMicros = run.costMicros;

  const append = async (event: Parameters<typeof appendEvent>[3]) => {
    const created = await appendEvent(db, writer, nextSeq, event);
    nextSeq += 1;
    const local: TraceEvent = { id: created.id, seq: created.seq, type: created.type, name: created.name, status: created.status, payload: created.payload };
    events.push(local);
    return local;
  };
  const complete = async (event: TraceEvent, completion: Parameters<typeof completeEvent>[3]) => {
    await completeEvent(db, writer, event.id, completion);
    event.status = completion.status;
    event.payload = completion.payload as Prisma.JsonValue;
    costMicros += completion.costMicros ?? 0;
  };
  const finish = (outcome: { status: FinalStatus; output?: string | null; error?: string | null; haltReason?: string | null }) =>
    finishRun(db, writer, nextSeq, outcome);

  // Cancelled while parked (e.g. its agent was disabled): end it before anything else, the agent may be gone.
  if (run.cancelRequestedAt && events.some((e) => e.type === "RUN_STARTED")) {
    await voidWaitingApproval("The run was cancelled before anyone decided.");
    await finish({ status: "CANCELLED", error: "Cancelled by a person." });
    return;
  }

  let agent: KernelAgent;
  let tools: KernelTool[];
  let redactor: Redactor;
  try {
    agent = await deps.loadAgent(claim.orgId, run.agentVersionId);
    tools = await deps.loadTools(claim.orgId, run.agentId);
    redactor = await deps.loadRedactor(claim.orgId);
  } catch (error) {
    if (!events.some((e) => e.type === "RUN_STARTED")) {
      await append({ type: "RUN_STARTED", status: "OK", payload: { input: run.input } });
    }
    await finish({ status: "FAILED", error: `The run could not start: ${errorMessage(error)}` });
    return;
  }
  const toolsByName = new Map(tools.map((tool) => [tool.modelName, tool]));
  if (!events.some((e) => e.type === "RUN_STARTED")) {
    await append({
      type: "RUN_STARTED",
      name: agent.slug,
      status: "OK",
      payload: { input: run.input, model: agent.model.name, fallback: agent.fallback?.name ?? null, tools: tools.map((t) => t.modelName), workerId: claim.workerId },
    });
  } else {
    // Visible hand-over: supervisors see in the timeline where a new worker picked the run up and why.
    const last = events[events.length - 1];
    const pending = events.find((e) => e.status === "PENDING");
    let reason: string;
    if (pending?.type === "APPROVAL") reason = `Continuing after the decision on ${pending.name}.`;
    else if (pending) reason = `The previous worker stopped during step ${pending.seq} (${pending.name || pending.type}); continuing from there.`;
    else if (last?.type === "RUN_FINISHED") reason = `A person resumed the run after it ${last.name === "halted" ? "halted" : "ended"}.`;
    else reason = `The previous worker stopped after step ${last?.seq ?? 0}; continuing with the next one.`;
    await append({ type: "RUN_RESUMED", name: `by worker ${claim.workerId}`, status: "OK", payload: { workerId: claim.workerId, afterSeq: last?.seq ?? 0, reason } });
  }
  const startedAt = run.startedAt ?? new Date();
  const { limits } = agent.config;

  try {
    for (;;) {
      if (signal.aborted && signal.reason !== "cancel") return;
      const state = await db.run.findUniqueOrThrow({ where: { id: run.id }, select: { cancelRequestedAt: true } });
      if (state.cancelRequestedAt || signal.reason === "cancel") {
        await voidWaitingApproval("The run was cancelled before anyone decided.");
        await finish({ status: "CANCELLED", error: "Cancelled by a person." });
        return;
      }
      if (Date.now() - startedAt.getTime() > limits.timeoutMs) {
        await finish({ status: "FAILED", error: `The run exceeded its time limit of ${Math.round(limits.timeoutMs / 1000)} s.` });
        return;
      }

      const step = nextStep(events);
      if (step.kind === "finish") {
        await finish({ status: step.status, output: step.output, error: step.error, haltReason: step.haltReason });
        return;
      }
      if (step.kind === "recover") {
        const outcome = step.event.type === "APPROVAL" ? await readDecision(step.event) : await recover(step.event);
        if (outcome === "halt") return;
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
        await finish({ status: "HALTED", haltReason: "max_cost", error: `The run reached its cost limit of $${(limits.maxCostMicros / 1e6).toFixed(4)}.` });
        return;
      }
      if (await overBudget()) return;
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
    const messages = messagesFromTrace(agent, run!.input, events);
    const intent = await append({
      type: "MODEL_CALL",
      name: agent.model.name,
      status: "PENDING",
      payload: { model: agent.model.model, modelConfig: agent.model.name, messageCount: messages.length, tools: tools.map((t) => t.modelName) },
    });
    try {
      const result = await deps.callModel(agent.model, agent.fallback, {
        messages,
        tools: tools.map((t) => ({ name: t.modelName, description: t.description, inputSchema: t.inputSchema })),
        script: agent.config.script,
        signal,
      });
      // Secrets and configured patterns never reach the trace, the console or the next model call.
      const response = redactor.redactJson({ content: result.content, toolCalls: result.toolCalls });
      await complete(intent, {
        status: "OK",
        payload: {
          model: result.model,
          modelConfig: result.modelConfigName,
          usedFallback: result.usedFallback,
          attempts: result.attempts,
          latencyMs: result.latencyMs,
          messageCount: messages.length,
          response: response.value,
          ...(response.redactions.length > 0 ? { redactions: response.redactions } : {}),
        } as unknown as Prisma.InputJsonValue,
        inputTokens: result.usage.inputTokens,
        outputTokens: result.usage.outputTokens,
        costMicros: result.costMicros,
        spend: {
          agentId: agent.agentId,
          userId: run!.onBehalfOfUserId,
          modelConfigId: result.usedFallback ? (agent.fallback?.id ?? null) : agent.model.id,
          model: result.model,
        },
      });
      return false;
    } catch (error) {
      if (signal.aborted) {
        if (signal.reason === "cancel") {
          await complete(intent, { status: "ERROR", payload: { error: "Cancelled while the model was answering.", interrupted: true } });
          await finish({ status: "CANCELLED", error: "Cancelled by a person." });
        }
        return true;
      }
      const message = errorMessage(error);
      await complete(intent, { status: "ERROR", payload: { error: message, model: agent.model.name } });
      await finish({ status: "FAILED", error: message });
      return true;
    }
  }

  /**
   * One tool call through the gates of DESIGN.md §4, each decision written to the trace before anything happens:
   * a decision already taken by a person → identity (the user the run acts for may still act) → guards (redaction,
   * loop) → policy (allow, deny, or hold for approval). Returns "stop" when the run ended or was parked.
   */
  async function runTool(call: ToolCallRequest): Promise<"continue" | "stop"> {
    const tool = toolsByName.get(call.name);
    if (!tool) {
      await append({
        type: "TOOL_CALL",
        name: call.name,
        status: "ERROR",
        payload: { toolCallId: call.id, tool: call.name, args: call.args, error: { kind: "not_granted", message: `The tool "${call.name}" is not available to this agent.` } } as Prisma.InputJsonValue,
      });
      return "continue";
    }

    const decided = events.find((e) => e.type === "APPROVAL" && e.status !== "PENDING" && asObject<ApprovalPayload>(e.payload).toolCallId === call.id);
    if (decided) {
      const decision = asObject<ApprovalPayload>(decided.payload);
      if (decision.outcome === "APPROVED") {
        // Exactly the arguments the person approved (or edited), as stored on the approval row.
        await executeToolCall(tool, { ...call, args: decision.decidedArgs ?? decision.args });
        return "continue";
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
        payload: { toolCallId: call.id, tool: tool.modelName, server: tool.serverName, args: decision.args, error: { kind: "rejected", message: why } } as Prisma.InputJsonValue,
      });
      return "continue";
    }

    const refusal = await userMayActFor(db, claim.orgId, run!.onBehalfOfUserId);
    if (refusal) {
      await append({
        type: "TOOL_CALL",
        name: tool.modelName,
        status: "ERROR",
        payload: { toolCallId: call.id, tool: tool.modelName, server: tool.serverName, args: call.args, error: { kind: "forbidden", message: refusal } } as Prisma.InputJsonValue,
      });
      await finish({ status: "FAILED", error: refusal });
      return "stop";
    }

    const redacted = redactor.redactJson(call.args);
    const args = redacted.value;
    const settings = await loadGovernanceSettings(db, claim.orgId);
    const fingerprint = canonicalJson(args);
    const repeats = events.filter((e) => e.type === "TOOL_CALL" && asObject<ToolCallPayload>(e.payload).tool === tool.modelName && canonicalJson(asObject<ToolCallPayload>(e.payload).args) === fingerprint).length;
    if (repeats + 1 >= settings.loopThreshold) {
      const message = `The agent called ${tool.modelName} with the same arguments ${repeats + 1} times; halted as a loop (limit ${settings.loopThreshold}).`;
      await append({ type: "GUARD", name: "loop", status: "ERROR", payload: { kind: "loop", toolCallId: call.id, tool: tool.modelName, args, repeats: repeats + 1, message } as Prisma.InputJsonValue });
      await finish({ status: "HALTED", haltReason: "loop", error: message });
      return "stop";
    }

    const untrustedContentSeen = events.some((e) => e.type === "TOOL_CALL" && e.status === "OK");
    const decision = decideToolCall(await loadPolicyRules(db, claim.orgId), {
      agentId: agent.agentId,
      toolName: tool.serverToolName,
      toolRisk: tool.risk,
      onBehalfOfUserId: run!.onBehalfOfUserId,
      args,
      untrustedContentSeen,
    });
    await append({
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
      } as unknown as Prisma.InputJsonValue,
    });
    await appendAudit(db, {
      orgId: claim.orgId,
      action: "policy.decision",
      actorType: "AGENT",
      actorId: agent.agentId,
      targetType: "Run",
      targetId: run!.id,
      data: { tool: tool.modelName, effect: decision.effect, policyId: decision.policyId, reason: decision.reason },
    });

    if (decision.effect === "DENY") {
      await append({
        type: "TOOL_CALL",
        name: tool.modelName,
        status: "ERROR",
        payload: { toolCallId: call.id, tool: tool.modelName, server: tool.serverName, args, error: { kind: "denied", message: `Policy denied this call: ${decision.reason}` } } as Prisma.InputJsonValue,
      });
      return "continue";
    }
    if (decision.effect === "REQUIRE_APPROVAL") {
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
      const event = await append({ type: "APPROVAL", name: tool.modelName, status: "PENDING", payload: held as unknown as Prisma.InputJsonValue });
      return (await waitForDecision(event)) === "halt" ? "stop" : "continue";
    }
    await executeToolCall(tool, { ...call, args });
    return "continue";
  }

  async function executeToolCall(tool: KernelTool, call: ToolCallRequest): Promise<void> {
    const idempotencyKey = `${run!.id}:${nextSeq}`;
    const intent = await append({
      type: "TOOL_CALL",
      name: tool.modelName,
      status: "PENDING",
      idempotencyKey,
      payload: { toolCallId: call.id, tool: tool.modelName, server: tool.serverName, args: call.args, idempotencyKey } as Prisma.InputJsonValue,
    });
    await executeTool(intent, tool, call, idempotencyKey);
  }

  /** Creates the approval row for a PENDING APPROVAL event (if the worker died before it did) and parks the run. */
  async function waitForDecision(event: TraceEvent): Promise<"continue" | "halt"> {
    const held = asObject<ApprovalPayload>(event.payload);
    const approval =
      (await db.approval.findUnique({ where: { eventId: event.id }, select: { id: true } })) ??
      (await requestApproval(db, {
        orgId: claim.orgId,
        runId: run!.id,
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
    await complete(event, { status: approval.status === "APPROVED" ? "OK" : "ERROR", payload: decided as unknown as Prisma.InputJsonValue });
    return "continue";
  }

  async function voidWaitingApproval(why: string): Promise<void> {
    const waiting = events.find((e) => e.type === "APPROVAL" && e.status === "PENDING");
    if (!waiting) return;
    await voidPendingApprovals(db, { orgId: claim.orgId, runIds: [run!.id] }, why);
    await complete(waiting, { status: "ERROR", payload: { ...asObject<ApprovalPayload>(waiting.payload), outcome: "VOID", comment: why } as unknown as Prisma.InputJsonValue });
  }

  /** Spend limits are checked before every model call: a hard limit halts the run ("budget"), a soft one warns once. */
  async function overBudget(): Promise<boolean> {
    const spend = await checkSpend(db, { orgId: claim.orgId, agentId: agent.agentId, userId: run!.onBehalfOfUserId });
    if (spend.blocked) {
      await append({ type: "GUARD", name: "budget", status: "ERROR", payload: { kind: "budget", limit: spend.blocked } as unknown as Prisma.InputJsonValue });
      await finish({ status: "HALTED", haltReason: "budget", error: spend.blocked.message });
      return true;
    }
    for (const warning of spend.warnings) {
      const warned = events.some((e) => e.type === "GUARD" && asObject<{ limit?: { limitId?: string } }>(e.payload).limit?.limitId === warning.limitId);
      if (!warned) await append({ type: "GUARD", name: "budget warning", status: "OK", payload: { kind: "budget_warning", limit: warning } as unknown as Prisma.InputJsonValue });
    }
    return false;
  }

  async function executeTool(intent: TraceEvent, tool: KernelTool, call: ToolCallRequest, idempotencyKey: string): Promise<void> {
    const base = { toolCallId: call.id, tool: tool.modelName, server: tool.serverName, args: call.args, idempotencyKey };
    try {
      const result = await deps.callTool(claim.orgId, tool, call.args, { signal, idempotencyKey });
      const content = redactor.redactText(result.content);
      await complete(intent, {
        status: result.isError ? "ERROR" : "OK",
        payload: {
          ...base,
          result: { content: content.text, isError: result.isError, truncated: result.truncated, bytes: result.bytes },
          ...(content.redactions.length > 0 ? { redactions: content.redactions } : {}),
        } as unknown as Prisma.InputJsonValue,
      });
    } catch (error) {
      if (signal.aborted && signal.reason !== "cancel") return;
      const kind = (error as { kind?: string }).kind ?? "failed";
      await complete(intent, { status: "ERROR", payload: { ...base, error: { kind, message: errorMessage(error) } } as Prisma.InputJsonValue });
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
      await complete(event, { status: "ERROR", payload: { ...asObject<Record<string, unknown>>(event.payload), error: "The worker stopped before the model answered; asked again.", interrupted: true } });
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
      await complete(event, { status: "ERROR", payload: { ...payload, error: { kind: "interrupted", message } } as unknown as Prisma.InputJsonValue });
      await finish({ status: "HALTED", haltReason: "interrupted", error: message });
      return "halt";
    }
    await complete(event, { status: "ERROR", payload: { error: "Interrupted." } });
    return "continue";
  }
}
