import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Db } from "@/server/db";
import { createRun } from "@/server/domain/runs/runs";
import { createKernelDeps } from "@/server/runtime/deps";
import type { KernelDeps } from "@/server/runtime/kernel-deps";
import { McpClientPool } from "@/server/runtime/mcp/pool";
import type { ScriptTurn } from "@/server/runtime/models/types";
import { createTestOrg, type TestOrg } from "@/server/testing/fixtures";
import { createDemoToolsFor, createScriptedAgent } from "@/server/testing/kernel-fixtures";

/** Size of what each tool call returns: a file of this many bytes read through the real filesystem MCP server. */
export const TOOL_OUTPUT_BYTES = 1024;

/**
 * A key for the runs' encrypted settings, the same in the bench process and in the worker processes it starts (via
 * SWITCHBOARD_ENCRYPTION_KEY), so nothing depends on a secrets file in some data folder.
 */
export const BENCH_ENCRYPTION_KEY_HEX = crypto.createHash("sha256").update("switchboard-bench").digest("hex");
export const BENCH_ENCRYPTION_KEY = Buffer.from(BENCH_ENCRYPTION_KEY_HEX, "hex");

export interface KernelBenchSetup {
  org: TestOrg;
  agentSlug: string;
  /** The same agent with an instant model, to warm processes up before a timed case. */
  warmUpAgentSlug: string;
  dataDir: string;
  sandbox: string;
  steps: number;
}

/**
 * An organisation with the demo tool servers registered (real MCP servers over stdio) and a scripted agent of
 * `steps` steps: each step the model proposes one read_text_file call of a different 1 KB file (different, or the
 * loop guard would rightly stop it), then it answers. `delayMs` is the scripted model's latency on each of the
 * `steps` tool-proposing turns; the final answer comes at once, so a run's ideal duration is steps × delayMs.
 */
export async function setUpKernelBench(db: Db, options: { steps: number; delayMs: number; label?: string }): Promise<KernelBenchSetup> {
  const org = await createTestOrg(db, options.label ?? "bench");
  const demo = await createDemoToolsFor(db, org);
  const script: ScriptTurn[] = [];
  const instant: ScriptTurn[] = [];
  for (let step = 0; step < options.steps; step += 1) {
    const file = path.join(demo.sandbox, `bench-step-${step}.txt`);
    const line = `step ${step}: `;
    fs.writeFileSync(file, line + "x".repeat(TOOL_OUTPUT_BYTES - line.length));
    script.push({ tool: "read_text_file", args: { path: file }, ...(options.delayMs > 0 ? { delayMs: options.delayMs } : {}) });
    instant.push({ tool: "read_text_file", args: { path: file } });
  }
  script.push({ final: `Read ${options.steps} files.` });
  instant.push({ final: `Read ${options.steps} files.` });
  const agent = await createScriptedAgent(db, org, { script, tools: ["read_text_file"], maxSteps: options.steps + 5 });
  const warmUp = await createScriptedAgent(db, org, { script: instant, tools: ["read_text_file"], maxSteps: options.steps + 5 });
  return { org, agentSlug: agent.slug, warmUpAgentSlug: warmUp.slug, dataDir: demo.dataDir, sandbox: demo.sandbox, steps: options.steps };
}

/** Queues one run of the bench agent through the same domain function the API and console use. */
export async function queueBenchRun(db: Db, setup: KernelBenchSetup, input = "Read the files.", agentSlug = setup.agentSlug): Promise<string> {
  const run = await createRun(db, setup.org.principals.OWNER, { agent: agentSlug, input });
  return run.id;
}

/**
 * Queues `count` runs at one instant: one through createRun (the domain function the API uses), the rest copied from
 * it in a single INSERT, so they all become runnable in the same commit and "runnable → started" is measured from
 * the same moment for each.
 */
export async function queueBenchRuns(db: Db, setup: KernelBenchSetup, count: number, agentSlug = setup.agentSlug): Promise<string[]> {
  const template = await queueBenchRun(db, setup, "Read the files.", agentSlug);
  if (count === 1) return [template];
  const rows = await db.$queryRaw<{ id: string }[]>`
    INSERT INTO runs (id, org_id, agent_id, agent_version_id, status, trigger, on_behalf_of_user_id, created_by_user_id, input, created_at, updated_at)
    SELECT 'bench' || md5(random()::text || n::text), org_id, agent_id, agent_version_id, 'QUEUED', trigger, on_behalf_of_user_id, created_by_user_id, input, now(), now()
      FROM runs, generate_series(1, ${count - 1}::int) AS n
     WHERE id = ${template}
    RETURNING id`;
  // The template was created a moment earlier: make it runnable at the same instant as the copies.
  await db.$executeRaw`UPDATE runs SET created_at = now() WHERE id = ${template}`;
  return [template, ...rows.map((row) => row.id)];
}

/** Time spent inside the model and inside tools, summed over the calls made since the last reset. */
export interface TimeInside {
  modelMs: number;
  toolMs: number;
  modelCalls: number;
  toolCalls: number;
}

/**
 * The production kernel wiring (createKernelDeps: agents and tools from the database, the model gateway, the MCP
 * client pool) with a stopwatch at the two boundaries the kernel does not own: the model call and the tool call.
 */
export function timedKernelDeps(db: Db): { deps: KernelDeps; inside: TimeInside; reset(): void; close(): Promise<void> } {
  const pool = new McpClientPool();
  const base = createKernelDeps(db, { pool, encryptionKey: BENCH_ENCRYPTION_KEY });
  const inside: TimeInside = { modelMs: 0, toolMs: 0, modelCalls: 0, toolCalls: 0 };
  const deps: KernelDeps = {
    ...base,
    async callModel(primary, fallback, input) {
      const start = process.hrtime.bigint();
      try {
        return await base.callModel(primary, fallback, input);
      } finally {
        inside.modelMs += Number(process.hrtime.bigint() - start) / 1e6;
        inside.modelCalls += 1;
      }
    },
    async callTool(orgId, tool, args, options) {
      const start = process.hrtime.bigint();
      try {
        return await base.callTool(orgId, tool, args, options);
      } finally {
        inside.toolMs += Number(process.hrtime.bigint() - start) / 1e6;
        inside.toolCalls += 1;
      }
    },
  };
  return {
    deps,
    inside,
    reset() {
      inside.modelMs = 0;
      inside.toolMs = 0;
      inside.modelCalls = 0;
      inside.toolCalls = 0;
    },
    close: async () => {
      await base.close();
      await pool.closeAll();
    },
  };
}

/**
 * Claims a queued run for `workerId` with the same statement shape a Worker uses (RUNNING under a lease), so
 * executeRun can drive it directly without the worker's polling in the measurement.
 */
export async function claimForBench(db: Db, runId: string, workerId: string): Promise<void> {
  const claimed = await db.$executeRaw`
    UPDATE runs SET status = 'RUNNING', lease_owner = ${workerId}, lease_until = now() + interval '5 minutes',
           started_at = COALESCE(started_at, now()), updated_at = now()
     WHERE id = ${runId} AND status = 'QUEUED'`;
  if (claimed !== 1) throw new Error(`Run ${runId} was not queued, so the bench could not claim it.`);
}
