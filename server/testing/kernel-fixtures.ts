import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Db } from "../db";
import { createAgent } from "../domain/agents/agents";
import type { ScriptTurn } from "../runtime/models/types";
import { seedDemoTools } from "../domain/tools/seed-demo";
import type { TestOrg } from "./fixtures";

/** A throwaway data folder with the demo tool servers (filesystem sandbox, demo ledger) registered for `org`. */
export async function createDemoToolsFor(db: Db, org: TestOrg) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "sb-kernel-"));
  const report = await seedDemoTools(db, org.orgId, { dataDir });
  const failed = report.servers.filter((s) => !s.ok);
  if (failed.some((s) => s.name === "demo" || s.name === "filesystem")) throw new Error(`demo tools failed: ${JSON.stringify(failed)}`);
  return { dataDir, ledger: path.join(dataDir, "demo-mcp", "ledger.jsonl"), sandbox: path.join(dataDir, "sandbox") };
}

let counter = 0;

/** A scripted agent granted the named tools of the org (by server tool name). */
export async function createScriptedAgent(
  db: Db,
  org: TestOrg,
  options: {
    script: ScriptTurn[];
    tools: string[];
    maxSteps?: number;
    timeoutMs?: number;
    slug?: string;
    priceMicros?: number;
    submitDrafts?: boolean;
    delegateAgentIds?: string[];
    /** Default: no recall at start, no memory tools. */
    memory?: { recallEnabled: boolean; recallTopK: number; remember?: boolean; knowledge?: boolean };
    /** A scripted model with this context window (tokens) instead of the default 8,192. */
    contextWindow?: number;
  },
) {
  counter += 1;
  const modelName = options.contextWindow ? `scripted-${options.contextWindow}` : "scripted";
  const model = await db.modelConfig.upsert({
    where: { orgId_name: { orgId: org.orgId, name: modelName } },
    create: {
      orgId: org.orgId,
      name: modelName,
      provider: "SCRIPTED",
      model: "scripted-v1",
      inputPriceMicros: options.priceMicros ?? 1_000_000,
      outputPriceMicros: 2_000_000,
      ...(options.contextWindow ? { contextWindow: options.contextWindow } : {}),
    },
    update: {},
  });
  const tools = await db.tool.findMany({ where: { orgId: org.orgId, name: { in: options.tools } }, select: { id: true, name: true } });
  const missing = options.tools.filter((name) => !tools.some((t) => t.name === name));
  if (missing.length > 0) throw new Error(`tools not discovered: ${missing.join(", ")}`);
  const saved = await createAgent(db, org.principals.OWNER, {
    name: `Kernel agent ${counter}`,
    slug: options.slug ?? `kernel-agent-${counter}-${Math.random().toString(36).slice(2, 7)}`,
    instructions: "Follow the script.",
    modelConfigId: model.id,
    config: {
      limits: { maxSteps: options.maxSteps ?? 20, maxCostMicros: 0, timeoutMs: options.timeoutMs ?? 600_000 },
      memory: { remember: false, knowledge: false, ...(options.memory ?? { recallEnabled: false, recallTopK: 0 }) },
      script: options.script,
      submitDrafts: options.submitDrafts ?? false,
      delegateAgentIds: options.delegateAgentIds ?? [],
    },
    toolIds: tools.map((t) => t.id),
  });
  return saved;
}

export async function waitForRun(db: Db, runId: string, options: { timeoutMs?: number; until?: (status: string) => boolean } = {}) {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  const until = options.until ?? ((status: string) => ["SUCCEEDED", "FAILED", "CANCELLED", "HALTED"].includes(status));
  for (;;) {
    const run = await db.run.findUniqueOrThrow({ where: { id: runId } });
    if (until(run.status)) return run;
    if (Date.now() > deadline) throw new Error(`run ${runId} still ${run.status} after ${options.timeoutMs ?? 30_000} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
