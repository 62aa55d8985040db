/**
 * The gateway against real LangChain clients talking HTTP to local fixtures (the fake edge is the provider's HTTP
 * endpoint, nothing else is faked).
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ModelCallError } from "./errors";
import { callModel } from "./gateway";
import type { ChatMessage, ModelCallInput, ModelEndpoint, ToolSpec } from "./types";

interface Recorded {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

interface Fixture {
  url: string;
  requests: Recorded[];
  /** Requests whose connection closed before the fixture answered (the client gave up). */
  abandoned: number;
}

const servers: Array<ReturnType<typeof createServer>> = [];

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
});

/** `handle` answers the n-th request (0-based); returning without writing leaves the request hanging. */
async function startFixture(handle: (request: Recorded, response: ServerResponse, n: number) => void): Promise<Fixture> {
  const fixture: Fixture = { url: "", requests: [], abandoned: 0 };
  const server = createServer((req, res) => {
    let raw = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (raw += chunk));
    req.on("end", () => {
      const recorded: Recorded = { method: req.method ?? "", path: req.url ?? "", headers: req.headers, body: raw ? (JSON.parse(raw) as Record<string, unknown>) : {} };
      fixture.requests.push(recorded);
      res.on("close", () => {
        if (!res.writableEnded) fixture.abandoned++;
      });
      handle(recorded, res, fixture.requests.length - 1);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  fixture.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fixture;
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

const API_KEY = "sk-test-0123456789abcdef";

function endpoint(overrides: Partial<ModelEndpoint>): ModelEndpoint {
  return {
    id: "mc_primary",
    name: "primary",
    provider: "OPENAI",
    model: "gpt-test",
    baseUrl: null,
    apiKey: API_KEY,
    // $2.50 and $10 per million tokens.
    inputPriceMicros: 2_500_000,
    outputPriceMicros: 10_000_000,
    contextWindow: 128_000,
    maxOutputTokens: 512,
    timeoutMs: 5_000,
    maxRetries: 2,
    ...overrides,
  };
}

const scriptedFallback = endpoint({ id: "mc_fallback", name: "scripted-fallback", provider: "SCRIPTED", model: "script", apiKey: null, inputPriceMicros: 0, outputPriceMicros: 0 });

const tools: ToolSpec[] = [
  {
    name: "issue_refund",
    description: "Refund an order",
    inputSchema: { type: "object", properties: { orderId: { type: "string" }, amountUsd: { type: "number" } }, required: ["orderId", "amountUsd"] },
  },
];

const messages: ChatMessage[] = [
  { role: "system", content: "You are a refund agent." },
  { role: "user", content: "refund order 1001 for $250" },
  { role: "assistant", content: "", toolCalls: [{ id: "call_prev", name: "lookup_order", args: { orderId: "1001" } }] },
  { role: "tool", toolCallId: "call_prev", name: "lookup_order", content: '{"status":"delivered"}' },
];

function input(overrides: Partial<ModelCallInput> = {}): ModelCallInput {
  // `messages` already holds one assistant turn, so a scripted model plays its second turn.
  return { messages, tools, script: [{ final: "not played" }, { final: "Handled by the scripted fallback." }], ...overrides };
}

const fastSleep = () => Promise.resolve();

async function failure(promise: Promise<unknown>): Promise<ModelCallError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ModelCallError);
  return error as ModelCallError;
}

function openAIToolCallReply(usage = true) {
  return {
    id: "chatcmpl-1",
    object: "chat.completion",
    created: 1_700_000_000,
    model: "gpt-test",
    choices: [
      {
        index: 0,
        finish_reason: "tool_calls",
        message: {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "call_abc", type: "function", function: { name: "issue_refund", arguments: '{"orderId":"1001","amountUsd":250}' } }],
        },
      },
    ],
    ...(usage && { usage: { prompt_tokens: 120, completion_tokens: 30, total_tokens: 150 } }),
  };
}

function openAITextReply(text: string) {
  return {
    id: "chatcmpl-2",
    object: "chat.completion",
    created: 1_700_000_000,
    model: "gpt-test",
    choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content: text } }],
  };
}

