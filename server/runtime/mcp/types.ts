/**
 * The contract between the MCP client pool (the "device drivers") and the rest of Switchboard. Type-only, so the
 * domain can describe what it needs from the pool without loading the SDK.
 */

/** Everything needed to reach one tool server, with secrets already resolved into `env` and `headers`. */
export interface ServerConnectionSpec {
  serverId: string;
  /** The registered name, used in every message a person may read. */
  name: string;
  transport: "STDIO" | "HTTP";
  command?: string | null;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
  url?: string | null;
  headers: Record<string, string>;
  /**
   * HTTP only: the org's egress allow-list (governance `egressAllowHosts`). Absent or empty: the pool connects
   * to public addresses only (never loopback, private, link-local or metadata addresses).
   */
  egressAllowHosts?: readonly string[];
  callTimeoutMs: number;
  maxResultBytes: number;
}

/** Hints a server may attach to a tool (MCP `annotations`); advisory only, never trusted for policy. */
export interface ToolAnnotations {
  title?: string;
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

export interface DiscoveredTool {
  name: string;
  description: string;
  /** JSON Schema of the arguments, exactly as the server sent it. */
  inputSchema: Record<string, unknown>;
  annotations?: ToolAnnotations;
}

export interface ToolCallOptions {
  /** Cancels the call: the server is sent `notifications/cancelled` and the call fails with kind "aborted". */
  signal?: AbortSignal;
  /** Overrides the server's callTimeoutMs for this call. */
  timeoutMs?: number;
  /** Sent as `_meta["switchboard/idempotencyKey"]`; servers that honour it run the side effect at most once. */
  idempotencyKey?: string;
}

export interface ToolCallOutcome {
  /** Text parts joined by newlines; non-text parts (images, audio, binary resources) are summarised in brackets. */
  content: string;
  structuredContent?: unknown;
  /** The tool ran and reported a failure (MCP `isError`); the model is meant to read `content`. */
  isError: boolean;
  /** True when `content` was cut to the server's maxResultBytes or structuredContent was dropped for size. */
  truncated: boolean;
  /** UTF-8 size of the full result as the server sent it (text plus structured content), before truncation. */
  bytes: number;
}

export type ToolCallErrorKind = "timeout" | "crashed" | "protocol" | "connect" | "aborted" | "not_found";

/** The one error the pool throws. `message` is written for people and names the server and the tool. */
export class ToolCallError extends Error {
  constructor(
    readonly kind: ToolCallErrorKind,
    message: string,
    readonly serverName: string,
    readonly toolName: string | null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "ToolCallError";
  }
}

/** What the tools domain needs from the pool: discovery, and dropping a server's connection when it changes. */
export interface McpConnector {
  listTools(spec: ServerConnectionSpec): Promise<DiscoveredTool[]>;
  close?(serverId: string): Promise<void>;
}
