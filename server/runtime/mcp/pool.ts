import type { ChildProcess } from "node:child_process";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport, StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { ErrorCode, McpError, type CallToolResult, type Tool as McpTool } from "@modelcontextprotocol/sdk/types.js";
import { hashCanonical } from "@/server/domain/canonical";
import { createEgressFetch, type EgressFetch } from "@/server/domain/guards/egress-fetch";
import { EgressRefused, type EgressLookup } from "@/server/domain/guards/egress";
import { logger } from "@/server/logger";
import {
  ToolCallError,
  type DiscoveredTool,
  type McpConnector,
  type ServerConnectionSpec,
  type ToolCallErrorKind,
  type ToolCallOptions,
  type ToolCallOutcome,
} from "./types";

export {
  ToolCallError,
  type DiscoveredTool,
  type McpConnector,
  type ServerConnectionSpec,
  type ToolAnnotations,
  type ToolCallErrorKind,
  type ToolCallOptions,
  type ToolCallOutcome,
} from "./types";

/**
 * The MCP client pool: one live connection (for stdio, one child process) per tool server, shared by every caller
 * in this process.
 *
 * What must stay true:
 * - At most one connection per serverId. Concurrent first calls share one connect promise; a connection whose
 *   process exited or whose transport closed is forgotten at once, and the next call starts a new one.
 * - A spec that changed (command, args, env, url, headers: e.g. an admin edit or a rotated secret) replaces the
 *   connection; in-flight calls on the old one finish or fail on their own.
 * - Every call is bounded: a timeout or an abort cancels the request (the server gets `notifications/cancelled`),
 *   and a server that then does not answer a ping is stopped, so a hung server costs one process, never the pool.
 * - Nothing escapes as an unhandled rejection: every SDK promise either feeds a caller or has a handler.
 * - HTTP servers are reached only through the egress guard: every request's host is judged against the org's
 *   allow-list (`spec.egressAllowHosts`) and the socket connects to the address that was judged, so DNS rebinding
 *   and redirects cannot reach loopback, private or metadata addresses. A refusal is a "connect" error.
 * - Results are bounded twice: the transport refuses any single message over `messageLimitBytes` (so a runaway
 *   server cannot exhaust memory) and the outcome is cut to the server's `maxResultBytes`.
 */

export const IDEMPOTENCY_META_KEY = "switchboard/idempotencyKey";

export interface McpClientPoolOptions {
  /** How long a server may take to start and answer `initialize`. */
  connectTimeoutMs?: number;
  /** After a call times out, the server must answer a ping within this long or it is stopped. */
  probeTimeoutMs?: number;
  /** A connection unused for this long is closed (its process stopped); the next call reconnects. */
  idleTimeoutMs?: number;
  /** How HTTP servers' host names are resolved before they are judged; the system resolver unless a test injects one. */
  lookup?: EgressLookup;
}

const DEFAULTS: Required<Omit<McpClientPoolOptions, "lookup">> = {
  connectTimeoutMs: 20_000,
  probeTimeoutMs: 5_000,
  idleTimeoutMs: 10 * 60_000,
};

const MIB = 1024 * 1024;
const STDERR_TAIL_BYTES = 4096;
const CLIENT_INFO = { name: "switchboard", version: "0.1.0" };

/** The largest single message accepted from a server: generous next to maxResultBytes, but never unbounded. */
export function messageLimitBytes(maxResultBytes: number): number {
  return Math.min(64 * MIB, Math.max(8 * MIB, 4 * maxResultBytes));
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const seconds = ms / 1000;
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} s`;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < MIB) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / MIB).toFixed(1)} MB`;
}

/**
 * Fingerprints already computed, per spec object: a run's tools (and their specs) are loaded once and used for every
 * call it makes, and hashing the spec on every call was a visible share of a busy worker's CPU. Specs are not mutated
 * after they are built (an edit loads a new one).
 */
const fingerprints = new WeakMap<ServerConnectionSpec, string>();

/** The parts of a spec that identify a connection: when any of them changes, the old connection is replaced. */
function fingerprintOf(spec: ServerConnectionSpec): string {
  let fingerprint = fingerprints.get(spec);
  if (fingerprint === undefined) {
    fingerprint = computeFingerprint(spec);
    fingerprints.set(spec, fingerprint);
  }
  return fingerprint;
}

