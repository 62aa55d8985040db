import { z } from "zod";
import { inTransaction, type DbOrTx, type Tx } from "@/server/db";
import type { Prisma, ToolServer } from "@/server/generated/prisma/client";
import { ToolCallError, type DiscoveredTool, type McpConnector, type ServerConnectionSpec } from "@/server/runtime/mcp/types";
import { logger } from "@/server/logger";
import { appendAudit, type AuditActorType } from "../audit/audit-log";
import { diffLines, diffStats, type DiffLine } from "../agents/line-diff";
import { canonicalJson, hashCanonical } from "../canonical";
import { Conflict, DomainError, InvalidInput, NotFound } from "../errors";
import { loadGovernanceSettings } from "../governance/settings";
import { checkEgressUrl, EgressUnresolved, type EgressLookup } from "../guards/egress";
import { actorOf, requireScope, type Principal } from "../identity/principal";
import { resolveSecrets, SecretName } from "../secrets/secrets";
import { isUniqueViolation, parseInput } from "./input";

/**
 * Tool servers (MCP "device drivers") and the tools discovered on them.
 *
 * What must stay true:
 * - Every query filters by the principal's orgId; another org's server is NotFound, never Forbidden.
 * - A tool's `definitionHash` is the hash of what the server last said (name, description, inputSchema);
 *   `approvedHash` is what an admin accepted. When they differ the tool is PENDING_REVIEW and not callable: a
 *   server cannot change what a tool does under an agent's feet (rug-pull protection). New tools are approved as
 *   discovered; classification (risk) is still required before policy lets anyone call them. The approved
 *   description and input schema are stored next to `approvedHash`, so a change is reviewed as a diff; approving
 *   binds to the definition hash the reviewer saw (a server changing it again mid-review is a Conflict).
 * - A tool the server stopped offering is DISABLED (kept, with its grants and classification, in case it comes
 *   back); it returns ACTIVE only if its definition still matches the approved hash.
 * - An HTTP server's URL passes the egress guard when it is saved (scheme, IP-address forms, every address its
 *   name resolves to) unless the org's governance allow-list names it; the pool judges it again at every
 *   connection, pinned to the address it judged, so a name that resolved well here cannot rebind later.
 * - Refreshes of one server are serialised by an advisory lock, and the network call happens before the
 *   transaction: no database transaction ever waits on a tool server.
 */

export const TOOL_RISKS = ["READ", "WRITE", "EXTERNAL"] as const;

const ServerName = z
  .string()
  .trim()
  .min(1, "Give the server a name.")
  .max(40, "Keep the name under 40 characters.")
  .regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, "Use lowercase letters, digits and dashes, e.g. “crm” or “order-desk”.");

const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "Environment variable names use letters, digits and underscores.");
const HeaderName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, "Not a valid HTTP header name.");

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
  } catch {
    return false;
  }
}

const Limits = {
  callTimeoutMs: z.number().int().min(1_000, "At least 1 second (1000 ms).").max(600_000, "At most 10 minutes.").default(30_000),
  maxResultBytes: z.number().int().min(1_024, "At least 1 KB (1024 bytes).").max(16 * 1024 * 1024, "At most 16 MB.").default(262_144),
};

const StdioServer = z.object({
  transport: z.literal("STDIO"),
  name: ServerName,
  command: z.string().trim().min(1, "Enter the command that starts the server, e.g. npx or node.").max(1_000),
  args: z.array(z.string().max(4_000, "An argument can be at most 4000 characters.")).max(100, "At most 100 arguments.").default([]),
  envSecrets: z.record(EnvName, SecretName).default({}),
  ...Limits,
});

const HttpServer = z.object({
  transport: z.literal("HTTP"),
  name: ServerName,
  url: z.string().trim().max(2_000).refine(isHttpUrl, "Enter an http:// or https:// URL, e.g. https://mcp.example.com/mcp."),
  headerSecrets: z.record(HeaderName, SecretName).default({}),
  ...Limits,
});

export const RegisterToolServerInput = z.discriminatedUnion("transport", [StdioServer, HttpServer]);
export type RegisterToolServerInput = z.input<typeof RegisterToolServerInput>;
type RegisterToolServer = z.output<typeof RegisterToolServerInput>;

