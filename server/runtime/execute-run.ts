import type { Prisma } from "../generated/prisma/client";
import { appendEvent, completeEvent, finishRun, LeaseLost, type FinalStatus, type TraceWriter } from "../domain/runs/trace";
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
  args: Record<string, unknown>;
  result?: { content: string; isError: boolean };
  error?: { kind: string; message: string };
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
      const content = payload.result ? payload.result.content : `Error: ${payload.error?.message ?? "the tool call failed"}`;
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
    select: { id: true, input: true, agentId: true, agentVersionId: true, onBehalfOfUserId: true, startedAt: true, costMicros: true },
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

  let agent: KernelAgent;
  let tools: KernelTool[];
  try {
    agent = await deps.loadAgent(claim.orgId, run.agentVersionId);
    tools = await deps.loadTools(claim.orgId, run.agentId);
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
    await append({
      type: "RUN_RESUMED",
      name: `by worker ${claim.workerId}`,
      status: "OK",
      payload: {
        workerId: claim.workerId,
        afterSeq: last?.seq ?? 0,
        reason: pending
          ? `The previous worker stopped during step ${pending.seq} (${pending.name ?? pending.type}); continuing from there.`
          : `The previous worker stopped after step ${last?.seq ?? 0}; continuing with the next one.`,
      },
    });
  }
  const startedAt = run.startedAt ?? new Date();
  const { limits } = agent.config;

  try {
    for (;;) {
      if (signal.aborted && signal.reason !== "cancel") return;
      const state = await db.run.findUniqueOrThrow({ where: { id: run.id }, select: { cancelRequestedAt: true } });
      if (state.cancelRequestedAt || signal.reason === "cancel") {
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
        const outcome = await recover(step.event);
        if (outcome === "halt") return;
        continue;
      }
      if (step.kind === "tool") {
        await runTool(step.call);
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
      await complete(intent, {
        status: "OK",
        payload: {
          model: result.model,
          modelConfig: result.modelConfigName,
          usedFallback: result.usedFallback,
          attempts: result.attempts,
          latencyMs: result.latencyMs,
          messageCount: messages.length,
          response: { content: result.content, toolCalls: result.toolCalls },
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

  async function runTool(call: ToolCallRequest): Promise<void> {
    const tool = toolsByName.get(call.name);
    if (!tool) {
      await append({
        type: "TOOL_CALL",
        name: call.name,
        status: "ERROR",
        payload: { toolCallId: call.id, tool: call.name, args: call.args, error: { kind: "not_granted", message: `The tool "${call.name}" is not available to this agent.` } } as Prisma.InputJsonValue,
      });
      return;
    }
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

  async function executeTool(intent: TraceEvent, tool: KernelTool, call: ToolCallRequest, idempotencyKey: string): Promise<void> {
    const base = { toolCallId: call.id, tool: tool.modelName, server: tool.serverName, args: call.args, idempotencyKey };
    try {
      const result = await deps.callTool(claim.orgId, tool, call.args, { signal, idempotencyKey });
      await complete(intent, {
        status: result.isError ? "ERROR" : "OK",
        payload: { ...base, result: { content: result.content, isError: result.isError, truncated: result.truncated, bytes: result.bytes } } as Prisma.InputJsonValue,
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
