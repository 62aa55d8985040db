import { Prisma } from "../generated/prisma/client";

/** node-postgres's own words when a pooled connection died under a query or a transaction. */
const CONNECTION_FAILURE = /connection (error|terminated)|not queryable|ECONNRESET|ECONNREFUSED|timeout exceeded when trying to connect/i;

/**
 * True for a failure of the database client or connection (dropped connection, no connection free in time, server
 * restarting) rather than of the run: such a run is retried — its lease lapses and a worker claims it again — and
 * must never be ended as FAILED because PostgreSQL blinked.
 */
export function isDatabaseFailure(error: unknown): boolean {
  if (
    error instanceof Prisma.PrismaClientKnownRequestError ||
    error instanceof Prisma.PrismaClientUnknownRequestError ||
    error instanceof Prisma.PrismaClientInitializationError ||
    error instanceof Prisma.PrismaClientRustPanicError
  ) {
    return true;
  }
  // PostgreSQL's own classes, as node-postgres reports them on the kernel's SQL path: connection exceptions (08),
  // insufficient resources (53: too many connections), operator intervention (57: terminated, shutting down).
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && /^(08|53|57)/.test(code)) return true;
  return error instanceof Error && CONNECTION_FAILURE.test(error.message);
}