export const UpdateToolServerInput = z.discriminatedUnion("transport", [
  StdioServer.extend({ id: z.string().min(1) }),
  HttpServer.extend({ id: z.string().min(1) }),
]);
export type UpdateToolServerInput = z.input<typeof UpdateToolServerInput>;

export const SetToolServerEnabledInput = z.object({ id: z.string().min(1), enabled: z.boolean() });

export interface ToolActor {
  actorType: AuditActorType;
  actorId?: string | null;
}

export const SYSTEM_ACTOR: ToolActor = { actorType: "SYSTEM", actorId: null };

const serverSelect = {
  id: true,
  name: true,
  transport: true,
  command: true,
  args: true,
  envSecrets: true,
  url: true,
  headerSecrets: true,
  status: true,
  lastError: true,
  lastConnectedAt: true,
  callTimeoutMs: true,
  maxResultBytes: true,
  createdAt: true,
  updatedAt: true,
} as const;

type ServerRow = Prisma.ToolServerGetPayload<{ select: typeof serverSelect }>;

export interface ToolCounts {
  /** Tools the server currently offers (everything but DISABLED). */
  offered: number;
  active: number;
  pendingReview: number;
  unclassified: number;
}

export function asStringRecord(value: unknown): Record<string, string> {
  if (!value || typeof value !== "object" || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === "string"));
}

function present(row: ServerRow, counts: ToolCounts) {
  return { ...row, envSecrets: asStringRecord(row.envSecrets), headerSecrets: asStringRecord(row.headerSecrets), toolCounts: counts };
}

export type ToolServerView = ReturnType<typeof present>;

const NO_TOOLS: ToolCounts = { offered: 0, active: 0, pendingReview: 0, unclassified: 0 };

async function toolCountsBy(db: DbOrTx, orgId: string, serverIds?: string[]): Promise<Map<string, ToolCounts>> {
  const groups = await db.tool.groupBy({
    by: ["serverId", "status", "risk"],
    where: { orgId, ...(serverIds ? { serverId: { in: serverIds } } : {}) },
    _count: { _all: true },
  });
  const counts = new Map<string, ToolCounts>();
  for (const group of groups) {
    const entry = counts.get(group.serverId) ?? { ...NO_TOOLS };
    const n = group._count._all;
    if (group.status !== "DISABLED") entry.offered += n;
    if (group.status === "ACTIVE") entry.active += n;
    if (group.status === "PENDING_REVIEW") entry.pendingReview += n;
    if (group.status !== "DISABLED" && group.risk === null) entry.unclassified += n;
    counts.set(group.serverId, entry);
  }
  return counts;
}

async function serverView(db: DbOrTx, orgId: string, id: string): Promise<ToolServerView> {
  const row = await db.toolServer.findFirst({ where: { id, orgId }, select: serverSelect });
  if (!row) throw new NotFound("Tool server");
  const counts = await toolCountsBy(db, orgId, [id]);
  return present(row, counts.get(id) ?? NO_TOOLS);
}

export async function listToolServers(db: DbOrTx, principal: Principal): Promise<ToolServerView[]> {
  requireScope(principal, "tools:read");
  const [rows, counts] = await Promise.all([
    db.toolServer.findMany({ where: { orgId: principal.orgId }, select: serverSelect, orderBy: { name: "asc" } }),
    toolCountsBy(db, principal.orgId),
  ]);
  return rows.map((row) => present(row, counts.get(row.id) ?? NO_TOOLS));
}

const toolSelect = {
  id: true,
  serverId: true,
  name: true,
  description: true,
  inputSchema: true,
  definitionHash: true,
  approvedHash: true,
  risk: true,
  idempotent: true,
  status: true,
  discoveredAt: true,
  updatedAt: true,
} as const;

export async function getToolServer(db: DbOrTx, principal: Principal, id: string) {
  requireScope(principal, "tools:read");
  const server = await serverView(db, principal.orgId, id);
  const tools = await db.tool.findMany({ where: { orgId: principal.orgId, serverId: id }, select: toolSelect, orderBy: { name: "asc" } });
  return { ...server, tools };
}

