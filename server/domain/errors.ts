/**
 * Typed domain errors. Domain code throws these; exactly one tRPC middleware (server/trpc/init.ts) and one REST
 * helper (server/rest/handler.ts) turn them into responses. Messages are written for people: they are shown as-is.
 */
export type DomainErrorCode =
  | "INVALID_INPUT"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "CONFLICT"
  | "RATE_LIMITED"
  | "PAYLOAD_TOO_LARGE"
  | "BUDGET_EXCEEDED";

export const HTTP_STATUS_BY_CODE: Record<DomainErrorCode, number> = {
  INVALID_INPUT: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  PAYLOAD_TOO_LARGE: 413,
  BUDGET_EXCEEDED: 402,
};

/** Field path → messages, the shape forms render next to their inputs. */
export type FieldErrors = Record<string, string[]>;

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly fieldErrors?: FieldErrors,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class InvalidInput extends DomainError {
  constructor(message: string, fieldErrors?: FieldErrors) {
    super("INVALID_INPUT", message, fieldErrors);
  }
}

export class Unauthorized extends DomainError {
  constructor(message = "Sign in or send a valid API key.") {
    super("UNAUTHORIZED", message);
  }
}

export class Forbidden extends DomainError {
  constructor(message = "You do not have permission to do that.") {
    super("FORBIDDEN", message);
  }
}

export class NotFound extends DomainError {
  /** The same message whether the row does not exist or belongs to another org: existence is not leaked. */
  constructor(what: string) {
    super("NOT_FOUND", `${what} not found.`);
  }
}

export class Conflict extends DomainError {
  constructor(message: string) {
    super("CONFLICT", message);
  }
}

export class RateLimited extends DomainError {
  constructor(message = "Too many attempts. Wait a few minutes and try again.") {
    super("RATE_LIMITED", message);
  }
}

export class PayloadTooLarge extends DomainError {
  constructor(message: string) {
    super("PAYLOAD_TOO_LARGE", message);
  }
}

export class BudgetExceeded extends DomainError {
  constructor(message: string) {
    super("BUDGET_EXCEEDED", message);
  }
}

/**
 * PostgreSQL refuses some values only when they reach it: a NUL character in text, a date beyond its range, a
 * number that overflows a column. Those are the caller's input (SQLSTATE class 22, "data exception", and 54000,
 * a value too large to index), not our failure: both transports turn them into a 400 with this message instead of a
 * 500. Returns null for any other error.
 */
export function invalidInputFromDatabase(error: unknown): InvalidInput | null {
  const code = sqlStateOf(error);
  if (!code) return null;
  if (code === "22021" || code === "22P05") {
    return new InvalidInput("Text in the request contains a character that cannot be stored (such as the NUL character \\u0000). Remove it and try again.");
  }
  if (code === "22007" || code === "22008" || code === "22009") return new InvalidInput("A date in the request is outside the supported range.");
  if (code === "22003") return new InvalidInput("A number in the request is too large or too small.");
  if (code === "22001") return new InvalidInput("A text value in the request is too long.");
  if (code === "54000") return new InvalidInput("A value in the request is too large to process.");
  if (code.startsWith("22")) return new InvalidInput("A value in the request is not valid.");
  return null;
}

function sqlStateOf(error: unknown): string | null {
  if (!(error instanceof Error)) return null;
  // Prisma with a driver adapter: meta.driverAdapterError.cause carries the database's own code.
  const meta = (error as { meta?: { driverAdapterError?: { cause?: { originalCode?: unknown; code?: unknown } } } }).meta;
  const cause = meta?.driverAdapterError?.cause;
  for (const candidate of [cause?.originalCode, cause?.code]) {
    if (typeof candidate === "string" && /^[0-9A-Z]{5}$/.test(candidate)) return candidate;
  }
  return /Code: `([0-9A-Z]{5})`/.exec(error.message)?.[1] ?? null;
}
