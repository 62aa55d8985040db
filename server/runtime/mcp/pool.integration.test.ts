import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readDemoLedger } from "@/mcp-servers/demo/ledger";
import { McpClientPool, ToolCallError, type ServerConnectionSpec } from "./pool";

/**
 * The pool against real MCP servers (server-everything, server-filesystem, our demo server) and a deliberately
 * misbehaving fixture. No mocks: every test spawns real processes.
 */
const ROOT = path.resolve(import.meta.dirname, "../../..");
const serverPackage = (name: string) => path.join(ROOT, "node_modules/@modelcontextprotocol", name, "dist/index.js");
const FIXTURE = path.join(import.meta.dirname, "fixtures/misbehaving-server.mjs");
const TSX = path.join(ROOT, "node_modules/tsx/dist/loader.mjs");

function stdio(serverId: string, args: string[], overrides: Partial<ServerConnectionSpec> = {}): ServerConnectionSpec {
  return {
    serverId,
    name: serverId,
    transport: "STDIO",
    command: process.execPath,
    args,
    env: {},
    headers: {},
    callTimeoutMs: 15_000,
    maxResultBytes: 262_144,
    ...overrides,
  };
}

const fixture = (serverId: string, overrides: Partial<ServerConnectionSpec> = {}) => stdio(serverId, [FIXTURE], overrides);

async function expectToolError(promise: Promise<unknown>): Promise<ToolCallError> {
  const error = await promise.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ToolCallError);
  return error as ToolCallError;
}

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = net.createServer().listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
let tmp: string;
let pool: McpClientPool;

beforeAll(() => {
  process.on("unhandledRejection", onUnhandled);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sb-mcp-pool-"));
  pool = new McpClientPool({ probeTimeoutMs: 500 });
});