describe("model gateway over OpenAI-compatible HTTP", () => {
  it("sends our conversation and tools in OpenAI's format and returns the tool call, usage and cost", async () => {
    const server = await startFixture((_req, res) => json(res, 200, openAIToolCallReply()));
    const result = await callModel(endpoint({ baseUrl: `${server.url}/v1` }), null, input());

    expect(result.toolCalls).toEqual([{ id: "call_abc", name: "issue_refund", args: { orderId: "1001", amountUsd: 250 } }]);
    expect(result.content).toBe("");
    expect(result.usage).toEqual({ inputTokens: 120, outputTokens: 30 });
    // 120 × $2.50/M + 30 × $10/M = $0.0003 + $0.0003
    expect(result.costMicros).toBe(600);
    expect(result).toMatchObject({ modelConfigName: "primary", model: "gpt-test", usedFallback: false, attempts: 1 });
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);

    const [request] = server.requests;
    expect(request?.method).toBe("POST");
    expect(request?.path).toBe("/v1/chat/completions");
    expect(request?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(request?.body).toMatchObject({
      model: "gpt-test",
      max_tokens: 512,
      tools: [{ type: "function", function: { name: "issue_refund", description: "Refund an order", parameters: tools[0]!.inputSchema } }],
      messages: [
        { role: "system", content: "You are a refund agent." },
        { role: "user", content: "refund order 1001 for $250" },
        { role: "assistant", tool_calls: [{ id: "call_prev", type: "function", function: { name: "lookup_order", arguments: '{"orderId":"1001"}' } }] },
        { role: "tool", tool_call_id: "call_prev", content: '{"status":"delivered"}' },
      ],
    });
    expect(request?.body.stream).not.toBe(true);
  });

  it("estimates usage at four characters a token when the server reports none", async () => {
    const server = await startFixture((_req, res) => json(res, 200, openAITextReply("Refund issued for order 1001.")));
    const result = await callModel(endpoint({ baseUrl: `${server.url}/v1` }), null, input({ tools: [] }));
    expect(result.content).toBe("Refund issued for order 1001.");
    expect(result.toolCalls).toEqual([]);
    expect(result.usage.outputTokens).toBe(Math.ceil("Refund issued for order 1001.".length / 4));
    expect(result.usage.inputTokens).toBeGreaterThan(10);
    expect(server.requests[0]?.body.tools).toBeUndefined();
  });

  it("keeps a tool call whose arguments are not JSON, marked invalid", async () => {
    const reply = openAIToolCallReply();
    reply.choices[0]!.message.tool_calls[0]!.function.arguments = '{"orderId": 10';
    const server = await startFixture((_req, res) => json(res, 200, reply));
    const result = await callModel(endpoint({ baseUrl: `${server.url}/v1` }), null, input());
    expect(result.toolCalls).toEqual([{ id: "call_abc", name: "issue_refund", args: {}, invalidArgs: '{"orderId": 10' }]);
  });

  it("retries a 429 with growing backoff and succeeds on the third attempt", async () => {
    const server = await startFixture((_req, res, n) =>
      n < 2 ? json(res, 429, { error: { message: "Rate limit reached", type: "rate_limit_error", code: null } }) : json(res, 200, openAIToolCallReply()),
    );
    const sleeps: number[] = [];
    const result = await callModel(endpoint({ baseUrl: `${server.url}/v1`, maxRetries: 3 }), null, input(), {
      sleep: (ms) => (sleeps.push(ms), Promise.resolve()),
    });
    expect(result.attempts).toBe(3);
    expect(server.requests).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
    expect(sleeps[1]!).toBeGreaterThanOrEqual(sleeps[0]!);
    expect(sleeps[0]!).toBeGreaterThan(0);
  });

  it("honours Retry-After on a 429", async () => {
    const server = await startFixture((_req, res, n) =>
      n === 0 ? json(res, 429, { error: { message: "slow down" } }, { "retry-after": "7" }) : json(res, 200, openAIToolCallReply()),
    );
    const sleeps: number[] = [];
    await callModel(endpoint({ baseUrl: `${server.url}/v1` }), null, input(), { sleep: (ms) => (sleeps.push(ms), Promise.resolve()) });
    expect(sleeps).toEqual([7_000]);
  });

  it("gives up after maxRetries on a 429 and says it was rate limited", async () => {
    const server = await startFixture((_req, res) => json(res, 429, { error: { message: "Rate limit reached" } }));
    const error = await failure(callModel(endpoint({ baseUrl: `${server.url}/v1`, maxRetries: 1 }), null, input(), { sleep: fastSleep }));
    expect(error).toMatchObject({ kind: "rate_limited", attempts: 2, status: 429, retryable: true });
    expect(error.message).toBe(`Model gpt-test at ${server.url}/v1 is rate limited (HTTP 429: Rate limit reached; 2 attempts)`);
  });

  it("falls back to the fallback endpoint when the primary keeps failing with 500", async () => {
    const server = await startFixture((_req, res) => json(res, 500, { error: { message: "upstream exploded" } }));
    const result = await callModel(endpoint({ baseUrl: `${server.url}/v1`, maxRetries: 2 }), scriptedFallback, input(), { sleep: fastSleep });
    expect(server.requests).toHaveLength(3);
    expect(result).toMatchObject({ usedFallback: true, modelConfigName: "scripted-fallback", model: "script", attempts: 4, costMicros: 0 });
    expect(result.content).toBe("Handled by the scripted fallback.");
    expect(result.fallbackReason).toContain("HTTP 500: upstream exploded; 3 attempts");
  });

  it("falls back to a second HTTP endpoint and reports both failures when that fails too", async () => {
    const primary = await startFixture((_req, res) => json(res, 503, { error: { message: "overloaded" } }));
    const secondary = await startFixture((_req, res) => json(res, 400, { error: { message: "bad tool schema" } }));
    const error = await failure(
      callModel(endpoint({ baseUrl: `${primary.url}/v1`, maxRetries: 1 }), endpoint({ name: "backup", baseUrl: `${secondary.url}/v1` }), input(), { sleep: fastSleep }),
    );
    expect(error).toMatchObject({ kind: "bad_request", attempts: 3, modelConfigName: "backup", retryable: false });
    expect(secondary.requests).toHaveLength(1);
    expect(error.message).toContain("rejected the request (HTTP 400: bad tool schema)");
    expect(error.message).toContain("HTTP 503: overloaded; 2 attempts");
  });

  it("times out a hung server after timeoutMs per attempt and drops the connection", async () => {
    const server = await startFixture(() => undefined);
    const started = performance.now();
    const error = await failure(callModel(endpoint({ baseUrl: `${server.url}/v1`, timeoutMs: 300, maxRetries: 1 }), null, input(), { sleep: fastSleep }));
    const elapsed = performance.now() - started;
    expect(error).toMatchObject({ kind: "timeout", attempts: 2, retryable: true });
    expect(error.message).toBe(`Model gpt-test at ${server.url}/v1 timed out after 0.3 s (2 attempts)`);
    expect(elapsed).toBeGreaterThanOrEqual(550);
    expect(elapsed).toBeLessThan(3_000);
    await expect.poll(() => server.abandoned).toBe(2);
  });

  it("fails at once on 401 without retrying and never repeats the API key", async () => {
    const server = await startFixture((_req, res) =>
      json(res, 401, { error: { message: `Incorrect API key provided: ${API_KEY}. Also seen as ${API_KEY.slice(0, 10)}****cdef.`, code: "invalid_api_key" } }),
    );
    const error = await failure(callModel(endpoint({ baseUrl: `${server.url}/v1`, maxRetries: 3 }), null, input(), { sleep: fastSleep }));
    expect(error).toMatchObject({ kind: "auth", attempts: 1, status: 401, retryable: false });
    expect(server.requests).toHaveLength(1);
    expect(error.message).toContain('rejected the credentials of model config "primary" (HTTP 401: Incorrect API key provided: [redacted]');
    expect(error.message).not.toContain(API_KEY.slice(0, 8));
  });

  it("fails at once on 400", async () => {
    const server = await startFixture((_req, res) => json(res, 400, { error: { message: "messages: invalid role" } }));
    const error = await failure(callModel(endpoint({ baseUrl: `${server.url}/v1` }), null, input(), { sleep: fastSleep }));
    expect(error).toMatchObject({ kind: "bad_request", attempts: 1, status: 400 });
  });

  it("retries when nothing listens and reports a provider error", async () => {
    const closed = await startFixture(() => undefined);
    const server = servers.pop()!;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const error = await failure(callModel(endpoint({ baseUrl: `${closed.url}/v1`, maxRetries: 2 }), null, input(), { sleep: fastSleep }));
    expect(error).toMatchObject({ kind: "provider_error", attempts: 3, retryable: true });
    expect(error.message).toMatch(/^Model gpt-test at http:\/\/127\.0\.0\.1:\d+\/v1 failed \(Connection error\.; 3 attempts\)$/);
  });

  it("stops immediately on a caller abort, without retrying or falling back", async () => {
    const primary = await startFixture(() => undefined);
    const secondary = await startFixture((_req, res) => json(res, 200, openAITextReply("should not be used")));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = performance.now();
    const error = await failure(
      callModel(
        endpoint({ baseUrl: `${primary.url}/v1`, maxRetries: 3 }),
        endpoint({ name: "backup", baseUrl: `${secondary.url}/v1` }),
        input({ signal: controller.signal }),
        { sleep: fastSleep },
      ),
    );
    expect(error).toMatchObject({ kind: "aborted", attempts: 1, retryable: false });
    expect(error.message).toBe(`The call to model gpt-test at ${primary.url}/v1 was cancelled`);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(primary.requests).toHaveLength(1);
    expect(secondary.requests).toHaveLength(0);
  });

  it("stops during the backoff sleep when the caller aborts", async () => {
    const server = await startFixture((_req, res) => json(res, 503, { error: { message: "busy" } }));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = performance.now();
    // The default sleep: the first backoff is at least 250 ms, so only an abort-aware sleep ends before that.
    const error = await failure(callModel(endpoint({ baseUrl: `${server.url}/v1`, maxRetries: 5 }), scriptedFallback, input({ signal: controller.signal })));
    expect(error).toMatchObject({ kind: "aborted", attempts: 1 });
    expect(performance.now() - started).toBeLessThan(240);
    expect(server.requests).toHaveLength(1);
  });

  it("does not start a call whose signal is already aborted", async () => {
    const server = await startFixture((_req, res) => json(res, 200, openAIToolCallReply()));
    const error = await failure(callModel(endpoint({ baseUrl: `${server.url}/v1` }), scriptedFallback, input({ signal: AbortSignal.abort() })));
    expect(error).toMatchObject({ kind: "aborted", attempts: 0 });
    expect(server.requests).toHaveLength(0);
  });

  it("does not fall back from a broken script", async () => {
    const error = await failure(callModel({ ...scriptedFallback, name: "demo" }, endpoint({ baseUrl: "http://127.0.0.1:9/v1" }), input({ script: [{ final: "x" }, { final: "{{results.5.x}}" }] })));
    expect(error.kind).toBe("script");
    expect(error.message).toBe("demo: Script turn 2 of 2: template {{results.5.x}} in final cannot be resolved: only 1 tool result(s) exist so far.");
  });
});

