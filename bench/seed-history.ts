import crypto from "node:crypto";
import type { Db } from "@/server/db";
import type { Prisma } from "@/server/generated/prisma/client";

/**
 * A realistic month of agent work for one organisation, written straight into the tables (no kernel, no MCP):
 * runs of several agents on several models, each with its trace (model calls, tool calls, policy decisions), one
 * spend entry per completed model call, and the approvals and drafts that the waiting runs wait on.
 *
 * Deterministic for a given `seed` and `now`, so the benchmark's figures compare between machines and commits.
 * Rows go in with createMany in batches: row-by-row inserts on the embedded database take minutes.
 */

export interface SeedHistoryOptions {
  orgId: string;
  /** The member the runs act on behalf of. */
  userId: string;
  runs: number;
  days: number;
  now?: Date;
  seed?: number;
}

export interface SeedHistoryReport {
  runs: number;
  events: number;
  spendEntries: number;
  approvals: number;
  drafts: number;
  /** Runs created in the last 24 hours. */
  runsLast24h: number;
  elapsedMs: number;
}

const MODELS = [
  { name: "gpt-4.1-mini", provider: "OPENAI", model: "gpt-4.1-mini", inputPriceMicros: 400_000, outputPriceMicros: 1_600_000 },
  { name: "claude-sonnet", provider: "ANTHROPIC", model: "claude-sonnet-4-5", inputPriceMicros: 3_000_000, outputPriceMicros: 15_000_000 },
  { name: "gpt-4.1", provider: "OPENAI", model: "gpt-4.1", inputPriceMicros: 2_000_000, outputPriceMicros: 8_000_000 },
  { name: "llama-local", provider: "OLLAMA", model: "llama3.1:8b", inputPriceMicros: 0, outputPriceMicros: 0 },
] as const;

interface ToolProfile {
  name: string;
  /** Chance that a call fails while running. */
  errorRate: number;
  /** Chance that policy or a person refuses it. */
  refusalRate: number;
}

const TOOLS: Record<string, ToolProfile> = {
  lookup_order: { name: "lookup_order", errorRate: 0.02, refusalRate: 0 },
  issue_refund: { name: "issue_refund", errorRate: 0.04, refusalRate: 0.08 },
  search_kb: { name: "search_kb", errorRate: 0.07, refusalRate: 0 },
  read_text_file: { name: "read_text_file", errorRate: 0.03, refusalRate: 0 },
  send_email: { name: "send_email", errorRate: 0.12, refusalRate: 0.05 },
  create_ticket: { name: "create_ticket", errorRate: 0.05, refusalRate: 0 },
  fetch_url: { name: "fetch_url", errorRate: 0.18, refusalRate: 0.02 },
};

const AGENTS = [
  { slug: "support-triage", name: "Support triage", model: "gpt-4.1-mini", tools: ["search_kb", "create_ticket", "lookup_order"], weight: 5 },
  { slug: "refund-desk", name: "Refund desk", model: "claude-sonnet", tools: ["lookup_order", "issue_refund"], weight: 3 },
  { slug: "customer-mailer", name: "Customer mailer", model: "gpt-4.1", tools: ["lookup_order", "send_email"], weight: 2 },
  { slug: "policy-researcher", name: "Policy researcher", model: "claude-sonnet", tools: ["read_text_file", "search_kb", "fetch_url"], weight: 2 },
  { slug: "nightly-digest", name: "Nightly digest", model: "llama-local", tools: ["search_kb", "read_text_file"], weight: 1 },
  { slug: "lead-enricher", name: "Lead enricher", model: "gpt-4.1-mini", tools: ["fetch_url", "create_ticket"], weight: 2 },
] as const;

const TRIGGERS = ["CONSOLE", "API", "API", "SCHEDULE", "WEBHOOK"] as const;
const BATCH = 1_000;

/** mulberry32: a tiny, good-enough deterministic generator. */
function generator(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
    chance: (p: number) => next() < p,
  };
}

type Random = ReturnType<typeof generator>;

/** Ends runs mostly succeed; the rest fail, halt or are cancelled. Recent runs may still be live. */
function pickStatus(random: Random, ageMs: number): Prisma.RunCreateManyInput["status"] {
  if (ageMs < 10 * 60_000) {
    const live = random.next();
    if (live < 0.25) return "RUNNING";
    if (live < 0.35) return "QUEUED";
  }
  if (ageMs < 3 * 86_400_000) {
    const waiting = random.next();
    if (waiting < 0.012) return "WAITING_APPROVAL";
    if (waiting < 0.022) return "WAITING_REVIEW";
  }
  const roll = random.next();
  if (roll < 0.8) return "SUCCEEDED";
  if (roll < 0.9) return "FAILED";
  if (roll < 0.96) return "HALTED";
  return "CANCELLED";
}