/** Every tool of the org with its server's name, e.g. for choosing an agent's tools. */
export async function listTools(db: DbOrTx, principal: Principal) {
  requireScope(principal, "tools:read");
  return db.tool.findMany({
    where: { orgId: principal.orgId },
    select: { ...toolSelect, server: { select: { id: true, name: true, status: true } } },
    orderBy: [{ server: { name: "asc" } }, { name: "asc" }],
  });
}

function columnsOf(input: RegisterToolServer) {
  const common = { name: input.name, callTimeoutMs: input.callTimeoutMs, maxResultBytes: input.maxResultBytes };
  return input.transport === "STDIO"
    ? { ...common, transport: "STDIO" as const, command: input.command, args: input.args, envSecrets: input.envSecrets, url: null, headerSecrets: {} }
    : { ...common, transport: "HTTP" as const, command: null, args: [], envSecrets: {}, url: input.url, headerSecrets: input.headerSecrets };
}

/** Secrets are referenced by name: catch a typo when the server is saved, not when an agent first needs it. */
async function assertSecretsExist(db: DbOrTx, orgId: string, input: RegisterToolServer): Promise<void> {
  const field = input.transport === "STDIO" ? "envSecrets" : "headerSecrets";
  const refs = input.transport === "STDIO" ? input.envSecrets : input.headerSecrets;
  const names = [...new Set(Object.values(refs))];
  if (names.length === 0) return;
  const found = await db.secret.findMany({ where: { orgId, name: { in: names } }, select: { name: true } });
  const missing = names.filter((name) => !found.some((secret) => secret.name === name));
  if (missing.length > 0) {
    const messages = missing.map((name) => `There is no secret named “${name}”. Create it under Secrets first.`);
    throw new InvalidInput(messages[0] ?? "A secret is missing.", { [field]: messages });
  }
}

export interface EgressDeps {
  /** DNS used to judge an HTTP server's host; the system resolver unless a test injects one. */
  lookup?: EgressLookup;
}

/**
 * Refuses an HTTP server at a loopback, private, link-local or metadata address (directly, in any IPv4/IPv6
 * spelling, or by a name resolving to one) unless the org's allow-list names it. A name that does not resolve
 * yet is accepted: nothing can be judged now, and the pool judges every connection anyway.
 */
async function assertEgressAllowed(db: DbOrTx, orgId: string, input: RegisterToolServer, deps: EgressDeps): Promise<void> {
  if (input.transport !== "HTTP") return;
  const { egressAllowHosts } = await loadGovernanceSettings(db, orgId);
  try {
    await checkEgressUrl(input.url, { allowHosts: egressAllowHosts, lookup: deps.lookup });
  } catch (error) {
    if (error instanceof EgressUnresolved) return;
    throw error;
  }
}

const nameTaken = (name: string) =>
  new InvalidInput(`A tool server named “${name}” already exists.`, { name: ["A tool server with this name already exists."] });

export async function registerToolServer(
  db: DbOrTx,
  principal: Principal,
  rawInput: RegisterToolServerInput,
  deps: EgressDeps = {},
): Promise<ToolServerView> {
  requireScope(principal, "tools:manage");
  return registerServer(db, principal.orgId, actorOf(principal), parseInput(RegisterToolServerInput, rawInput), deps);
}

