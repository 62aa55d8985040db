import crypto from "node:crypto";
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace, type Attributes, type Context, type Tracer } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { defaultResource, resourceFromAttributes } from "@opentelemetry/resources";
import { AlwaysOnSampler, BatchSpanProcessor, TracerProvider, type IdGenerator, type ReadableSpan, type SpanExporter } from "@opentelemetry/sdk-trace";
import { ATTR_ERROR_TYPE, ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";
import type { Db } from "../db";
import { env } from "../env";
import { logger } from "../logger";

/**
 * Run traces as OpenTelemetry spans (OTLP/HTTP, JSON), following the GenAI semantic conventions:
 *
 *   invoke_agent <agent slug>          the run (exported once it reaches a final status)
 *   ├─ chat <model>                    one per model call: provider, model, token usage
 *   ├─ execute_tool <tool>             one per tool call, with the policy decision(s) as span events
 *   ├─ approval <tool>                 the wait for a person's decision
 *   ├─ delegate <agent slug>           a child run at work; its own invoke_agent span is a child of this one
 *   └─ …                               other steps (memory, drafts, context summaries) by event type
 *
 * Spans are built from the persisted trace with its recorded timestamps, after a worker finished driving the run
 * (ended or parked): the database trace stays the durable record and the export is a copy. Each drive exports the
 * events that ended during it, so a run resumed after an approval adds its later spans to the same trace: trace and
 * span ids derive from the run and event ids (a child run joins its parent's trace). Content capture is off: no
 * prompt, answer, tool argument or tool result is ever put in an attribute.
 */
export interface TracingConfig {
  /** The full OTLP/HTTP traces URL, e.g. http://localhost:4318/v1/traces. */
  url: string;
  serviceName: string;
  headers?: Record<string, string>;
  /** How long the batch processor waits before sending (default 1 s). */
  scheduledDelayMillis?: number;
}

/** OTEL_EXPORTER_OTLP_ENDPOINT (+ /v1/traces, as the OTLP exporter spec says), or null when tracing is off. */
export function tracingConfigFromEnv(): TracingConfig | null {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT) return null;
  return {
    url: `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, "")}/v1/traces`,
    serviceName: env.OTEL_SERVICE_NAME,
    headers: parseOtlpHeaders(env.OTEL_EXPORTER_OTLP_HEADERS),
  };
}

/** `key1=value1,key2=value2` with URL-encoded values, the OTEL_EXPORTER_OTLP_HEADERS format. */
export function parseOtlpHeaders(value: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of (value ?? "").split(",")) {
    const at = pair.indexOf("=");
    if (at <= 0) continue;
    headers[pair.slice(0, at).trim()] = decodeURIComponent(pair.slice(at + 1).trim());
  }
  return headers;
}

const hex = (seed: string, chars: number) => crypto.createHash("sha256").update(seed).digest("hex").slice(0, chars);
/** 32 hex characters; stable for a run, so every export of it (and of its child runs) lands in one trace. */
export const traceIdForRun = (rootRunId: string) => hex(`switchboard:trace:${rootRunId}`, 32);
export const spanIdForRun = (runId: string) => hex(`switchboard:run:${runId}`, 16);
export const spanIdForEvent = (eventId: string) => hex(`switchboard:event:${eventId}`, 16);

/**
 * The SDK asks its IdGenerator for ids synchronously inside startSpan; `next` is set right before each call, so
 * spans get the ids derived from the trace instead of random ones.
 */
class DerivedIds implements IdGenerator {
  private next: { traceId: string; spanId: string } | null = null;

  use(traceId: string, spanId: string): void {
    this.next = { traceId, spanId };
  }

  generateTraceId(): string {
    return this.next?.traceId ?? crypto.randomBytes(16).toString("hex");
  }

  generateSpanId(): string {
    return this.next?.spanId ?? crypto.randomBytes(8).toString("hex");
  }

  clear(): void {
    this.next = null;
  }
}

type ExportCallback = Parameters<SpanExporter["export"]>[1];
/** ExportResultCode.SUCCESS of @opentelemetry/core (not a direct dependency). */
const EXPORT_SUCCESS = 0;

/** Export failures are logged, never thrown: the collector being down must not disturb a run or a worker. */
class LoggingExporter implements SpanExporter {
  constructor(
    private readonly inner: SpanExporter,
    private readonly url: string,
  ) {}

