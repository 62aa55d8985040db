/**
 * The model gateway's contract: what the agent loop sends to a model and what it gets back, independent of the
 * provider. The agent loop rebuilds `messages` from the run's persisted events before every call.
 */
export type JsonObject = Record<string, unknown>;

export interface ToolCallRequest {
  /** Provider-assigned (or, for the scripted model, deterministic) id; tool results refer to it. */
  id: string;
  name: string;
  args: JsonObject;
  /**
   * Set only when the model produced arguments that are not a JSON object (args is then `{}`): the raw text, so the
   * loop can answer the call with an error result the model can correct, instead of running the tool.
   */
  invalidArgs?: string;
}

export type ChatMessage =
  | { role: "system"; content: string }
  | { role: "user"; content: string }
  | { role: "assistant"; content: string; toolCalls: ToolCallRequest[] }
  | { role: "tool"; toolCallId: string; name: string; content: string };

export interface ToolSpec {
  name: string;
  description: string;
  /** JSON Schema of the arguments (an MCP tool's inputSchema). */
  inputSchema: JsonObject;
}

export type ModelProviderName = "OPENAI" | "ANTHROPIC" | "OLLAMA" | "SCRIPTED";

/** The subset of a ModelConfig row the gateway needs. Prices are micro-dollars per million tokens. */
export interface ModelEndpoint {
  id: string;
  name: string;
  provider: ModelProviderName;
  model: string;
  baseUrl: string | null;
  /** Decrypted API key, when the config references a Secret. */
  apiKey: string | null;
  inputPriceMicros: number;
  outputPriceMicros: number;
  contextWindow: number;
  maxOutputTokens: number | null;
  timeoutMs: number;
  maxRetries: number;
}

/** A scripted model's script: deterministic turns, for demos and tests (see scripted.ts). */
export type ScriptTurn =
  | { tool: string; args: JsonObject; delayMs?: number; say?: string; repeatWhile?: string; onlyIf?: string; alsoCall?: { tool: string; args: JsonObject }[] }
  | { final: string; onToolError?: string; onlyIf?: string; delayMs?: number };

export interface ModelCallInput {
  messages: ChatMessage[];
  tools: ToolSpec[];
  /** Only for SCRIPTED: the agent version's script. */
  script?: ScriptTurn[];
  /**
   * Only for SCRIPTED, and only when older turns were summarised out of `messages`: the run's whole conversation. A
   * script plays turns by their position in the run, so it counts turns here; what is sent is still `messages`.
   */
  history?: ChatMessage[];
  signal?: AbortSignal;
}

export interface ModelUsage {
  inputTokens: number;
  outputTokens: number;
}

/** What one successful attempt against one endpoint yields (providers and the scripted model). */
export interface ModelResponse {
  content: string;
  toolCalls: ToolCallRequest[];
  usage: ModelUsage;
}

export interface ModelCallResult {
  content: string;
  toolCalls: ToolCallRequest[];
  usage: ModelUsage;
  /** Integer micro-dollars, from the endpoint that answered. */
  costMicros: number;
  /** Name of the ModelConfig that answered (the fallback's when it was used). */
  modelConfigName: string;
  model: string;
  usedFallback: boolean;
  /** When usedFallback: why the primary failed (a ModelCallError message, safe to store in the trace). */
  fallbackReason?: string;
  /** HTTP attempts across primary and fallback, including the successful one. */
  attempts: number;
  /** Wall-clock time of the whole call, retries and backoff included. */
  latencyMs: number;
}
