import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { z, ZodError } from "zod";
import type { Scope } from "@/lib/scopes";
import type { Db } from "../db";
import { DomainError, invalidInputFromDatabase, type DomainErrorCode } from "../domain/errors";
import { requireScope, type Principal } from "../domain/identity/principal";
import { logger } from "../logger";

/** Request-free context: tests build it directly with a real database and a real principal. */
export interface TRPCContext {
  db: Db;
  principal: Principal | null;
}

const TRPC_CODE_BY_DOMAIN_CODE: Record<DomainErrorCode, TRPCError["code"]> = {
  INVALID_INPUT: "BAD_REQUEST",
  UNAUTHORIZED: "UNAUTHORIZED",
  FORBIDDEN: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  RATE_LIMITED: "TOO_MANY_REQUESTS",
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  BUDGET_EXCEEDED: "PAYMENT_REQUIRED",
};

const t = initTRPC.context<TRPCContext>().create({
  transformer: superjson,
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    const fieldErrors =
      cause instanceof ZodError
        ? z.flattenError(cause).fieldErrors
        : cause instanceof DomainError
          ? cause.fieldErrors
          : undefined;
    return { ...shape, data: { ...shape.data, stack: undefined, fieldErrors: fieldErrors ?? null } };
  },
});

/**
 * The one place domain errors become tRPC errors. 4xx messages are written for people and pass through;
 * anything else is logged with its cause and replaced by a generic message.
 */
const errorMapping = t.middleware(async ({ next, path }) => {
  const result = await next();
  if (result.ok) return result;
  const error = result.error;
  const cause = error.cause;
  const databaseRefusal = invalidInputFromDatabase(cause);
  if (cause instanceof DomainError) {
    result.error = new TRPCError({ code: TRPC_CODE_BY_DOMAIN_CODE[cause.code], message: cause.message, cause });
  } else if (databaseRefusal) {
    result.error = new TRPCError({ code: "BAD_REQUEST", message: databaseRefusal.message, cause: databaseRefusal });
  } else if (error.code === "INTERNAL_SERVER_ERROR") {
    logger.error("trpc procedure failed", { path, error: cause ?? error });
    result.error = new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: "Something went wrong on our side. It has been logged." });
  } else if (cause instanceof ZodError) {
    result.error = new TRPCError({ code: "BAD_REQUEST", message: summariseZodError(cause), cause });
  }
  return result;
});

export function summariseZodError(error: ZodError): string {
  const first = error.issues[0];
  if (!first) return "The input is not valid.";
  const where = first.path.length > 0 ? `${first.path.join(".")}: ` : "";
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more)` : "";
  return `${where}${first.message}${more}`;
}

export const createTRPCRouter = t.router;
export const createCallerFactory = t.createCallerFactory;

export const publicProcedure = t.procedure.use(errorMapping);

export const protectedProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.principal) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in to continue." });
  return next({ ctx: { ...ctx, principal: ctx.principal } });
});

/** A procedure gated by one typed scope; the domain functions check scopes again (defence in depth). */
export function scopedProcedure(scope: Scope) {
  return protectedProcedure.use(({ ctx, next }) => {
    try {
      requireScope(ctx.principal, scope);
    } catch (error) {
      if (error instanceof DomainError) throw new TRPCError({ code: "FORBIDDEN", message: error.message, cause: error });
      throw error;
    }
    return next({ ctx });
  });
}