function computeFingerprint(spec: ServerConnectionSpec): string {
  return hashCanonical({
    transport: spec.transport,
    command: spec.command ?? null,
    args: spec.args,
    env: spec.env,
    cwd: spec.cwd ?? null,
    url: spec.url ?? null,
    headers: spec.headers,
    maxResultBytes: spec.maxResultBytes,
    // An admin removing a host from the allow-list must end the connection that relied on it.
    egressAllowHosts: spec.transport === "HTTP" ? [...(spec.egressAllowHosts ?? [])].sort() : null,
  });
}

/** StdioClientTransport that also reports how its process ended (the SDK only says "closed"). */
class ObservedStdioTransport extends StdioClientTransport {
  exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;

  override async start(): Promise<void> {
    await super.start();
    // The SDK keeps the ChildProcess private; we only read its exit status (pinned SDK 1.32.2).
    const child = (this as unknown as { _process?: ChildProcess })._process;
    child?.once("exit", (code, signal) => {
      this.exit = { code, signal };
    });
    // One server serves every run of the process: under load many calls wait for its stdin to drain at once (the
    // SDK adds a 'drain' listener per waiting message). That is expected, not a leak, so no warning past ten.
    child?.stdin?.setMaxListeners(0);
  }
}

type Phase = "connect" | "call";

class Connection {
  readonly openedAt = Date.now();
  closed = false;
  /** The first fatal problem (malformed output, crash, unresponsive); in-flight work fails with it. */
  fatal: ToolCallError | null = null;
  inflight = 0;
  onClosed: (() => void) | null = null;
  private stderrTail = "";
  private readonly waiters = new Set<(error: ToolCallError) => void>();
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly spec: ServerConnectionSpec,
    readonly client: Client,
    readonly transport: Transport,
    private readonly idleTimeoutMs: number,
    /** HTTP: the guarded fetch whose kept-alive sockets close with this connection. */
    private readonly egressFetch: EgressFetch | null = null,
  ) {}

  get pid(): number | null {
    return this.transport instanceof ObservedStdioTransport ? this.transport.pid : null;
  }

  get exit() {
    return this.transport instanceof ObservedStdioTransport ? this.transport.exit : null;
  }

  appendStderr(chunk: Buffer | string): void {
    this.stderrTail = (this.stderrTail + chunk.toString()).slice(-STDERR_TAIL_BYTES);
  }

  /** The last line the server wrote to stderr: usually the reason it failed. */
  lastStderrLine(): string | null {
    const lines = this.stderrTail.split("\n").map((line) => line.trim()).filter(Boolean);
    const last = lines[lines.length - 1];
    return last ? last.slice(0, 300) : null;
  }

  /**
   * Races `work` against this connection failing. The SDK would otherwise leave a request pending until its
   * timeout when a server writes garbage instead of an answer.
   */
  guard<T>(work: Promise<T>): Promise<T> {
    work.catch(() => {}); // whoever loses the race, its rejection is handled
    if (this.fatal) return Promise.reject(this.fatal);
    return new Promise<T>((resolve, reject) => {
      const onFatal = (error: ToolCallError) => reject(error);
      this.waiters.add(onFatal);
      void work.then(resolve, reject).finally(() => this.waiters.delete(onFatal));
    });
  }

  fail(error: ToolCallError): void {
    if (!this.fatal) this.fatal = error;
    for (const waiter of [...this.waiters]) waiter(this.fatal);
    this.waiters.clear();
    void this.close();
  }

  begin(): void {
    this.inflight += 1;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  end(): void {
    this.inflight -= 1;
    if (this.inflight > 0 || this.closed) return;
    this.idleTimer = setTimeout(() => {
      if (this.inflight === 0) void this.close();
    }, this.idleTimeoutMs);
    this.idleTimer.unref();
  }

  markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.onClosed?.();
  }

  async close(): Promise<void> {
    this.markClosed();
    try {
      // Stdio: ends stdin, then SIGTERM, then SIGKILL (about 4 s at worst); HTTP: aborts open streams.
      await this.client.close();
    } catch (error) {
      logger.debug("mcp connection close failed", { server: this.spec.name, error });
    }
    this.egressFetch?.close();
  }
}

