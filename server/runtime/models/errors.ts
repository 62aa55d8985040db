export type ModelCallErrorKind =
  | "timeout"
  | "rate_limited"
  | "provider_error"
  | "bad_request"
  | "auth"
  | "aborted"
  | "script";

/**
 * The only error `callModel` throws. `message` is safe to show to an operator and to store in a trace: it names the
 * model and endpoint but never the API key. `cause` keeps the provider's raw error for logs.
 */
export class ModelCallError extends Error {
  override readonly name = "ModelCallError";
  readonly kind: ModelCallErrorKind;
  /** HTTP attempts made (across primary and fallback when both were tried); 0 if none was made. */
  readonly attempts: number;
  /** Whether trying again later could help (the gateway already retried as often as the endpoint allows). */
  readonly retryable: boolean;
  /** HTTP status of the last failed attempt, when there was one. */
  readonly status: number | undefined;
  /** Name of the ModelConfig whose call failed last. */
  readonly modelConfigName: string | undefined;

  constructor(init: {
    kind: ModelCallErrorKind;
    message: string;
    attempts?: number;
    retryable?: boolean;
    status?: number;
    modelConfigName?: string;
    cause?: unknown;
  }) {
    super(init.message, { cause: init.cause });
    this.kind = init.kind;
    this.attempts = init.attempts ?? 0;
    this.retryable = init.retryable ?? false;
    this.status = init.status;
    this.modelConfigName = init.modelConfigName;
  }
}

export function isModelCallError(error: unknown): error is ModelCallError {
  return error instanceof ModelCallError;
}