afterAll(async () => {
  await pool.closeAll();
  process.off("unhandledRejection", onUnhandled);
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe("McpClientPool with real servers", () => {
  const everything = stdio("everything", [serverPackage("server-everything"), "stdio"]);

  it("lists and calls server-everything's tools over one reused process", async () => {
    const tools = await pool.listTools(everything);
    const names = tools.map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(["echo", "get-sum"]));
    const echo = tools.find((tool) => tool.name === "echo");
    expect(echo?.description).toBe("Echoes back the input string");
    expect(echo?.inputSchema).toMatchObject({ type: "object", properties: { message: { type: "string" } } });
    expect(echo?.annotations?.readOnlyHint).toBe(true);

    const pid = pool.processId("everything");
    expect(pid).toBeGreaterThan(0);
    const outcome = await pool.callTool(everything, "echo", { message: "hello" });
    expect(outcome).toMatchObject({ content: "Echo: hello", isError: false, truncated: false });
    expect(outcome.bytes).toBe(Buffer.byteLength("Echo: hello"));
    const sum = await pool.callTool(everything, "get-sum", { a: 2, b: 40 });
    expect(sum.content).toContain("42");
    expect(pool.processId("everything")).toBe(pid);
  });

  it("shares one connect among concurrent first calls", async () => {
    const fresh = new McpClientPool();
    try {
      const spec = fixture("concurrent");
      const pids = await Promise.all(Array.from({ length: 6 }, () => fresh.callTool(spec, "pid", {})));
      expect(new Set(pids.map((outcome) => outcome.content)).size).toBe(1);
      expect(String(fresh.processId("concurrent"))).toBe(pids[0]!.content);
    } finally {
      await fresh.closeAll();
    }
  });

  it("reads a sandbox through server-filesystem and refuses paths outside it", async () => {
    const sandbox = path.join(tmp, "sandbox");
    fs.mkdirSync(sandbox);
    fs.writeFileSync(path.join(sandbox, "policy.md"), "# Refund policy\nRefunds within 30 days.\n");
    const filesystem = stdio("filesystem", [serverPackage("server-filesystem"), sandbox]);
    const names = (await pool.listTools(filesystem)).map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(["read_text_file", "list_directory", "write_file"]));
    const listing = await pool.callTool(filesystem, "list_directory", { path: sandbox });
    expect(listing.content).toContain("policy.md");
    const file = await pool.callTool(filesystem, "read_text_file", { path: path.join(sandbox, "policy.md") });
    expect(file.content).toContain("Refunds within 30 days.");
    const outside = await pool.callTool(filesystem, "read_text_file", { path: "/etc/hostname" });
    expect(outside.isError).toBe(true);
    expect(outside.content).toMatch(/outside allowed directories|Access denied/i);
  });

  it("records a demo refund exactly once per idempotency key", async () => {
    const ledger = path.join(tmp, "demo-mcp", "ledger.jsonl");
    const demo = stdio("demo", ["--import", TSX, path.join(ROOT, "mcp-servers/demo/server.ts"), "--ledger", ledger]);
    const names = (await pool.listTools(demo)).map((tool) => tool.name);
    expect(names.sort()).toEqual(["issue_refund", "lookup_order", "read_customer_email", "send_email"]);

    const order = await pool.callTool(demo, "lookup_order", { orderId: "1003" });
    expect(order.structuredContent).toMatchObject({ id: "1003", customer: "Sofia Alvarez", totalUsd: 158.5, refundedUsd: 0 });

    const first = await pool.callTool(demo, "issue_refund", { orderId: "1003", amountUsd: 29.5 }, { idempotencyKey: "run-1:seq-7" });
    expect(first.isError).toBe(false);
    expect(first.structuredContent).toMatchObject({ orderId: "1003", amountUsd: 29.5, status: "refunded" });
    const again = await pool.callTool(demo, "issue_refund", { orderId: "1003", amountUsd: 29.5 }, { idempotencyKey: "run-1:seq-7" });
    expect(again).toEqual(first);
    expect(readDemoLedger(ledger)).toHaveLength(1);
    expect(readDemoLedger(ledger)[0]).toMatchObject({ kind: "refund", idempotencyKey: "run-1:seq-7", orderId: "1003", amountUsd: 29.5 });

    const tooMuch = await pool.callTool(demo, "issue_refund", { orderId: "1003", amountUsd: 200 }, { idempotencyKey: "run-1:seq-9" });
    expect(tooMuch.isError).toBe(true);
    expect(tooMuch.content).toContain("at most $129.00 can be refunded");
    const email = await pool.callTool(demo, "send_email", { to: "sofia.alvarez@example.com", subject: "Your refund", body: "Done." }, { idempotencyKey: "run-1:seq-8" });
    expect(email.structuredContent).toMatchObject({ to: "sofia.alvarez@example.com", status: "sent" });
    expect(readDemoLedger(ledger).map((entry) => entry.kind)).toEqual(["refund", "email"]);
  });

  it("sends the idempotency key in the request's _meta", async () => {
    const outcome = await pool.callTool(fixture("meta"), "meta", {}, { idempotencyKey: "run-9:seq-2" });
    expect(JSON.parse(outcome.content)).toMatchObject({ "switchboard/idempotencyKey": "run-9:seq-2" });
  });

  it("restarts a killed stdio server on the next call", async () => {
    const spec = fixture("killed");
    const before = await pool.callTool(spec, "pid", {});
    const pid = Number(before.content);
    expect(pool.processId("killed")).toBe(pid);
    process.kill(pid, "SIGKILL");
    await waitFor(() => !pool.isConnected("killed"));
    const after = await pool.callTool(spec, "pid", {});
    expect(Number(after.content)).not.toBe(pid);
    expect(pool.processId("killed")).toBe(Number(after.content));
  });

  it("reports a crash mid-call with the exit code and the server's last words, then recovers", async () => {
    const spec = fixture("crashy");
    const error = await expectToolError(pool.callTool(spec, "crash", {}));
    expect(error.kind).toBe("crashed");
    expect(error.message).toBe(
      'Tool server "crashy" exited (code 3) during the call to crash — last output: fatal: simulated crash while handling the call',
    );
    await expect(pool.callTool(spec, "echo", { message: "back" })).resolves.toMatchObject({ content: "back" });
  });

  it("times out a hung call within its timeout while other servers keep answering", async () => {
    const spec = fixture("hangs", { callTimeoutMs: 1_000 });
    await pool.callTool(spec, "echo", { message: "warm" });
    const pid = pool.processId("hangs");
    const started = Date.now();
    const [hung, other] = await Promise.allSettled([
      pool.callTool(spec, "hang", {}),
      pool.callTool(everything, "echo", { message: "meanwhile" }),
    ]);
    const elapsed = Date.now() - started;
    expect(hung.status).toBe("rejected");
    const error = (hung as PromiseRejectedResult).reason as ToolCallError;
    expect(error).toBeInstanceOf(ToolCallError);
    expect(error.kind).toBe("timeout");
    expect(error.message).toBe('Tool server "hangs" did not answer hang within 1 s');
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(3_000);
    expect(other).toMatchObject({ status: "fulfilled", value: { content: "Echo: meanwhile" } });
    // It still answers pings, so the connection is kept.
    await expect(pool.callTool(spec, "echo", { message: "still here" })).resolves.toMatchObject({ content: "still here" });
    expect(pool.processId("hangs")).toBe(pid);
  });

  it("stops a server that no longer answers pings and starts a fresh one", async () => {
    const spec = fixture("spins", { callTimeoutMs: 700 });
    const pid = Number((await pool.callTool(spec, "pid", {})).content);
    const error = await expectToolError(pool.callTool(spec, "spin", {}));
    expect(error.kind).toBe("timeout");
    await waitFor(() => !processAlive(pid));
    const fresh = await pool.callTool(spec, "pid", {});
    expect(Number(fresh.content)).not.toBe(pid);
  });

  it("fails fast with a protocol error on malformed output and restarts the server", async () => {
    const spec = fixture("garbage", { callTimeoutMs: 10_000 });
    const started = Date.now();
    const error = await expectToolError(pool.callTool(spec, "garbage", {}));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error.kind).toBe("protocol");
    expect(error.message).toMatch(/^Tool server "garbage" sent an invalid response: .*is not valid JSON/);
    await expect(pool.callTool(spec, "echo", { message: "ok" })).resolves.toMatchObject({ content: "ok" });

    const notRpc = await expectToolError(pool.callTool(spec, "garbage", { json: true }));
    expect(notRpc.kind).toBe("protocol");
    expect(notRpc.message).toBe('Tool server "garbage" sent an invalid response: the message is JSON but not a valid JSON-RPC message');
    await expect(pool.callTool(spec, "echo", { message: "ok again" })).resolves.toMatchObject({ content: "ok again" });
  });

  it("cuts results to maxResultBytes and refuses messages beyond the transport limit", async () => {
    const spec = fixture("big", { maxResultBytes: 1_024 });
    const small = await pool.callTool(spec, "big", { bytes: 500 });
    expect(small.truncated).toBe(false);
    expect(small.bytes).toBe(500);

    const large = await pool.callTool(spec, "big", { bytes: 100_000 });
    expect(large.truncated).toBe(true);
    expect(large.bytes).toBe(100_000);
    expect(Buffer.byteLength(large.content)).toBeLessThanOrEqual(1_024);
    expect(large.content).toContain("[truncated: the result was 97.7 KB; only the first 1.0 KB is shown]");
    expect(large.content).not.toContain("\uFFFD");

    const structured = await pool.callTool(spec, "big", { bytes: 100_000, structured: true });
    expect(structured.truncated).toBe(true);
    expect(structured.structuredContent).toBeUndefined();

    const huge = await expectToolError(pool.callTool(spec, "big", { bytes: 9 * 1024 * 1024 }));
    expect(huge.kind).toBe("protocol");
    expect(huge.message).toBe('Tool server "big" sent a message larger than 8.0 MB; the connection was reset');
    await expect(pool.callTool(spec, "echo", { message: "recovered" })).resolves.toMatchObject({ content: "recovered" });
  });

  it("summarises non-text parts and returns tool-level errors as outcomes", async () => {
    const spec = fixture("mixed");
    const mixed = await pool.callTool(spec, "mixed", {});
    expect(mixed.content).toBe("first part\n[image: image/png, 2.9 KB]\n[resource file:///notes.txt]\nresource text");
    const failed = await pool.callTool(spec, "fails", {});
    expect(failed).toMatchObject({ isError: true, content: "the order is locked" });
  });

  it("names a tool the server does not have", async () => {
    const error = await expectToolError(pool.callTool(fixture("mixed"), "refund_everything", {}));
    expect(error.kind).toBe("not_found");
    expect(error.message).toBe('Tool server "mixed" has no tool named "refund_everything"');
  });

  it("cancels a call when its signal aborts", async () => {
    const spec = fixture("hangs");
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(new Error("run cancelled")), 200);
    const error = await expectToolError(pool.callTool(spec, "hang", {}, { signal: controller.signal }));
    expect(error.kind).toBe("aborted");
    expect(error.message).toBe('The call to hang on tool server "hangs" was cancelled');
    expect(Date.now() - started).toBeLessThan(2_000);
    await expect(pool.callTool(spec, "echo", { message: "fine" }, { signal: controller.signal })).rejects.toMatchObject({ kind: "aborted" });
  });

  it("explains servers that cannot start", async () => {
    const missing = await expectToolError(pool.listTools(stdio("missing", [], { command: "/nonexistent/mcp-server" })));
    expect(missing.kind).toBe("connect");
    expect(missing.message).toBe('Could not start tool server "missing": /nonexistent/mcp-server (command not found)');

    const dies = await expectToolError(
      pool.listTools(stdio("dies", ["-e", "console.error('config error: API_TOKEN is not set'); process.exit(2)"])),
    );
    expect(dies.kind).toBe("connect");
    expect(dies.message).toBe('Tool server "dies" exited (code 2) before it was ready — last output: config error: API_TOKEN is not set');
  });

  it("replaces a connection when the server's spec changes", async () => {
    const first = Number((await pool.callTool(fixture("edited"), "pid", {})).content);
    const second = Number((await pool.callTool(fixture("edited", { env: { SOME_TOKEN: "rotated" } }), "pid", {})).content);
    expect(second).not.toBe(first);
    await waitFor(() => !processAlive(first));
  });

  it("closes every process on closeAll", async () => {
    const own = new McpClientPool();
    await own.callTool(fixture("a"), "pid", {});
    await own.callTool(fixture("b", { callTimeoutMs: 300 }), "pid", {});
    const pids = [own.processId("a"), own.processId("b")].filter((pid): pid is number => pid !== null);
    expect(pids).toHaveLength(2);
    await own.closeAll();
    await waitFor(() => pids.every((pid) => !processAlive(pid)));
    expect(own.isConnected("a")).toBe(false);
  });
});