async function ensureCatalogue(db: Db, orgId: string) {
  const models = new Map<string, { id: string; model: string; inputPriceMicros: number; outputPriceMicros: number }>();
  for (const spec of MODELS) {
    const row = await db.modelConfig.upsert({
      where: { orgId_name: { orgId, name: spec.name } },
      create: { orgId, ...spec },
      update: {},
      select: { id: true, model: true, inputPriceMicros: true, outputPriceMicros: true },
    });
    models.set(spec.name, row);
  }
  const agents: { id: string; versionId: string; spec: (typeof AGENTS)[number] }[] = [];
  for (const spec of AGENTS) {
    const model = models.get(spec.model);
    if (!model) throw new Error(`unknown model ${spec.model}`);
    const agent = await db.agent.upsert({
      where: { orgId_slug: { orgId, slug: spec.slug } },
      create: { orgId, slug: spec.slug, name: spec.name, description: `Benchmark agent (${spec.tools.join(", ")}).` },
      update: {},
      select: { id: true, currentVersionId: true },
    });
    let versionId = agent.currentVersionId;
    if (!versionId) {
      const version = await db.agentVersion.create({
        data: { orgId, agentId: agent.id, version: 1, instructions: `You are the ${spec.name.toLowerCase()}.`, modelConfigId: model.id, config: {} },
      });
      await db.agent.update({ where: { id: agent.id }, data: { currentVersionId: version.id } });
      versionId = version.id;
    }
    agents.push({ id: agent.id, versionId, spec });
  }
  return { models, agents };
}