  export(spans: ReadableSpan[], resultCallback: ExportCallback): void {
    this.inner.export(spans, (result) => {
      if ((result.code as number) !== EXPORT_SUCCESS) {
        logger.warn("exporting run traces failed; the spans are dropped (the run's trace stays in the database)", {
          url: this.url,
          spans: spans.length,
          error: result.error?.message,
        });
      }
      resultCallback(result);
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

const TERMINAL = new Set(["SUCCEEDED", "FAILED", "CANCELLED", "HALTED"]);
/** Providers as the GenAI conventions name them (gen_ai.provider.name); ours are lower-cased otherwise. */
const PROVIDER_NAMES: Record<string, string> = { OPENAI: "openai", ANTHROPIC: "anthropic", OLLAMA: "ollama", SCRIPTED: "switchboard.scripted" };

interface StoredEvent {
  id: string;
  seq: number;
  type: string;
  name: string;
  status: string;
  payload: unknown;
  startedAt: Date;
  endedAt: Date | null;
  inputTokens: number;
  outputTokens: number;
  costMicros: number;
}

interface EventPayload {
  toolCallId?: string;
  tool?: string;
  server?: string;
  builtin?: boolean;
  model?: string;
  modelConfig?: string;
  usedFallback?: boolean;
  attempts?: number;
  interrupted?: boolean;
  result?: { isError?: boolean; bytes?: number; truncated?: boolean };
  error?: { kind?: string } | string | null;
  effect?: string;
  policyId?: string | null;
  policyName?: string | null;
  untrustedContentSeen?: boolean;
  approvalId?: string;
  outcome?: string | { status?: string } | null;
  childRunId?: string;
  agentSlug?: string;
  kind?: string;
  scope?: string;
  memoryId?: string;
  method?: string;
  tokensBefore?: number;
  tokensAfter?: number;
  workerId?: string;
  afterSeq?: number;
  haltReason?: string | null;
  memories?: unknown[];
}

const payloadOf = (event: StoredEvent) => (event.payload ?? {}) as EventPayload;

export class RunTraceExporter {
  private readonly ids = new DerivedIds();
  private readonly provider: TracerProvider;
  private readonly tracer: Tracer;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly db: Db,
    config: TracingConfig,
  ) {
    const exporter = new LoggingExporter(new OTLPTraceExporter({ url: config.url, headers: config.headers ?? {}, timeoutMillis: 5_000 }), config.url);
    this.provider = new TracerProvider({
      resource: defaultResource().merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName })),
      idGenerator: this.ids,
      sampler: new AlwaysOnSampler(),
      spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: config.scheduledDelayMillis ?? 1_000 })],
    });
    this.tracer = this.provider.getTracer("switchboard");
  }

  /** Called when a worker let go of a run: exports in the background, logging (never throwing) any failure. */
  exportInBackground(run: { runId: string; orgId: string; since: Date }): void {
    const task = this.exportRun(run).catch((error: unknown) => logger.warn("could not build a run's trace for export", { runId: run.runId, error }));
    this.pending.add(task);
    void task.finally(() => this.pending.delete(task));
  }

  /** Waits for builds under way and sends every queued span. */
  async flush(): Promise<void> {
    await Promise.all([...this.pending]);
    await this.provider.forceFlush();
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.pending]);
    await this.provider.shutdown();
  }

  /** Spans for the events that ended since `since` (this worker's drive), and the run's own span once it ended. */
  async exportRun({ runId, orgId, since }: { runId: string; orgId: string; since: Date }): Promise<void> {
    const run = await this.db.run.findFirst({
      where: { id: runId, orgId },
      select: {
        id: true,
        status: true,
        trigger: true,
        parentRunId: true,
        agentId: true,
        agentVersionId: true,
        createdAt: true,
        startedAt: true,
        endedAt: true,
        haltReason: true,
        inputTokens: true,
        outputTokens: true,
        costMicros: true,
        agent: { select: { slug: true } },
      },
    });
    if (!run) return;
    const events: StoredEvent[] = await this.db.runEvent.findMany({
      where: { runId, orgId },
      orderBy: { seq: "asc" },
      select: { id: true, seq: true, type: true, name: true, status: true, payload: true, startedAt: true, endedAt: true, inputTokens: true, outputTokens: true, costMicros: true },
    });
    const ended = events.filter((e) => e.status !== "PENDING" && e.endedAt !== null && e.endedAt >= since);
    const finished = TERMINAL.has(run.status);
    if (ended.length === 0 && !finished) return;

    const { rootRunId, parentSpanId } = await this.lineage(run.id, run.parentRunId, orgId);
    const traceId = traceIdForRun(rootRunId);
    const runSpanId = spanIdForRun(run.id);
    const providers = await this.providersByConfig(orgId, events);
    const underRun = trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId: runSpanId, traceFlags: TraceFlags.SAMPLED, isRemote: false });
    const policyEvents = events.filter((e) => e.type === "POLICY_DECISION");

    for (const event of ended) {
      const span = this.spanForEvent(event, providers);
      if (!span) continue;
      const started = this.start(traceId, spanIdForEvent(event.id), span.name, { kind: span.kind, startTime: event.startedAt, attributes: span.attributes }, underRun);
      const callId = payloadOf(event).toolCallId;
      if (callId && (event.type === "TOOL_CALL" || event.type === "APPROVAL")) {
        for (const decision of policyEvents.filter((p) => payloadOf(p).toolCallId === callId && p.seq < event.seq)) {
          const decided = payloadOf(decision);
          started.addEvent(
            "switchboard.policy.decision",
            compact({ "switchboard.policy.effect": decided.effect, "switchboard.policy.id": decided.policyId, "switchboard.policy.name": decided.policyName, "switchboard.policy.untrusted_content_seen": decided.untrustedContentSeen }),
            decision.startedAt,
          );
        }
      }
      if (span.error) started.setStatus({ code: SpanStatusCode.ERROR, message: span.error });
      started.end(event.endedAt ?? event.startedAt);
    }

    if (!finished) return;
    const first = events[0]?.startedAt ?? run.startedAt ?? run.createdAt;
    const last = events[events.length - 1]?.endedAt ?? run.endedAt ?? new Date();
    const startTime = run.startedAt && run.startedAt < first ? run.startedAt : first;
    const endTime = run.endedAt && run.endedAt > last ? run.endedAt : last;
    const parent = parentSpanId ? trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId: parentSpanId, traceFlags: TraceFlags.SAMPLED, isRemote: false }) : ROOT_CONTEXT;
    const root = this.start(
      traceId,
      runSpanId,
      `invoke_agent ${run.agent.slug}`,
      {
        kind: SpanKind.INTERNAL,
        startTime,
        attributes: compact({
          "gen_ai.operation.name": "invoke_agent",
          "gen_ai.agent.name": run.agent.slug,
          "gen_ai.agent.id": run.agentId,
          "gen_ai.agent.version": run.agentVersionId,
          "gen_ai.usage.input_tokens": run.inputTokens,
          "gen_ai.usage.output_tokens": run.outputTokens,
          "switchboard.run.id": run.id,
          "switchboard.run.status": run.status,
          "switchboard.run.trigger": run.trigger,
          "switchboard.run.parent_id": run.parentRunId,
          "switchboard.run.cost_usd": run.costMicros / 1e6,
          "switchboard.run.halt_reason": run.haltReason,
          "switchboard.org.id": orgId,
          [ATTR_ERROR_TYPE]: run.status === "FAILED" ? "run_failed" : run.status === "HALTED" ? (run.haltReason ?? "halted") : undefined,
        }),
      },
      parent,
    );
    for (const event of events) {
      const attributes = this.runLevelEvent(event);
      if (attributes) root.addEvent(attributes.name, attributes.attributes, event.startedAt);
    }
    if (run.status === "SUCCEEDED") root.setStatus({ code: SpanStatusCode.OK });
    // Only words Switchboard chose: the run's error text may quote a model or a tool.
    else if (run.status === "FAILED" || run.status === "HALTED") root.setStatus({ code: SpanStatusCode.ERROR, message: run.status === "FAILED" ? "the run failed" : `halted: ${run.haltReason ?? "unknown"}` });
    root.end(endTime);
  }

  private start(traceId: string, spanId: string, name: string, options: { kind: SpanKind; startTime: Date; attributes: Attributes }, parent: Context) {
    // Synchronous from here to startSpan: no other span can take these ids.
    this.ids.use(traceId, spanId);
    try {
      return this.tracer.startSpan(name, options, parent);
    } finally {
      this.ids.clear();
    }
  }

  /** The run at the top of a delegation tree (its trace), and the parent's delegation span for a child run. */
  private async lineage(runId: string, parentRunId: string | null, orgId: string): Promise<{ rootRunId: string; parentSpanId: string | null }> {
    if (!parentRunId) return { rootRunId: runId, parentSpanId: null };
    const delegation = await this.db.runEvent.findFirst({
      where: { runId: parentRunId, orgId, type: "DELEGATION", payload: { path: ["childRunId"], equals: runId } },
      select: { id: true },
    });
    let rootRunId = parentRunId;
    // Delegation depth is capped (MAX_DELEGATION_DEPTH), so this walk is short.
    for (let hops = 0; hops < 10; hops++) {
      const up = await this.db.run.findFirst({ where: { id: rootRunId, orgId }, select: { parentRunId: true } });
      if (!up?.parentRunId) break;
      rootRunId = up.parentRunId;
    }
    return { rootRunId, parentSpanId: delegation ? spanIdForEvent(delegation.id) : spanIdForRun(parentRunId) };
  }

  private async providersByConfig(orgId: string, events: StoredEvent[]): Promise<Map<string, { provider: string; model: string }>> {
    const names = new Set<string>();
    for (const event of events) {
      if (event.type !== "MODEL_CALL") continue;
      names.add(event.name);
      const used = payloadOf(event).modelConfig;
      if (used) names.add(used);
    }
    if (names.size === 0) return new Map();
    const configs = await this.db.modelConfig.findMany({ where: { orgId, name: { in: [...names] } }, select: { name: true, provider: true, model: true } });
    return new Map(configs.map((c) => [c.name, { provider: PROVIDER_NAMES[c.provider] ?? c.provider.toLowerCase(), model: c.model }]));
  }

  private spanForEvent(event: StoredEvent, providers: Map<string, { provider: string; model: string }>): { name: string; kind: SpanKind; attributes: Attributes; error?: string } | null {
    const payload = payloadOf(event);
    const failed = event.status === "ERROR";
    const errorKind = payload.error && typeof payload.error === "object" ? payload.error.kind : undefined;
    switch (event.type) {
      case "MODEL_CALL": {
        const requested = providers.get(event.name);
        const used = providers.get(payload.modelConfig ?? event.name) ?? requested;
        const requestModel = requested?.model ?? payload.model ?? event.name;
        const errorType = failed ? (payload.interrupted ? "interrupted" : "model_error") : undefined;
        return {
          name: `chat ${requestModel}`,
          kind: SpanKind.CLIENT,
          attributes: compact({
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": used?.provider,
            "gen_ai.request.model": requestModel,
            "gen_ai.response.model": failed ? undefined : payload.model,
            "gen_ai.usage.input_tokens": failed ? undefined : event.inputTokens,
            "gen_ai.usage.output_tokens": failed ? undefined : event.outputTokens,
            "switchboard.model.config": event.name,
            "switchboard.model.used_fallback": payload.usedFallback,
            "switchboard.model.attempts": payload.attempts,
            "switchboard.model.cost_usd": event.costMicros / 1e6,
            "switchboard.event.seq": event.seq,
            [ATTR_ERROR_TYPE]: errorType,
          }),
          error: errorType,
        };
      }
      case "TOOL_CALL": {
        const errorType = failed ? (errorKind ?? (payload.result?.isError ? "tool_error" : "failed")) : undefined;
        const tool = payload.tool ?? event.name;
        return {
          name: `execute_tool ${tool}`,
          kind: SpanKind.INTERNAL,
          attributes: compact({
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": tool,
            "gen_ai.tool.call.id": payload.toolCallId,
            // MCP tools extend the agent from outside; built-ins (drafts, delegation, memory) are our own functions.
            "gen_ai.tool.type": payload.builtin || payload.server === "switchboard" ? "function" : "extension",
            "switchboard.tool.server": payload.server,
            "switchboard.tool.result_bytes": payload.result?.bytes,
            "switchboard.tool.result_truncated": payload.result?.truncated,
            "switchboard.event.seq": event.seq,
            [ATTR_ERROR_TYPE]: errorType,
          }),
          error: errorType,
        };
      }
      case "APPROVAL":
        return {
          name: `approval ${payload.tool ?? event.name}`,
          kind: SpanKind.INTERNAL,
          attributes: compact({
            "gen_ai.tool.name": payload.tool ?? event.name,
            "gen_ai.tool.call.id": payload.toolCallId,
            "switchboard.approval.id": payload.approvalId,
            "switchboard.approval.outcome": typeof payload.outcome === "string" ? payload.outcome : undefined,
            "switchboard.policy.id": payload.policyId,
            "switchboard.event.seq": event.seq,
          }),
        };
      case "DELEGATION": {
        const outcome = payload.outcome && typeof payload.outcome === "object" ? payload.outcome.status : undefined;
        return {
          name: `delegate ${payload.agentSlug ?? "agent"}`,
          kind: SpanKind.INTERNAL,
          attributes: compact({
            "gen_ai.tool.call.id": payload.toolCallId,
            "switchboard.delegation.agent": payload.agentSlug,
            "switchboard.delegation.child_run_id": payload.childRunId,
            "switchboard.delegation.outcome": outcome,
            "switchboard.event.seq": event.seq,
          }),
          error: failed ? `child run ${outcome?.toLowerCase() ?? "did not finish"}` : undefined,
        };
      }
      case "MEMORY_WRITE":
        return {
          name: "remember",
          kind: SpanKind.INTERNAL,
          attributes: compact({ "gen_ai.tool.call.id": payload.toolCallId, "switchboard.memory.kind": payload.kind, "switchboard.memory.scope": payload.scope, "switchboard.memory.id": payload.memoryId, "switchboard.event.seq": event.seq }),
          error: failed ? "memory_write_failed" : undefined,
        };
      case "DRAFT":
        // The draft's title and body are content: only the outcome is exported.
        return {
          name: "review draft",
          kind: SpanKind.INTERNAL,
          attributes: compact({ "gen_ai.tool.call.id": payload.toolCallId, "switchboard.draft.outcome": typeof payload.outcome === "string" ? payload.outcome : undefined, "switchboard.event.seq": event.seq }),
        };
      case "CONTEXT_SUMMARY":
        return {
          name: "summarise_context",
          kind: SpanKind.INTERNAL,
          attributes: compact({ "switchboard.context.method": payload.method, "switchboard.context.tokens_before": payload.tokensBefore, "switchboard.context.tokens_after": payload.tokensAfter, "switchboard.event.seq": event.seq }),
        };
      default:
        // Run-level events (start, resume, finish, guards, memory reads, policy decisions) are span events instead.
        return null;
    }
  }

  private runLevelEvent(event: StoredEvent): { name: string; attributes: Attributes } | null {
    const payload = payloadOf(event);
    switch (event.type) {
      case "RUN_STARTED":
        return { name: "switchboard.run.started", attributes: compact({ "switchboard.worker.id": payload.workerId }) };
      case "RUN_RESUMED":
        return { name: "switchboard.run.resumed", attributes: compact({ "switchboard.worker.id": payload.workerId, "switchboard.run.after_seq": payload.afterSeq }) };
      case "RUN_FINISHED":
        return { name: "switchboard.run.finished", attributes: compact({ "switchboard.run.status": event.name, "switchboard.run.halt_reason": payload.haltReason }) };
      case "GUARD":
        return { name: "switchboard.guard", attributes: compact({ "switchboard.guard.kind": payload.kind, "switchboard.guard.blocked": event.status === "ERROR", "gen_ai.tool.name": payload.tool }) };
      case "MEMORY_READ":
        return { name: "switchboard.memory.read", attributes: compact({ "switchboard.memory.count": payload.memories?.length ?? 0, "gen_ai.tool.call.id": payload.toolCallId }) };
      case "ERROR":
        return { name: "switchboard.error", attributes: {} };
      default:
        return null;
    }
  }
}

/** Attributes without the unset ones (OpenTelemetry drops undefined values with a warning). */
function compact(attributes: Record<string, string | number | boolean | null | undefined>): Attributes {
  const out: Attributes = {};
  for (const [key, value] of Object.entries(attributes)) if (value !== undefined && value !== null) out[key] = value;
  return out;
}
