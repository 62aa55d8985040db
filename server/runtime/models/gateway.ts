/**
 * The model gateway: one call to "the model" for the agent loop, whatever the provider. It owns timeouts, retries,
 * fallback and pricing; the LangChain clients underneath run with their own retries off so attempts are counted once.
 */
import { ModelCallError, type ModelCallErrorKind } from "./errors";
import { invokeProvider } from "./providers";
import { abortableSleep, raceWithSignal } from "./sleep";
import type { ModelCallInput, ModelCallResult, ModelEndpoint, ModelResponse } from "./types";
import { costMicros } from "./usage";

export interface CallModelOptions {
  /** Backoff sleep; tests inject a fast one. A caller abort is checked after it returns either way. */
  sleep?: (ms: number) => Promise<void>;
}

const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 20_000;
/** A 429 asking to wait longer than this ends the step instead of holding a worker; the run can be retried later. */
const RETRY_AFTER_MAX_MS = 60_000;
const DETAIL_MAX_CHARS = 300;

const DEFAULT_BASE_URL: Record<ModelEndpoint["provider"], string> = {
  OPENAI: "https://api.openai.com/v1",
  ANTHROPIC: "https://api.anthropic.com",
  OLLAMA: "http://127.0.0.1:11434",
  SCRIPTED: "script",
};

interface Failure {
  kind: ModelCallErrorKind;
  retryable: boolean;
  status?: number;
  detail: string;
  retryAfterMs?: number;
}

export async function callModel(
  primary: ModelEndpoint,
  fallback: ModelEndpoint | null,
  input: ModelCallInput,
  options: CallModelOptions = {},
): Promise<ModelCallResult> {
  const started = performance.now();
  const sleep = options.sleep ?? ((ms: number) => abortableSleep(ms, input.signal));
  const result = (endpoint: ModelEndpoint, response: ModelResponse, attempts: number, fallbackReason?: string): ModelCallResult => ({
    ...response,
    costMicros: costMicros(response.usage, endpoint),
    modelConfigName: endpoint.name,
    model: endpoint.model,
    usedFallback: fallbackReason !== undefined,
    ...(fallbackReason !== undefined && { fallbackReason }),
    attempts,
    latencyMs: Math.round(performance.now() - started),
  });

  let primaryError: ModelCallError;
  try {
    const ok = await callEndpoint(primary, input, sleep);
    return result(primary, ok.response, ok.attempts);
  } catch (error) {
    primaryError = error as ModelCallError;
  }
  // A cancelled call must stop; a broken script is an authoring bug that another model would only hide.
  if (!fallback || primaryError.kind === "aborted" || primaryError.kind === "script") throw primaryError;

  try {
    const ok = await callEndpoint(fallback, input, sleep);
    return result(fallback, ok.response, primaryError.attempts + ok.attempts, primaryError.message);
  } catch (error) {
    const fallbackError = error as ModelCallError;
    throw new ModelCallError({
      kind: fallbackError.kind,
      message: `${fallbackError.message}; it was the fallback after: ${primaryError.message}`,
      attempts: primaryError.attempts + fallbackError.attempts,
      retryable: fallbackError.retryable,
      status: fallbackError.status,
      modelConfigName: fallbackError.modelConfigName,
      cause: fallbackError.cause,
    });
  }
}