export async function registerServer(
  db: DbOrTx,
  orgId: string,
  actor: ToolActor,
  input: RegisterToolServer,
  deps: EgressDeps = {},
): Promise<ToolServerView> {
  await assertSecretsExist(db, orgId, input);
  await assertEgressAllowed(db, orgId, input, deps);
  try {
    return await inTransaction(db, async (tx) => {
      const existing = await tx.toolServer.findFirst({ where: { orgId, name: input.name }, select: { id: true } });
      if (existing) throw nameTaken(input.name);
      const row = await tx.toolServer.create({ data: { orgId, ...columnsOf(input) }, select: serverSelect });
      await appendAudit(tx, {
        orgId,
        action: "toolserver.registered",
        ...actor,
        targetType: "ToolServer",
        targetId: row.id,
        data: { name: row.name, transport: row.transport },
      });
      return present(row, NO_TOOLS);
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw nameTaken(input.name);
    throw error;
  }
}

/** Replaces a server's configuration. Its status resets to UNKNOWN (unless disabled) until the next refresh. */
export async function updateToolServer(
  db: DbOrTx,
  principal: Principal,
  rawInput: UpdateToolServerInput,
  deps: { mcp?: Pick<McpConnector, "close"> } & EgressDeps = {},
): Promise<ToolServerView> {
  requireScope(principal, "tools:manage");
  const { id, ...input } = parseInput(UpdateToolServerInput, rawInput);
  const orgId = principal.orgId;
  await assertSecretsExist(db, orgId, input);
  await assertEgressAllowed(db, orgId, input, deps);
  try {
    const view = await inTransaction(db, async (tx) => {
      const current = await tx.toolServer.findFirst({ where: { id, orgId }, select: { status: true, name: true } });
      if (!current) throw new NotFound("Tool server");
      const clash = await tx.toolServer.findFirst({ where: { orgId, name: input.name, id: { not: id } }, select: { id: true } });
      if (clash) throw nameTaken(input.name);
      // CAS on the status we read: a concurrent enable/disable wins and this edit is refused, not merged silently.
      const { count } = await tx.toolServer.updateMany({
        where: { id, orgId, status: current.status },
        data: { ...columnsOf(input), status: current.status === "DISABLED" ? "DISABLED" : "UNKNOWN", lastError: null },
      });
      if (count === 0) throw new Conflict("The server changed while you were editing it. Reload and try again.");
      await appendAudit(tx, {
        orgId,
        action: "toolserver.updated",
        ...actorOf(principal),
        targetType: "ToolServer",
        targetId: id,
        data: { name: input.name, previousName: current.name, transport: input.transport },
      });
      return serverView(tx, orgId, id);
    });
    await deps.mcp?.close?.(id);
    return view;
  } catch (error) {
    if (isUniqueViolation(error)) throw nameTaken(input.name);
    throw error;
  }
}

export async function deleteToolServer(db: DbOrTx, principal: Principal, id: string, deps: { mcp?: Pick<McpConnector, "close"> } = {}) {
  requireScope(principal, "tools:manage");
  const orgId = principal.orgId;
  const deleted = await inTransaction(db, async (tx) => {
    const server = await tx.toolServer.findFirst({ where: { id, orgId }, select: { id: true, name: true } });
    if (!server) throw new NotFound("Tool server");
    // Tools and their grants go with it (cascade): agents lose these tools at their next step.
    await tx.toolServer.deleteMany({ where: { id, orgId } });
    await appendAudit(tx, { orgId, action: "toolserver.deleted", ...actorOf(principal), targetType: "ToolServer", targetId: id, data: { name: server.name } });
    return server;
  });
  await deps.mcp?.close?.(id);
  return deleted;
}

/** Disabling takes every tool of the server away from every agent at once, without losing configuration. */
export async function setToolServerEnabled(
  db: DbOrTx,
  principal: Principal,
  input: { id: string; enabled: boolean },
  deps: { mcp?: Pick<McpConnector, "close"> } = {},
): Promise<ToolServerView> {
  requireScope(principal, "tools:manage");
  const orgId = principal.orgId;
  const view = await inTransaction(db, async (tx) => {
    const server = await tx.toolServer.findFirst({ where: { id: input.id, orgId }, select: { name: true } });
    if (!server) throw new NotFound("Tool server");
    const { count } = await tx.toolServer.updateMany({
      where: input.enabled ? { id: input.id, orgId, status: "DISABLED" } : { id: input.id, orgId, status: { not: "DISABLED" } },
      data: input.enabled ? { status: "UNKNOWN", lastError: null } : { status: "DISABLED" },
    });
    if (count === 0) throw new Conflict(`Tool server “${server.name}” is already ${input.enabled ? "enabled" : "disabled"}.`);
    await appendAudit(tx, {
      orgId,
      action: input.enabled ? "toolserver.enabled" : "toolserver.disabled",
      ...actorOf(principal),
      targetType: "ToolServer",
      targetId: input.id,
      data: { name: server.name },
    });
    return serverView(tx, orgId, input.id);
  });
  if (!input.enabled) await deps.mcp?.close?.(input.id);
  return view;
}

/** Builds what the pool needs to reach a server, with its secrets decrypted. Throws InvalidInput for a missing one. */
export async function connectionSpecOf(
  db: DbOrTx,
  orgId: string,
  server: Pick<ToolServer, "id" | "name" | "transport" | "command" | "args" | "envSecrets" | "url" | "headerSecrets" | "callTimeoutMs" | "maxResultBytes">,
  encryptionKey: Buffer | undefined,
): Promise<ServerConnectionSpec> {
  const envRefs = asStringRecord(server.envSecrets);
  const headerRefs = asStringRecord(server.headerSecrets);
  let values: Record<string, string>;
  try {
    values = await resolveSecrets(db, orgId, [...Object.values(envRefs), ...Object.values(headerRefs)], encryptionKey);
  } catch (error) {
    if (error instanceof InvalidInput) throw new InvalidInput(`Tool server “${server.name}” cannot start: ${error.message}`);
    throw error;
  }
  const pick = (refs: Record<string, string>) => Object.fromEntries(Object.entries(refs).map(([key, name]) => [key, values[name] ?? ""]));
  return {
    serverId: server.id,
    name: server.name,
    transport: server.transport,
    command: server.command,
    args: server.args,
    env: pick(envRefs),
    url: server.url,
    headers: pick(headerRefs),
    // The pool judges every HTTP connection against the org's allow-list as it is now, not as it was at registration.
    ...(server.transport === "HTTP" ? { egressAllowHosts: (await loadGovernanceSettings(db, orgId)).egressAllowHosts } : {}),
    callTimeoutMs: server.callTimeoutMs,
    maxResultBytes: server.maxResultBytes,
  };
}

export function toolDefinitionHash(tool: Pick<DiscoveredTool, "name" | "description" | "inputSchema">): string {
  return hashCanonical({ name: tool.name, description: tool.description, inputSchema: tool.inputSchema });
}

export const ApproveToolDefinitionInput = z.object({
  toolId: z.string().min(1),
  /**
   * The definition hash the reviewer looked at. When given, approval fails with Conflict if the server changed the
   * tool again since: nobody approves a definition they have not seen.
   */
  definitionHash: z.string().min(1).optional(),
});
export type ApproveToolDefinitionInput = z.input<typeof ApproveToolDefinitionInput>;

/** JSON with sorted keys, two-space indented: the same schema always prints the same lines, so diffs show content. */
function prettySchema(value: unknown): string {
  return JSON.stringify(JSON.parse(canonicalJson(value ?? null)), null, 2);
}

export interface DefinitionTextDiff {
  changed: boolean;
  added: number;
  removed: number;
  lines: DiffLine[];
}

function textDiff(before: string, after: string): DefinitionTextDiff {
  const lines = diffLines(before, after);
  return { changed: before !== after, ...diffStats(lines), lines };
}

export const DEFINITION_NOT_RECORDED =
  "The previous definition was not recorded: this tool was approved before Switchboard kept approved definitions. Review the current definition in full.";

/**
 * What changed in a tool's definition since it was approved: the approved and current description and input
 * schema, with line diffs (schemas pretty-printed with sorted keys). For a tool approved before approved
 * definitions were recorded, `approved.description` and `approved.inputSchema` are null, the diffs are null and
 * `note` says so.
 */
export async function getToolDefinitionReview(db: DbOrTx, principal: Principal, toolId: string) {
  requireScope(principal, "tools:read");
  const tool = await db.tool.findFirst({
    where: { id: toolId, orgId: principal.orgId },
    select: {
      id: true,
      name: true,
      status: true,
      risk: true,
      updatedAt: true,
      description: true,
      inputSchema: true,
      definitionHash: true,
      approvedHash: true,
      approvedDescription: true,
      approvedInputSchema: true,
      server: { select: { id: true, name: true } },
    },
  });
  if (!tool) throw new NotFound("Tool");
  const recorded = tool.approvedHash !== null && tool.approvedDescription !== null && tool.approvedInputSchema !== null;
  const currentSchema = prettySchema(tool.inputSchema);
  return {
    tool: { id: tool.id, name: tool.name, status: tool.status, risk: tool.risk, updatedAt: tool.updatedAt, server: tool.server },
    /** True when the current definition is not the approved one (the tool is, or would be, held for review). */
    changed: tool.definitionHash !== tool.approvedHash,
    recorded,
    note: recorded ? null : DEFINITION_NOT_RECORDED,
    approved: {
      hash: tool.approvedHash,
      description: recorded ? tool.approvedDescription : null,
      inputSchema: recorded ? prettySchema(tool.approvedInputSchema) : null,
    },
    current: { hash: tool.definitionHash, description: tool.description, inputSchema: currentSchema },
    diff: recorded
      ? {
          description: textDiff(tool.approvedDescription ?? "", tool.description),
          inputSchema: textDiff(prettySchema(tool.approvedInputSchema), currentSchema),
        }
      : null,
  };
}

export type ToolDefinitionReview = Awaited<ReturnType<typeof getToolDefinitionReview>>;

/**
 * Accepts a tool's current definition: it becomes the approved one (hash, description, schema) and the tool is
 * ACTIVE again. Classification is kept; the reviewer should check it still fits.
 */
export async function approveToolDefinition(db: DbOrTx, principal: Principal, rawInput: ApproveToolDefinitionInput) {
  requireScope(principal, "tools:manage");
  const input = parseInput(ApproveToolDefinitionInput, rawInput);
  const orgId = principal.orgId;
  return inTransaction(db, async (tx) => {
    const tool = await tx.tool.findFirst({
      where: { id: input.toolId, orgId },
      select: { id: true, name: true, status: true, description: true, inputSchema: true, definitionHash: true, approvedHash: true, server: { select: { name: true } } },
    });
    if (!tool) throw new NotFound("Tool");
    if (tool.status === "DISABLED") throw new Conflict(`“${tool.name}” is no longer offered by its server; there is no definition to approve.`);
    if (input.definitionHash !== undefined && input.definitionHash !== tool.definitionHash) {
      throw new Conflict(`The server changed “${tool.name}” again while you were reviewing it. Review the new change.`);
    }
    if (tool.status === "ACTIVE" && tool.approvedHash === tool.definitionHash) {
      throw new Conflict(`The current definition of “${tool.name}” is already approved.`);
    }
    const inputSchema = (tool.inputSchema && typeof tool.inputSchema === "object" ? tool.inputSchema : { type: "object" }) as Prisma.InputJsonObject;
    // CAS on the hash read above: a refresh that changed the definition in between makes this a Conflict, not an
    // approval of something nobody saw.
    const { count } = await tx.tool.updateMany({
      where: { id: tool.id, orgId, definitionHash: tool.definitionHash, status: { not: "DISABLED" } },
      data: { approvedHash: tool.definitionHash, approvedDescription: tool.description, approvedInputSchema: inputSchema, status: "ACTIVE" },
    });
    if (count === 0) throw new Conflict(`The server changed “${tool.name}” again while you were reviewing it. Review the new change.`);
    await appendAudit(tx, {
      orgId,
      action: "tool.definition_approved",
      ...actorOf(principal),
      targetType: "Tool",
      targetId: tool.id,
      data: { tool: tool.name, server: tool.server.name, oldHash: tool.approvedHash, newHash: tool.definitionHash },
    });
    return tx.tool.findFirstOrThrow({ where: { id: tool.id, orgId }, select: toolSelect });
  });
}

export interface RefreshResult {
  ok: boolean;
  /** Why the server could not be reached, in plain words; also stored as the server's lastError. */
  error: string | null;
  added: string[];
  /** Tools whose definition changed; unless it changed back to the approved one, they now wait for review. */
  changed: string[];
  removed: string[];
  server: ToolServerView;
}

export interface RefreshDeps {
  mcp: Pick<McpConnector, "listTools">;
  encryptionKey: Buffer;
}

/** Connects, lists the server's tools and brings the Tool rows up to date. Never throws for an unreachable server. */
export async function refreshToolServer(db: DbOrTx, principal: Principal, id: string, deps: RefreshDeps): Promise<RefreshResult> {
  requireScope(principal, "tools:manage");
  return refreshServer(db, principal.orgId, actorOf(principal), id, deps);
}

export async function refreshServer(
  db: DbOrTx,
  orgId: string,
  actor: ToolActor,
  id: string,
  deps: { mcp: Pick<McpConnector, "listTools">; encryptionKey?: Buffer },
): Promise<RefreshResult> {
  const server = await db.toolServer.findFirst({ where: { id, orgId } });
  if (!server) throw new NotFound("Tool server");
  if (server.status === "DISABLED") throw new Conflict(`Tool server “${server.name}” is disabled. Enable it before refreshing.`);
  let discovered: DiscoveredTool[];
  try {
    const spec = await connectionSpecOf(db, orgId, server, deps.encryptionKey);
    discovered = await deps.mcp.listTools(spec);
  } catch (error) {
    const message = reasonOf(server.name, error);
    await db.toolServer.updateMany({ where: { id, orgId, status: { not: "DISABLED" } }, data: { status: "ERROR", lastError: message } });
    return { ok: false, error: message, added: [], changed: [], removed: [], server: await serverView(db, orgId, id) };
  }
  const changes = await inTransaction(db, (tx) => syncTools(tx, orgId, actor, server, discovered));
  return { ok: true, error: null, ...changes, server: await serverView(db, orgId, id) };
}

function reasonOf(serverName: string, error: unknown): string {
  if (error instanceof ToolCallError || error instanceof DomainError) return error.message;
  logger.error("tool server refresh failed unexpectedly", { server: serverName, error });
  return `Could not refresh tool server “${serverName}” because of an internal error. It has been logged.`;
}

async function syncTools(tx: Tx, orgId: string, actor: ToolActor, server: ToolServer, discovered: DiscoveredTool[]) {
  // One refresh of a server at a time: two would both create the same new tools.
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${"toolserver:" + server.id}))`;
  const existing = await tx.tool.findMany({ where: { orgId, serverId: server.id } });
  const byName = new Map(existing.map((tool) => [tool.name, tool]));
  const seen = new Set<string>();
  const added: string[] = [];
  const changed: string[] = [];
  const removed: string[] = [];

  for (const tool of discovered) {
    if (!tool.name || seen.has(tool.name)) continue; // a server listing a name twice: the first wins
    seen.add(tool.name);
    const inputSchema = (tool.inputSchema && typeof tool.inputSchema === "object" ? tool.inputSchema : { type: "object" }) as Prisma.InputJsonObject;
    const definitionHash = toolDefinitionHash({ name: tool.name, description: tool.description, inputSchema });
    const row = byName.get(tool.name);
    if (!row) {
      await tx.tool.create({
        data: {
          orgId,
          serverId: server.id,
          name: tool.name,
          description: tool.description,
          inputSchema,
          definitionHash,
          // The approved definition is recorded with its hash, so a later change can be reviewed as a diff.
          approvedHash: definitionHash,
          approvedDescription: tool.description,
          approvedInputSchema: inputSchema,
          status: "ACTIVE",
        },
      });
      added.push(tool.name);
      continue;
    }
    const approved = definitionHash === row.approvedHash;
    let status = row.status;
    if (row.status === "DISABLED") status = approved ? "ACTIVE" : "PENDING_REVIEW"; // it came back
    else if (!approved) status = "PENDING_REVIEW";
    else if (row.status === "PENDING_REVIEW") status = "ACTIVE"; // changed back to what was approved
    // A tool approved before the approved definition was recorded, still offering exactly that definition:
    // record it now, so its next change can be shown as a diff.
    const backfill = approved && row.approvedDescription === null;
    if (definitionHash !== row.definitionHash || status !== row.status || backfill) {
      await tx.tool.updateMany({
        where: { id: row.id, orgId },
        data: {
          description: tool.description,
          inputSchema,
          definitionHash,
          status,
          ...(backfill ? { approvedDescription: tool.description, approvedInputSchema: inputSchema } : {}),
        },
      });
    }
    if (row.status === "DISABLED") added.push(tool.name);
    else if (definitionHash !== row.definitionHash) changed.push(tool.name);
  }

  const gone = existing.filter((row) => !seen.has(row.name) && row.status !== "DISABLED");
  if (gone.length > 0) {
    await tx.tool.updateMany({ where: { orgId, id: { in: gone.map((row) => row.id) } }, data: { status: "DISABLED" } });
    removed.push(...gone.map((row) => row.name));
  }

  await tx.toolServer.updateMany({
    where: { id: server.id, orgId, status: { not: "DISABLED" } },
    data: { status: "CONNECTED", lastError: null, lastConnectedAt: new Date() },
  });
  if (added.length + changed.length + removed.length > 0) {
    await appendAudit(tx, {
      orgId,
      action: "toolserver.tools_discovered",
      ...actor,
      targetType: "ToolServer",
      targetId: server.id,
      data: { name: server.name, added, changed, removed },
    });
  }
  return { added, changed, removed };
}