export async function seedRunHistory(db: Db, options: SeedHistoryOptions): Promise<SeedHistoryReport> {
  const began = Date.now();
  const now = options.now ?? new Date();
  const random = generator(options.seed ?? 42);
  const { orgId, userId } = options;
  const { models, agents } = await ensureCatalogue(db, orgId);
  const weighted = agents.flatMap((agent) => Array.from({ length: agent.spec.weight }, () => agent));

  const runs: Prisma.RunCreateManyInput[] = [];
  const events: Prisma.RunEventCreateManyInput[] = [];
  const spend: Prisma.SpendEntryCreateManyInput[] = [];
  const approvals: Prisma.ApprovalCreateManyInput[] = [];
  const drafts: Prisma.InboxItemCreateManyInput[] = [];
  let runsLast24h = 0;

  for (let i = 0; i < options.runs; i += 1) {
    const agent = random.pick(weighted);
    const model = models.get(agent.spec.model);
    if (!model) throw new Error(`unknown model ${agent.spec.model}`);
    // Busier recently: squaring the uniform draw puts more runs near `now`.
    const ageMs = Math.floor(random.next() ** 1.6 * options.days * 86_400_000);
    const createdAt = new Date(now.getTime() - ageMs);
    if (ageMs < 86_400_000) runsLast24h += 1;
    const status = pickStatus(random, ageMs);
    const runId = crypto.randomUUID();
    const started = status !== "QUEUED";
    const startedAt = started ? new Date(createdAt.getTime() + random.int(200, 4_000)) : null;

    let seq = 0;
    let clock = startedAt ? startedAt.getTime() : createdAt.getTime();
    let inputTokens = 0;
    let outputTokens = 0;
    let costMicros = 0;
    const event = (data: Omit<Prisma.RunEventCreateManyInput, "orgId" | "runId" | "seq" | "startedAt" | "endedAt"> & { durationMs: number; pending?: boolean }) => {
      const { durationMs, pending, ...rest } = data;
      const id = crypto.randomUUID();
      const startedAtEvent = new Date(clock);
      clock += durationMs;
      events.push({ id, orgId, runId, seq: seq++, startedAt: startedAtEvent, endedAt: pending ? null : new Date(clock), ...rest });
      return id;
    };
    const modelCall = () => {
      const input = random.int(600, 6_000);
      const output = random.int(80, 900);
      const cost = Math.round((input * model.inputPriceMicros + output * model.outputPriceMicros) / 1_000_000);
      const at = clock;
      event({ type: "MODEL_CALL", name: agent.spec.model, status: "OK", inputTokens: input, outputTokens: output, costMicros: cost, payload: { model: model.model, latencyMs: 0 }, durationMs: random.int(400, 9_000) });
      spend.push({ orgId, runId, agentId: agent.id, userId, modelConfigId: model.id, model: model.model, inputTokens: input, outputTokens: output, costMicros: cost, createdAt: new Date(at) });
      inputTokens += input;
      outputTokens += output;
      costMicros += cost;
    };

    let waitingEventId: string | null = null;
    if (started) {
      event({ type: "RUN_STARTED", name: "started", status: "OK", payload: {}, durationMs: 5 });
      const steps = random.int(1, 3);
      for (let step = 0; step < steps; step += 1) {
        modelCall();
        const tool = TOOLS[random.pick(agent.spec.tools)];
        if (!tool) continue;
        const roll = random.next();
        if (roll < tool.refusalRate) {
          event({ type: "POLICY_DECISION", name: `${tool.name}: deny`, status: "ERROR", payload: { tool: tool.name, effect: "DENY" }, durationMs: 3 });
          event({ type: "TOOL_CALL", name: tool.name, status: "ERROR", payload: { tool: tool.name, error: { kind: "denied", message: "Policy denied this call." } }, durationMs: 2 });
        } else {
          event({ type: "POLICY_DECISION", name: `${tool.name}: allow`, status: "OK", payload: { tool: tool.name, effect: "ALLOW" }, durationMs: 3 });
          const failed = roll < tool.refusalRate + tool.errorRate;
          event({
            type: "TOOL_CALL",
            name: tool.name,
            status: failed ? "ERROR" : "OK",
            payload: failed ? { tool: tool.name, error: { kind: "failed", message: "The server answered 502." } } : { tool: tool.name, result: { content: "ok" } },
            durationMs: random.int(50, 4_000),
          });
        }
      }
      if (status === "WAITING_APPROVAL") {
        waitingEventId = event({ type: "APPROVAL", name: "issue_refund", status: "PENDING", payload: { tool: "issue_refund" }, durationMs: 0, pending: true });
      } else if (status === "WAITING_REVIEW") {
        modelCall();
        waitingEventId = event({ type: "DRAFT", name: "email", status: "PENDING", payload: { kind: "EMAIL" }, durationMs: 0, pending: true });
      } else if (status === "SUCCEEDED" || status === "FAILED" || status === "HALTED" || status === "CANCELLED") {
        if (status === "SUCCEEDED") modelCall();
        event({ type: "RUN_FINISHED", name: status.toLowerCase(), status: status === "SUCCEEDED" ? "OK" : "ERROR", payload: { status }, durationMs: 0 });
      }
    }

    const ended = status === "SUCCEEDED" || status === "FAILED" || status === "HALTED" || status === "CANCELLED";
    runs.push({
      id: runId,
      orgId,
      agentId: agent.id,
      agentVersionId: agent.versionId,
      status,
      trigger: random.pick(TRIGGERS),
      onBehalfOfUserId: userId,
      input: `Benchmark request #${i + 1}`,
      output: status === "SUCCEEDED" ? "Done." : null,
      error: status === "FAILED" ? "The model endpoint answered 500." : null,
      haltReason: status === "HALTED" ? random.pick(["budget", "loop", "max_steps"]) : null,
      stepCount: Math.max(0, seq - 2),
      inputTokens,
      outputTokens,
      costMicros,
      createdAt,
      startedAt,
      endedAt: ended ? new Date(Math.max(clock, createdAt.getTime() + 1)) : null,
    });
    if (status === "WAITING_APPROVAL" && waitingEventId) {
      approvals.push({
        orgId,
        runId,
        eventId: waitingEventId,
        toolName: "issue_refund",
        args: { orderId: String(1000 + i), amountUsd: random.int(120, 900) },
        argsHash: crypto.createHash("sha256").update(String(i)).digest("hex"),
        reason: "Refunds over $100 need approval",
        expiresAt: new Date(clock + 7 * 86_400_000),
        createdAt: new Date(clock),
      });
    }
    if (status === "WAITING_REVIEW" && waitingEventId) {
      drafts.push({ orgId, runId, agentId: agent.id, eventId: waitingEventId, kind: "EMAIL", title: `Reply about order ${1000 + i}`, createdAt: new Date(clock) });
    }
  }

  const insert = async <T>(rows: T[], write: (batch: T[]) => Promise<unknown>) => {
    for (let at = 0; at < rows.length; at += BATCH) await write(rows.slice(at, at + BATCH));
  };
  await insert(runs, (data) => db.run.createMany({ data }));
  await insert(events, (data) => db.runEvent.createMany({ data }));
  await insert(spend, (data) => db.spendEntry.createMany({ data }));
  await insert(approvals, (data) => db.approval.createMany({ data }));
  await insert(drafts, (data) => db.inboxItem.createMany({ data }));

  return {
    runs: runs.length,
    events: events.length,
    spendEntries: spend.length,
    approvals: approvals.length,
    drafts: drafts.length,
    runsLast24h,
    elapsedMs: Date.now() - began,
  };
}