/** Attempts against one endpoint until success, a non-retryable failure, or `maxRetries` retries. Throws ModelCallError. */
async function callEndpoint(
  endpoint: ModelEndpoint,
  input: ModelCallInput,
  sleep: (ms: number) => Promise<void>,
): Promise<{ response: ModelResponse; attempts: number }> {
  const maxAttempts = Math.max(0, Math.floor(endpoint.maxRetries)) + 1;
  for (let attempt = 1; ; attempt++) {
    // Checked before every attempt, so an abort during the backoff sleep (injected sleeps may ignore it) stops here.
    if (input.signal?.aborted) {
      throw toModelCallError(endpoint, { kind: "aborted", retryable: false, detail: "" }, attempt - 1, input.signal.reason);
    }
    const deadline = attemptSignal(endpoint.timeoutMs, input.signal);
    let failure: Failure;
    let cause: unknown;
    try {
      const response = await raceWithSignal(invokeProvider(endpoint, input, deadline.signal), deadline.signal);
      return { response, attempts: attempt };
    } catch (raw) {
      failure = classify(raw, input.signal?.aborted === true, deadline.timedOut());
      cause = raw;
    } finally {
      deadline.dispose();
    }
    const tooLongToWait = (failure.retryAfterMs ?? 0) > RETRY_AFTER_MAX_MS;
    if (!failure.retryable || attempt >= maxAttempts || tooLongToWait) throw toModelCallError(endpoint, failure, attempt, cause);
    await sleep(backoffMs(attempt, failure.retryAfterMs)).catch(() => undefined);
  }
}

/**
 * One attempt's signal: aborts on the caller's signal or after `timeoutMs`, and remembers which, because the
 * provider's error after an abort looks the same either way. A plain timer (not AbortSignal.timeout) so it is cleared
 * as soon as the attempt ends.
 */
function attemptSignal(timeoutMs: number, caller: AbortSignal | undefined) {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(
    () => {
      timedOut = true;
      controller.abort(new DOMException(`Timed out after ${timeoutMs} ms`, "TimeoutError"));
    },
    // setTimeout fires at once for delays beyond 2^31-1 ms; a config that large means "no practical limit".
    Math.min(timeoutMs, 2_147_483_647),
  );
  const onCallerAbort = () => controller.abort(caller?.reason);
  if (caller?.aborted) onCallerAbort();
  else caller?.addEventListener("abort", onCallerAbort, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    dispose: () => {
      clearTimeout(timer);
      caller?.removeEventListener("abort", onCallerAbort);
    },
  };
}

/** Exponential with "equal jitter" (half fixed, half random), so retrying workers spread out; Retry-After wins. */
function backoffMs(attempt: number, retryAfterMs: number | undefined): number {
  const exponential = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1));
  return Math.max(Math.round(exponential / 2 + (Math.random() * exponential) / 2), retryAfterMs ?? 0);
}

function classify(raw: unknown, callerAborted: boolean, timedOut: boolean): Failure {
  if (callerAborted) return { kind: "aborted", retryable: false, detail: "" };
  if (timedOut) return { kind: "timeout", retryable: true, detail: "" };
  if (raw instanceof ModelCallError) return { kind: raw.kind, retryable: raw.retryable, detail: raw.message };
  const status = httpStatus(raw);
  const detail = describe(raw);
  if (status === 401 || status === 403) return { kind: "auth", retryable: false, status, detail };
  if (status === 429) {
    // OpenAI says "insufficient_quota" with a 429: waiting does not refill a budget.
    const quota = errorCode(raw) === "insufficient_quota";
    return { kind: "rate_limited", retryable: !quota, status, detail, retryAfterMs: retryAfter(raw) };
  }
  if (status === 408) return { kind: "timeout", retryable: true, status, detail };
  if (status !== undefined && status >= 500) return { kind: "provider_error", retryable: true, status, detail };
  if (status !== undefined && status >= 400) return { kind: "bad_request", retryable: false, status, detail };
  const name = chain(raw).map((e) => (e instanceof Error ? e.name : ""));
  if (name.includes("TimeoutError") || name.includes("APIConnectionTimeoutError")) return { kind: "timeout", retryable: true, detail };
  if (name.includes("ContextOverflowError")) return { kind: "bad_request", retryable: false, detail };
  if (isConnectionError(raw)) return { kind: "provider_error", retryable: true, detail };
  // Unknown failures (an unparsable reply, a client bug) are not retried: repeating them rarely helps and costs time.
  return { kind: "provider_error", retryable: false, detail };
}

/** The error and its causes, outermost first (SDKs wrap fetch errors, fetch wraps socket errors). */
function chain(raw: unknown): unknown[] {
  const errors: unknown[] = [];
  for (let e: unknown = raw; e !== undefined && e !== null && errors.length < 5; e = (e as { cause?: unknown }).cause) {
    errors.push(e);
    if (typeof e !== "object") break;
  }
  return errors;
}