describe("McpClientPool over Streamable HTTP", () => {
  let server: ChildProcess | undefined;
  let url = "";

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}/mcp`;
    const child = spawn(process.execPath, [serverPackage("server-everything"), "streamableHttp"], {
      env: { ...process.env, PORT: String(port) },
      stdio: ["ignore", "ignore", "pipe"],
    });
    server = child;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("server-everything (HTTP) did not start")), 15_000);
      child.stderr?.on("data", (chunk: Buffer) => {
        if (chunk.toString().includes("listening on port")) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  });

  afterAll(() => {
    server?.kill("SIGKILL");
  });

  const http = (serverId: string, overrides: Partial<ServerConnectionSpec> = {}): ServerConnectionSpec => ({
    serverId,
    name: serverId,
    transport: "HTTP",
    url,
    args: [],
    env: {},
    headers: { "X-Api-Key": "not-checked-by-this-server" },
    // As the org's governance allow-list would: the egress guard refuses loopback otherwise.
    egressAllowHosts: ["127.0.0.1"],
    callTimeoutMs: 10_000,
    maxResultBytes: 262_144,
    ...overrides,
  });

  it("lists and calls tools over HTTP", async () => {
    const tools = await pool.listTools(http("everything-http"));
    expect(tools.map((tool) => tool.name)).toContain("echo");
    await expect(pool.callTool(http("everything-http"), "echo", { message: "over http" })).resolves.toMatchObject({ content: "Echo: over http" });
    expect(pool.processId("everything-http")).toBeNull();
    expect(pool.isConnected("everything-http")).toBe(true);
  });

  it("refuses a loopback server the org has not allow-listed, before any request", async () => {
    const error = await expectToolError(pool.listTools(http("not-allowed", { egressAllowHosts: [] })));
    expect(error.kind).toBe("connect");
    expect(error.message).toBe(
      `Switchboard refused to connect to tool server "not-allowed": 127.0.0.1 is a loopback address; an admin can allow-list it under Governance settings.`,
    );
    expect(pool.isConnected("not-allowed")).toBe(false);
  });

  it("explains an unreachable HTTP server", async () => {
    const nowhere = `http://127.0.0.1:${await freePort()}/mcp`;
    const error = await expectToolError(pool.listTools(http("nowhere", { url: nowhere })));
    expect(error.kind).toBe("connect");
    expect(error.message).toBe(`Could not reach tool server "nowhere" at ${nowhere}: connection refused`);
  });
});

describe("the pool's promises", () => {
  it("left no unhandled rejection behind", async () => {
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(unhandled).toEqual([]);
  });
});
