import fs from "node:fs";
import path from "node:path";
import type { DbOrTx } from "@/server/db";
import type { ToolRisk } from "@/server/generated/prisma/client";
import { McpClientPool } from "@/server/runtime/mcp/pool";
import type { McpConnector } from "@/server/runtime/mcp/types";
import { appendAudit } from "../audit/audit-log";
import { DEMO_SANDBOX_FILES } from "./demo-sandbox";
import { refreshServer, registerServer, SYSTEM_ACTOR, type RefreshResult } from "./servers";

export interface SeedDemoToolsOptions {
  /** The data folder (SWITCHBOARD_DATA_DIR): the sandbox, the demo ledger and the memory file live under it. */
  dataDir: string;
  /** Where node_modules and mcp-servers/ are; defaults to this checkout. */
  projectRoot?: string;
  /** Defaults to a private pool that is closed before returning, so setup leaves no server processes behind. */
  mcp?: McpConnector;
}

export interface SeedDemoToolsReport {
  servers: { name: string; ok: boolean; error: string | null; tools: number }[];
}

type Classification = { risk: ToolRisk; idempotent: boolean };
const READ: Classification = { risk: "READ", idempotent: true };

/**
 * How the demo's tools are classified on first discovery. Only tools nobody classified yet are touched, so an
 * admin's later decision always wins over the seed.
 */
const CLASSIFICATIONS: Record<string, Record<string, Classification>> = {
  demo: {
    lookup_order: READ,
    read_customer_email: READ,
    // Side effects, yet idempotent: the demo server records each idempotency key once and replays the original
    // result, so re-running an interrupted refund or email after a crash cannot refund or send twice.
    issue_refund: { risk: "WRITE", idempotent: true },
    send_email: { risk: "EXTERNAL", idempotent: true },
  },
  filesystem: {
    read_file: READ,
    read_text_file: READ,
    read_media_file: READ,
    read_multiple_files: READ,
    list_directory: READ,
    list_directory_with_sizes: READ,
    directory_tree: READ,
    search_files: READ,
    get_file_info: READ,
    list_allowed_directories: READ,
    // Writing the same content again, or creating a directory that exists, leaves the same state.
    write_file: { risk: "WRITE", idempotent: true },
    create_directory: { risk: "WRITE", idempotent: true },
    // A second edit or move fails or changes something else: a person decides after a crash.
    edit_file: { risk: "WRITE", idempotent: false },
    move_file: { risk: "WRITE", idempotent: false },
  },
  memory: {
    read_graph: READ,
    search_nodes: READ,
    open_nodes: READ,
    create_entities: { risk: "WRITE", idempotent: false },
    create_relations: { risk: "WRITE", idempotent: false },
    add_observations: { risk: "WRITE", idempotent: false },
    delete_entities: { risk: "WRITE", idempotent: false },
    delete_observations: { risk: "WRITE", idempotent: false },
    delete_relations: { risk: "WRITE", idempotent: false },
  },
  // The protocol test server: only two harmless tools are classified; the rest stay unclassified (not callable).
  everything: { echo: READ, "get-sum": READ },
};

function demoServers(root: string, dataDir: string) {
  const pkg = (name: string) => path.join(root, "node_modules", "@modelcontextprotocol", name, "dist", "index.js");
  const sandbox = path.join(dataDir, "sandbox");
  const ledger = path.join(dataDir, "demo-mcp", "ledger.jsonl");
  const memoryFile = path.join(dataDir, "memory-mcp", "memory.jsonl");
  // Tool servers have no plain (non-secret) environment yet, so the memory server gets its file through env(1).
  const envCommand = fs.existsSync("/usr/bin/env") ? "/usr/bin/env" : "env";
  return {
    sandbox,
    ledger,
    memoryFile,
    servers: [
      {
        name: "demo",
        command: process.execPath,
        args: ["--import", path.join(root, "node_modules", "tsx", "dist", "loader.mjs"), path.join(root, "mcp-servers", "demo", "server.ts"), "--ledger", ledger],
      },
      { name: "filesystem", command: process.execPath, args: [pkg("server-filesystem"), sandbox] },
      { name: "memory", command: envCommand, args: [`MEMORY_FILE_PATH=${memoryFile}`, process.execPath, pkg("server-memory")] },
      { name: "everything", command: process.execPath, args: [pkg("server-everything"), "stdio"] },
    ],
  };
}

