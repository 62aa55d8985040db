import type { z } from "zod";
import { InvalidInput, type FieldErrors } from "../errors";

/**
 * Parses input or throws InvalidInput with field errors keyed by the top-level field (the names the forms use).
 * Domain functions validate again even behind tRPC's `.input()`, because the runtime, the seed and REST call them
 * directly.
 */
export function parseInput<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const fields: FieldErrors = {};
  for (const issue of result.error.issues) {
    const first = issue.path[0];
    const key = typeof first === "string" ? first : "form";
    (fields[key] ??= []).push(issue.message);
  }
  const names = Object.keys(fields);
  const only = names.length === 1 ? fields[names[0] ?? ""]?.[0] : undefined;
  throw new InvalidInput(only ?? `${names.length} fields need attention.`, fields);
}

/** A unique-constraint violation (Prisma P2002), as raised by both the PostgreSQL and the PGlite adapter. */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "P2002";
}