interface Entry {
  fingerprint: string;
  promise: Promise<Connection>;
  connection: Connection | null;
}

export class McpClientPool implements McpConnector {
  private readonly options: Required<Omit<McpClientPoolOptions, "lookup">> & Pick<McpClientPoolOptions, "lookup">;
  private readonly entries = new Map<string, Entry>();
  /** Connections being shut down (replaced or closed) still count for closeAll and the exit hook. */
  private readonly retiring = new Set<Connection>();

  constructor(options: McpClientPoolOptions = {}) {
    this.options = { ...DEFAULTS, ...options };
  }

  async listTools(spec: ServerConnectionSpec): Promise<DiscoveredTool[]> {
    const connection = await this.connection(spec);
    connection.begin();
    try {
      const tools: DiscoveredTool[] = [];
      let cursor: string | undefined;
      // Paginated: a server may split its tool list; 100 pages is far beyond any real server.
      for (let page = 0; page < 100; page += 1) {
        const result = await connection.guard(
          connection.client.listTools(cursor ? { cursor } : undefined, { timeout: spec.callTimeoutMs }),
        );
        tools.push(...result.tools.map(discoveredTool));
        cursor = result.nextCursor;
        if (!cursor) break;
      }
      return tools;
    } catch (error) {
      const mapped = this.callError(spec, connection, null, error, { timeoutMs: spec.callTimeoutMs, aborted: false });
      if (mapped === SERVER_REJECTED) {
        throw new ToolCallError("protocol", `Tool server "${spec.name}" refused to list its tools: ${mcpMessage(error)}`, spec.name, null, { cause: error });
      }
      throw mapped;
    } finally {
      connection.end();
    }
  }

  async callTool(
    spec: ServerConnectionSpec,
    toolName: string,
    args: Record<string, unknown>,
    opts: ToolCallOptions = {},
  ): Promise<ToolCallOutcome> {
    const { signal } = opts;
    if (signal?.aborted) throw abortedError(spec, toolName, signal.reason);
    const connection = await raceAbort(this.connection(spec), signal, () => abortedError(spec, toolName, signal?.reason));
    const timeoutMs = opts.timeoutMs ?? spec.callTimeoutMs;
    // A per-call controller: the SDK never removes its abort listener, so a long-lived caller signal would
    // otherwise collect one listener per call.
    const controller = new AbortController();
    const forwardAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener("abort", forwardAbort, { once: true });
    connection.begin();
    try {
      const request = connection.client.callTool(
        {
          name: toolName,
          arguments: args,
          ...(opts.idempotencyKey ? { _meta: { [IDEMPOTENCY_META_KEY]: opts.idempotencyKey } } : {}),
        },
        undefined,
        { signal: controller.signal, timeout: timeoutMs },
      );
      const result = (await connection.guard(request)) as CallToolResult;
      return toOutcome(spec, toolName, result);
    } catch (error) {
      const mapped = this.callError(spec, connection, toolName, error, { timeoutMs, aborted: signal?.aborted ?? false });
      if (mapped === SERVER_REJECTED) return rejectedOutcome(spec, error);
      throw mapped;
    } finally {
      signal?.removeEventListener("abort", forwardAbort);
      connection.end();
    }
  }

  /** Stops a server's connection (its process), e.g. after the server was deleted. */
  async close(serverId: string): Promise<void> {
    const entry = this.entries.get(serverId);
    if (!entry) return;
    this.entries.delete(serverId);
    await this.retire(entry);
  }

  async closeAll(): Promise<void> {
    const entries = [...this.entries.values()];
    this.entries.clear();
    await Promise.all([...entries.map((entry) => this.retire(entry)), ...[...this.retiring].map((c) => c.close())]);
  }

  /** The pid of a server's live stdio process, or null (not connected, or HTTP). For tests and the console. */
  processId(serverId: string): number | null {
    const connection = this.entries.get(serverId)?.connection;
    return connection && !connection.closed ? connection.pid : null;
  }

  isConnected(serverId: string): boolean {
    const connection = this.entries.get(serverId)?.connection;
    return Boolean(connection && !connection.closed);
  }