/** Writes the sandbox's files that are missing; never overwrites what an agent or a person changed. */
function ensureSandbox(sandbox: string): void {
  fs.mkdirSync(sandbox, { recursive: true });
  for (const [name, content] of Object.entries(DEMO_SANDBOX_FILES)) {
    const file = path.join(sandbox, name);
    if (!fs.existsSync(file)) fs.writeFileSync(file, content);
  }
}

/**
 * Registers the demo organisation's tool servers (idempotent), discovers their tools and classifies the known
 * ones. A server that cannot start is reported and left in ERROR with its reason; it never fails the seed.
 */
export async function seedDemoTools(db: DbOrTx, orgId: string, options: SeedDemoToolsOptions): Promise<SeedDemoToolsReport> {
  const root = path.resolve(options.projectRoot ?? path.resolve(import.meta.dirname, "../../.."));
  const dataDir = path.resolve(options.dataDir);
  const plan = demoServers(root, dataDir);
  ensureSandbox(plan.sandbox);
  fs.mkdirSync(path.dirname(plan.ledger), { recursive: true });
  fs.mkdirSync(path.dirname(plan.memoryFile), { recursive: true });

  const ids: { id: string; name: string }[] = [];
  for (const server of plan.servers) {
    const existing = await db.toolServer.findFirst({ where: { orgId, name: server.name }, select: { id: true, command: true, args: true, status: true } });
    if (!existing) {
      const created = await registerServer(db, orgId, SYSTEM_ACTOR, {
        transport: "STDIO",
        name: server.name,
        command: server.command,
        args: server.args,
        envSecrets: {},
        callTimeoutMs: 30_000,
        maxResultBytes: 262_144,
      });
      ids.push({ id: created.id, name: server.name });
      continue;
    }
    // Absolute paths go stale when the checkout moves or Node is upgraded: keep the seeded servers runnable.
    if (existing.command !== server.command || JSON.stringify(existing.args) !== JSON.stringify(server.args)) {
      await db.toolServer.updateMany({
        where: { id: existing.id, orgId },
        data: { command: server.command, args: server.args, ...(existing.status === "DISABLED" ? {} : { status: "UNKNOWN", lastError: null }) },
      });
      await appendAudit(db, { orgId, action: "toolserver.updated", ...SYSTEM_ACTOR, targetType: "ToolServer", targetId: existing.id, data: { name: server.name, via: "seed" } });
    }
    if (existing.status !== "DISABLED") ids.push({ id: existing.id, name: server.name });
  }

  const pool = options.mcp ?? new McpClientPool();
  let results: RefreshResult[];
  try {
    results = await Promise.all(ids.map(({ id }) => refreshServer(db, orgId, SYSTEM_ACTOR, id, { mcp: pool })));
  } finally {
    if (!options.mcp) await (pool as McpClientPool).closeAll();
  }

  for (const { id, name } of ids) await classifyUnclassified(db, orgId, id, name);
  return {
    servers: results.map((result) => ({
      name: result.server.name,
      ok: result.ok,
      error: result.error,
      tools: result.server.toolCounts.offered,
    })),
  };
}

async function classifyUnclassified(db: DbOrTx, orgId: string, serverId: string, serverName: string): Promise<void> {
  const rules = CLASSIFICATIONS[serverName] ?? {};
  const tools = await db.tool.findMany({ where: { orgId, serverId, risk: null, name: { in: Object.keys(rules) } }, select: { id: true, name: true } });
  if (tools.length === 0) return;
  const classified: Record<string, Classification> = {};
  for (const tool of tools) {
    const rule = rules[tool.name];
    if (!rule) continue;
    // risk: null in the where clause: a concurrent admin classification is never overwritten.
    await db.tool.updateMany({ where: { id: tool.id, orgId, risk: null }, data: rule });
    classified[tool.name] = rule;
  }
  await appendAudit(db, {
    orgId,
    action: "tool.classified",
    ...SYSTEM_ACTOR,
    targetType: "ToolServer",
    targetId: serverId,
    data: { server: serverName, via: "seed", tools: classified as Record<string, { risk: string; idempotent: boolean }> },
  });
}