function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

function httpStatus(raw: unknown): number | undefined {
  for (const e of chain(raw)) {
    // OpenAI/Anthropic SDKs use `status`, the ollama client `status_code`.
    for (const candidate of [field(e, "status"), field(e, "status_code"), field(e, "statusCode"), field(field(e, "response"), "status")]) {
      if (typeof candidate === "number" && candidate >= 400 && candidate < 600) return candidate;
    }
  }
  return undefined;
}

function errorCode(raw: unknown): unknown {
  return field(raw, "code") ?? field(field(raw, "error"), "code");
}

const CONNECTION_CODES = new Set([
  "ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN",
  "UND_ERR_SOCKET", "UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT",
]);

function isConnectionError(raw: unknown): boolean {
  return chain(raw).some((e) => {
    const code = field(e, "code");
    if (typeof code === "string" && CONNECTION_CODES.has(code)) return true;
    if (!(e instanceof Error)) return false;
    return e.name === "APIConnectionError" || (e instanceof TypeError && /^(fetch failed|terminated)$/.test(e.message));
  });
}

function retryAfter(raw: unknown): number | undefined {
  const headers = field(raw, "headers");
  const get = (name: string): string | null | undefined =>
    headers instanceof Headers ? headers.get(name) : (field(headers, name) as string | undefined);
  const ms = Number(get("retry-after-ms"));
  if (get("retry-after-ms") && Number.isFinite(ms)) return ms;
  const value = get("retry-after");
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function describe(raw: unknown): string {
  return (raw instanceof Error ? raw.message : String(raw))
    .replace(/\s*Troubleshooting URL:.*$/s, "") // LangChain appends a docs link to some errors
    .replace(/^\d{3}\s+/, "") // the OpenAI/Anthropic SDKs prefix the status, which the message shows already
    .replace(/\s+/g, " ")
    .trim();
}

function toModelCallError(endpoint: ModelEndpoint, failure: Failure, attempts: number, cause: unknown): ModelCallError {
  const where = endpoint.baseUrl ?? DEFAULT_BASE_URL[endpoint.provider];
  const label = `Model ${endpoint.model} at ${where}`;
  const tries = `${attempts} attempt${attempts === 1 ? "" : "s"}`;
  const http = failure.status === undefined ? "" : `HTTP ${failure.status}`;
  // Redact before truncating, so a cut cannot leave a fragment of the key too short to recognise.
  const safe = redact(failure.detail, endpoint.apiKey);
  const detail = [http, safe.length > DETAIL_MAX_CHARS ? `${safe.slice(0, DETAIL_MAX_CHARS)}…` : safe].filter(Boolean).join(": ");
  const messages: Record<ModelCallErrorKind, string> = {
    timeout: `${label} timed out after ${Number((endpoint.timeoutMs / 1000).toFixed(1))} s (${tries})`,
    rate_limited: `${label} is rate limited (${detail}; ${tries})`,
    provider_error: `${label} failed (${detail || "unknown error"}; ${tries})`,
    bad_request: `${label} rejected the request (${detail})`,
    auth: `${label} rejected the credentials of model config "${endpoint.name}" (${detail})`,
    aborted: `The call to model ${endpoint.model} at ${where} was cancelled`,
    script: `${endpoint.name}: ${safe}`,
  };
  return new ModelCallError({
    kind: failure.kind,
    message: messages[failure.kind],
    attempts,
    retryable: failure.retryable,
    status: failure.status,
    modelConfigName: endpoint.name,
    cause,
  });
}

/** Providers echo keys back in error bodies ("Incorrect API key provided: sk-..."); keep even fragments out. */
function redact(message: string, apiKey: string | null): string {
  if (!apiKey || apiKey.length < 8) return message;
  return message.split(apiKey).join("[redacted]").replace(new RegExp(`${escapeRegExp(apiKey.slice(0, 8))}\\S*`, "g"), "[redacted]");
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