  /** Last resort on process exit: SIGKILL every child still running (a hung server ignores stdin EOF). */
  killAllSync(): void {
    const connections = [...this.retiring, ...[...this.entries.values()].map((entry) => entry.connection)];
    for (const connection of connections) {
      const pid = connection?.pid;
      if (!pid || connection.exit) continue;
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }

  private async retire(entry: Entry): Promise<void> {
    let connection: Connection;
    try {
      connection = await entry.promise;
    } catch {
      return; // a connection that never opened has nothing to close
    }
    this.retiring.add(connection);
    await connection.close();
    this.retiring.delete(connection);
  }

  private connection(spec: ServerConnectionSpec): Promise<Connection> {
    const fingerprint = fingerprintOf(spec);
    const current = this.entries.get(spec.serverId);
    if (current && current.fingerprint === fingerprint && !current.connection?.closed && !current.connection?.fatal) {
      return current.promise;
    }
    if (current) {
      this.entries.delete(spec.serverId);
      void this.retire(current);
    }
    const entry: Entry = { fingerprint, promise: this.open(spec), connection: null };
    this.entries.set(spec.serverId, entry);
    const forget = () => {
      if (this.entries.get(spec.serverId) === entry) this.entries.delete(spec.serverId);
    };
    entry.promise.then(
      (connection) => {
        entry.connection = connection;
        connection.onClosed = forget;
        if (connection.closed) forget();
      },
      forget,
    );
    return entry.promise;
  }

  private async open(spec: ServerConnectionSpec): Promise<Connection> {
    const client = new Client(CLIENT_INFO, { capabilities: {} });
    const { transport, egressFetch } = this.transportFor(spec);
    const connection = new Connection(spec, client, transport, this.options.idleTimeoutMs, egressFetch);
    if (transport instanceof ObservedStdioTransport) {
      const stderr = transport.stderr;
      stderr?.on("data", (chunk: Buffer) => connection.appendStderr(chunk));
      stderr?.on("error", () => {});
    }
    client.onerror = (error) => this.onTransportError(connection, error);
    // The SDK rejects every pending request with ConnectionClosed right after this; callError turns that into
    // "exited (code N)" using the exit status the transport recorded.
    client.onclose = () => {
      connection.markClosed();
      this.retiring.delete(connection);
    };
    try {
      await connection.guard(client.connect(transport, { timeout: this.options.connectTimeoutMs }));
    } catch (error) {
      void connection.close();
      throw this.connectError(spec, connection, error);
    }
    return connection;
  }

  private transportFor(spec: ServerConnectionSpec): { transport: Transport; egressFetch: EgressFetch | null } {
    const limit = messageLimitBytes(spec.maxResultBytes);
    if (spec.transport === "STDIO") {
      if (!spec.command) throw new ToolCallError("connect", `Tool server "${spec.name}" has no command to start it.`, spec.name, null);
      const transport = new ObservedStdioTransport({
        command: spec.command,
        args: spec.args,
        env: spec.env,
        cwd: spec.cwd,
        // Piped, not inherited: server logs must not mix with ours, and the tail explains crashes.
        stderr: "pipe",
        maxBufferSize: limit,
      });
      return { transport, egressFetch: null };
    }
    if (!spec.url) throw new ToolCallError("connect", `Tool server "${spec.name}" has no URL.`, spec.name, null);
    const egressFetch = createEgressFetch({ allowHosts: spec.egressAllowHosts ?? [], lookup: this.options.lookup });
    const transport = new StreamableHTTPClientTransport(new URL(spec.url), {
      requestInit: { headers: spec.headers },
      fetch: limitedFetch(limit, egressFetch),
    });
    return { transport, egressFetch };
  }

  private onTransportError(connection: Connection, error: Error): void {
    const { spec } = connection;
    if (error.name === "SyntaxError" || error.name === "ZodError") {
      connection.fail(new ToolCallError("protocol", `Tool server "${spec.name}" sent an invalid response: ${invalidDetail(error)}`, spec.name, null, { cause: error }));
    } else if (error.message.startsWith("ReadBuffer exceeded") || error.message.includes("Response exceeded")) {
      connection.fail(
        new ToolCallError(
          "protocol",
          `Tool server "${spec.name}" sent a message larger than ${formatBytes(messageLimitBytes(spec.maxResultBytes))}; the connection was reset`,
          spec.name,
          null,
          { cause: error },
        ),
      );
    } else {
      logger.debug("mcp transport error", { server: spec.name, error });
    }
  }

  private connectError(spec: ServerConnectionSpec, connection: Connection, error: unknown): ToolCallError {
    if (error instanceof EgressRefused) return egressError(spec, null, error);
    if (error instanceof ToolCallError) {
      if (error.kind === "protocol" || error.kind === "connect") return error;
      return new ToolCallError("connect", describeExit(connection, "connect", null), spec.name, null, { cause: error });
    }
    if (isMcpError(error, ErrorCode.RequestTimeout)) {
      return new ToolCallError("connect", `Tool server "${spec.name}" did not finish starting within ${formatDuration(this.options.connectTimeoutMs)}`, spec.name, null, { cause: error });
    }
    if (isMcpError(error, ErrorCode.ConnectionClosed)) {
      return new ToolCallError("connect", describeExit(connection, "connect", null), spec.name, null, { cause: error });
    }
    const spawnCode = (error as NodeJS.ErrnoException | undefined)?.code;
    if (spec.transport === "STDIO" && typeof spawnCode === "string") {
      return new ToolCallError("connect", `Could not start tool server "${spec.name}": ${spec.command ?? ""} (${spawnCode === "ENOENT" ? "command not found" : spawnCode})`, spec.name, null, { cause: error });
    }
    if (spec.transport === "HTTP") {
      return new ToolCallError("connect", `Could not reach tool server "${spec.name}" at ${spec.url ?? ""}: ${httpDetail(error)}`, spec.name, null, { cause: error });
    }
    return new ToolCallError("connect", `Could not connect to tool server "${spec.name}": ${messageOf(error)}`, spec.name, null, { cause: error });
  }

  /** Maps a failure during a call; returns SERVER_REJECTED for a well-formed JSON-RPC error from the server. */
  private callError(
    spec: ServerConnectionSpec,
    connection: Connection,
    toolName: string | null,
    error: unknown,
    context: { timeoutMs: number; aborted: boolean },
  ): ToolCallError | typeof SERVER_REJECTED {
    const what = toolName ?? "the request for its tool list";
    const make = (kind: ToolCallErrorKind, message: string) => new ToolCallError(kind, message, spec.name, toolName, { cause: error });
    if (error instanceof ToolCallError) {
      if (error.kind === "crashed") return make("crashed", describeExit(connection, "call", toolName));
      return new ToolCallError(error.kind, error.message, spec.name, toolName, { cause: error });
    }
    if (context.aborted) return abortedError(spec, toolName, error);
    if (error instanceof EgressRefused) {
      void connection.close();
      return egressError(spec, toolName, error);
    }
    if (error instanceof McpError) {
      if (isMcpError(error, ErrorCode.RequestTimeout)) {
        this.probe(connection);
        return make("timeout", `Tool server "${spec.name}" did not answer ${what} within ${formatDuration(context.timeoutMs)}`);
      }
      if (isMcpError(error, ErrorCode.ConnectionClosed)) return make("crashed", describeExit(connection, "call", toolName));
      if (toolName && isMcpError(error, ErrorCode.InvalidParams) && error.message.includes(`Tool ${toolName} not found`)) {
        return make("not_found", `Tool server "${spec.name}" has no tool named "${toolName}"`);
      }
      if (isMcpError(error, ErrorCode.MethodNotFound)) return make("not_found", `Tool server "${spec.name}" does not offer tools`);
      if (/output schema|Structured content|structured content/.test(error.message)) {
        return make("protocol", `Tool server "${spec.name}" sent an invalid response to ${what}: ${mcpMessage(error)}`);
      }
      return SERVER_REJECTED;
    }
    if (error instanceof Error && (error.name === "ZodError" || error.name === "SyntaxError")) {
      connection.fail(make("protocol", `Tool server "${spec.name}" sent an invalid response to ${what}: ${invalidDetail(error)}`));
      return connection.fatal ?? make("protocol", `Tool server "${spec.name}" sent an invalid response to ${what}`);
    }
    if (error instanceof StreamableHTTPError || spec.transport === "HTTP") {
      void connection.close();
      return make("connect", `Tool server "${spec.name}" failed during ${what}: ${httpDetail(error)}`);
    }
    if (error instanceof Error && error.message === "Not connected") return make("crashed", describeExit(connection, "call", toolName));
    logger.warn("unexpected mcp call failure", { server: spec.name, tool: toolName, error });
    return make("protocol", `Tool server "${spec.name}" failed during ${what}: ${messageOf(error)}`);
  }

  /** After a timeout: a server that cannot even answer a ping is stuck, so stop it; the next call restarts it. */
  private probe(connection: Connection): void {
    if (connection.closed) return;
    const { spec } = connection;
    connection.client.ping({ timeout: this.options.probeTimeoutMs }).catch(() => {
      if (connection.closed) return;
      logger.warn("mcp server unresponsive; stopping it", { server: spec.name, pid: connection.pid });
      connection.fail(
        new ToolCallError("timeout", `Tool server "${spec.name}" stopped responding and was stopped; it restarts on the next call`, spec.name, null),
      );
    });
  }
}

const SERVER_REJECTED = Symbol("server-rejected");

/** McpError carries the JSON-RPC code as a plain number; ErrorCode is a numeric enum. */
function isMcpError(error: unknown, code: ErrorCode): boolean {
  return error instanceof McpError && error.code === Number(code);
}

function mcpMessage(error: unknown): string {
  return messageOf(error).replace(/^MCP error -?\d+: /, "");
}

function rejectedOutcome(spec: ServerConnectionSpec, error: unknown): ToolCallOutcome {
  const content = `Tool server "${spec.name}" rejected the call: ${mcpMessage(error)}`;
  return { content, isError: true, truncated: false, bytes: Buffer.byteLength(content) };
}

function egressError(spec: ServerConnectionSpec, toolName: string | null, error: EgressRefused): ToolCallError {
  return new ToolCallError("connect", `Switchboard refused to connect to tool server "${spec.name}": ${error.message}`, spec.name, toolName, { cause: error });
}

function abortedError(spec: ServerConnectionSpec, toolName: string | null, cause: unknown): ToolCallError {
  const what = toolName ? `The call to ${toolName} on tool server "${spec.name}"` : `The request to tool server "${spec.name}"`;
  return new ToolCallError("aborted", `${what} was cancelled`, spec.name, toolName, { cause });
}

function describeExit(connection: Connection, phase: Phase, toolName: string | null): string {
  const { spec } = connection;
  const exit = connection.exit;
  const how = exit
    ? exit.signal
      ? `was killed (${exit.signal})`
      : `exited (code ${exit.code ?? "unknown"})`
    : spec.transport === "STDIO"
      ? "exited"
      : "closed the connection";
  const when = phase === "connect" ? "before it was ready" : toolName ? `during the call to ${toolName}` : "during the call";
  const stderr = connection.lastStderrLine();
  return `Tool server "${spec.name}" ${how} ${when}${stderr ? ` — last output: ${stderr}` : ""}`;
}

function invalidDetail(error: Error): string {
  if (error.name === "ZodError") return "the message is JSON but not a valid JSON-RPC message";
  return error.message.length > 200 ? `${error.message.slice(0, 200)}…` : error.message;
}

function httpDetail(error: unknown): string {
  if (error instanceof StreamableHTTPError) return `HTTP ${error.code ?? "error"} (${error.message.replace(/^Streamable HTTP error: /, "")})`;
  const cause = (error as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  if (cause?.code === "ECONNREFUSED") return "connection refused";
  if (cause?.code === "ENOTFOUND") return "host not found";
  if (cause?.code) return cause.code;
  if (cause?.message) return cause.message;
  return messageOf(error);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined, onAbort: () => Error): Promise<T> {
  if (!signal) return promise;
  promise.catch(() => {});
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(onAbort());
    signal.addEventListener("abort", abort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", abort));
  });
}

function discoveredTool(tool: McpTool): DiscoveredTool {
  const annotations = tool.annotations ?? undefined;
  return {
    name: tool.name,
    description: tool.description ?? "",
    inputSchema: tool.inputSchema,
    ...(annotations ? { annotations: { ...annotations, title: annotations.title ?? tool.title } } : {}),
  };
}

type ContentBlock = CallToolResult["content"][number];

function summarisePart(part: ContentBlock): string {
  switch (part.type) {
    case "text":
      return part.text;
    case "image":
      return `[image: ${part.mimeType}, ${formatBytes(Math.floor((part.data.length * 3) / 4))}]`;
    case "audio":
      return `[audio: ${part.mimeType}, ${formatBytes(Math.floor((part.data.length * 3) / 4))}]`;
    case "resource_link":
      return `[resource link: ${part.name} <${part.uri}>]`;
    case "resource": {
      const resource = part.resource;
      if ("text" in resource && typeof resource.text === "string") return `[resource ${resource.uri}]\n${resource.text}`;
      return `[resource: ${resource.uri}${resource.mimeType ? `, ${resource.mimeType}` : ""}]`;
    }
    default:
      return `[${(part as { type: string }).type} content]`;
  }
}

/** Cuts UTF-8 text to at most `limit` bytes without splitting a character. */
function truncateUtf8(text: string, limit: number): string {
  const buffer = Buffer.from(text, "utf8");
  if (buffer.length <= limit) return text;
  let end = limit;
  // Step back over continuation bytes (10xxxxxx) so the cut lands on a character boundary.
  while (end > 0 && ((buffer[end] ?? 0) & 0xc0) === 0x80) end -= 1;
  return buffer.subarray(0, end).toString("utf8");
}

function toOutcome(spec: ServerConnectionSpec, toolName: string, result: CallToolResult): ToolCallOutcome {
  const parts = (result.content ?? []).map(summarisePart);
  let content = parts.join("\n");
  const isError = result.isError === true;
  // SDK servers answer an unknown tool with an error result ("MCP error -32602: Tool x not found").
  if (isError && content.trim().endsWith(`Tool ${toolName} not found`)) {
    throw new ToolCallError("not_found", `Tool server "${spec.name}" has no tool named "${toolName}"`, spec.name, toolName);
  }
  const structured = result.structuredContent;
  const structuredJson = structured === undefined ? "" : JSON.stringify(structured);
  if (content === "" && structuredJson) content = structuredJson;
  const contentBytes = Buffer.byteLength(content, "utf8");
  const structuredBytes = content === structuredJson ? 0 : Buffer.byteLength(structuredJson, "utf8");
  const bytes = contentBytes + structuredBytes;
  const limit = spec.maxResultBytes;
  let truncated = false;
  if (contentBytes > limit) {
    const note = `\n…[truncated: the result was ${formatBytes(contentBytes)}; only the first ${formatBytes(limit)} is shown]`;
    content = truncateUtf8(content, Math.max(0, limit - Buffer.byteLength(note))) + note;
    truncated = true;
  }
  const keepStructured = structured !== undefined && Buffer.byteLength(structuredJson, "utf8") <= limit;
  if (structured !== undefined && !keepStructured) truncated = true;
  return { content, ...(keepStructured ? { structuredContent: structured } : {}), isError, truncated, bytes };
}

/**
 * fetch for the HTTP transport that refuses a POST response body larger than `limit` bytes while it streams, so a
 * runaway server cannot fill memory. The standalone GET event stream is long-lived by design and is left alone.
 */
function limitedFetch(limit: number, baseFetch: (url: string | URL, init?: RequestInit) => Promise<Response>) {
  return async (url: string | URL, init?: RequestInit): Promise<Response> => {
    const response = await baseFetch(url, init);
    if ((init?.method ?? "GET").toUpperCase() !== "POST" || !response.body) return response;
    const declared = Number(response.headers.get("content-length") ?? "0");
    if (declared > limit) {
      await response.body.cancel();
      throw new Error(`Response exceeded ${limit} bytes`);
    }
    let seen = 0;
    const counted = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          seen += chunk.byteLength;
          if (seen > limit) controller.error(new Error(`Response exceeded ${limit} bytes`));
          else controller.enqueue(chunk);
        },
      }),
    );
    return new Response(counted, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

/**
 * One pool per process, on globalThis for the same reason as the database handle: Next.js may evaluate this
 * module more than once, and two pools would start two copies of every stdio server.
 */
const globalForPool = globalThis as unknown as { switchboardMcpPool?: McpClientPool };

export function getMcpPool(): McpClientPool {
  if (!globalForPool.switchboardMcpPool) {
    const pool = new McpClientPool();
    globalForPool.switchboardMcpPool = pool;
    process.once("exit", () => pool.killAllSync());
  }
  return globalForPool.switchboardMcpPool;
}
