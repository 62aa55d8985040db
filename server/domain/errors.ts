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