describe("model gateway over Anthropic's Messages API", () => {
  it("sends the system prompt separately and tool results as tool_result blocks, and reads tool_use and usage", async () => {
    const server = await startFixture((_req, res) =>
      json(res, 200, {
        id: "msg_1",
        type: "message",
        role: "assistant",
        model: "claude-test",
        content: [
          { type: "text", text: "Refunding now." },
          { type: "tool_use", id: "toolu_1", name: "issue_refund", input: { orderId: "1001", amountUsd: 250 } },
        ],
        stop_reason: "tool_use",
        stop_sequence: null,
        usage: { input_tokens: 50, output_tokens: 20 },
      }),
    );
    const summary: ChatMessage = { role: "system", content: "Earlier: the customer is verified." };
    const result = await callModel(
      endpoint({ provider: "ANTHROPIC", model: "claude-test", baseUrl: `${server.url}/v1` }),
      null,
      input({ messages: [...messages, summary] }),
    );

    expect(result.content).toBe("Refunding now.");
    expect(result.toolCalls).toEqual([{ id: "toolu_1", name: "issue_refund", args: { orderId: "1001", amountUsd: 250 } }]);
    expect(result.usage).toEqual({ inputTokens: 50, outputTokens: 20 });
    expect(result.costMicros).toBe(Math.round((50 * 2_500_000 + 20 * 10_000_000) / 1_000_000));

    const [request] = server.requests;
    expect(request?.path).toBe("/v1/messages");
    expect(request?.headers["x-api-key"]).toBe(API_KEY);
    expect(request?.body).toMatchObject({
      model: "claude-test",
      max_tokens: 512,
      tools: [{ name: "issue_refund", description: "Refund an order", input_schema: tools[0]!.inputSchema }],
      messages: [
        { role: "user", content: "refund order 1001 for $250" },
        { role: "assistant", content: [{ type: "tool_use", id: "call_prev", name: "lookup_order", input: { orderId: "1001" } }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "call_prev", content: '{"status":"delivered"}' }] },
      ],
    });
    expect(JSON.stringify(request?.body.system)).toContain("You are a refund agent.");
    expect(JSON.stringify(request?.body.system)).toContain("Earlier: the customer is verified.");
  });

  it("maps Anthropic's overloaded 529 to a retryable provider error", async () => {
    const server = await startFixture((_req, res) => json(res, 529, { type: "error", error: { type: "overloaded_error", message: "Overloaded" } }));
    const error = await failure(callModel(endpoint({ provider: "ANTHROPIC", baseUrl: server.url, maxRetries: 1 }), null, input(), { sleep: fastSleep }));
    expect(error).toMatchObject({ kind: "provider_error", attempts: 2, status: 529 });
  });
});

describe("model gateway over Ollama's chat API", () => {
  function ndjson(res: ServerResponse, lines: unknown[]) {
    res.writeHead(200, { "content-type": "application/x-ndjson" });
    res.end(lines.map((line) => JSON.stringify(line)).join("\n") + "\n");
  }

  it("streams a tool call and reads eval counts as usage", async () => {
    const server = await startFixture((_req, res) =>
      ndjson(res, [
        {
          model: "llama-test",
          created_at: "2025-01-01T00:00:00Z",
          message: { role: "assistant", content: "", tool_calls: [{ function: { name: "issue_refund", arguments: { orderId: "1001", amountUsd: 250 } } }] },
          done: false,
        },
        { model: "llama-test", created_at: "2025-01-01T00:00:01Z", message: { role: "assistant", content: "" }, done: true, done_reason: "stop", prompt_eval_count: 40, eval_count: 12 },
      ]),
    );
    const result = await callModel(endpoint({ provider: "OLLAMA", model: "llama-test", baseUrl: server.url, apiKey: null }), null, input());

    expect(result.toolCalls).toHaveLength(1);
    expect(result.toolCalls[0]).toMatchObject({ name: "issue_refund", args: { orderId: "1001", amountUsd: 250 } });
    expect(result.toolCalls[0]?.id).toBeTruthy();
    expect(result.usage).toEqual({ inputTokens: 40, outputTokens: 12 });

    const [request] = server.requests;
    expect(request?.path).toBe("/api/chat");
    expect(request?.headers.authorization).toBeUndefined();
    expect(request?.body).toMatchObject({
      model: "llama-test",
      stream: true,
      tools: [{ type: "function", function: { name: "issue_refund", parameters: tools[0]!.inputSchema } }],
      messages: [
        { role: "system", content: "You are a refund agent." },
        { role: "user", content: "refund order 1001 for $250" },
        { role: "assistant", tool_calls: [{ function: { name: "lookup_order", arguments: { orderId: "1001" } } }] },
        { role: "tool", content: '{"status":"delivered"}' },
      ],
    });
  });

  it("times out a hung Ollama and closes its connection", async () => {
    const server = await startFixture(() => undefined);
    const error = await failure(callModel(endpoint({ provider: "OLLAMA", baseUrl: server.url, timeoutMs: 300, maxRetries: 0 }), null, input()));
    expect(error).toMatchObject({ kind: "timeout", attempts: 1 });
    await expect.poll(() => server.abandoned).toBe(1);
  });

  it("maps Ollama's 404 for a missing model to a bad request", async () => {
    const server = await startFixture((_req, res) => json(res, 404, { error: "model 'nope' not found" }));
    const error = await failure(callModel(endpoint({ provider: "OLLAMA", model: "nope", baseUrl: server.url }), null, input(), { sleep: fastSleep }));
    expect(error).toMatchObject({ kind: "bad_request", status: 404, attempts: 1 });
    expect(error.message).toContain("model 'nope' not found");
  });
});
