import type { z } from "zod";
import { InvalidInput, type FieldErrors } from "../errors";

/**
 * Field errors keyed by the full dotted path ("config.limits.maxSteps"), cut at the first array index so a bad
 * element of `toolIds` is reported on `toolIds`. tRPC's flattening keeps only the first segment, which is why
 * nested inputs (agents) are validated here, in the domain, where forms get a message next to the right field.
 */
export function fieldErrorsFromZod(error: z.ZodError): FieldErrors {
  const out: FieldErrors = {};
  for (const issue of error.issues) {
    const segments: string[] = [];
    for (const segment of issue.path) {
      if (typeof segment !== "string") break;
      segments.push(segment);
    }
    const key = segments.join(".") || "form";
    (out[key] ??= []).push(issue.message);
  }
  return out;
}

/** Parses input or throws InvalidInput with field errors; domain functions accept `z.input` and call this. */
export function parseInput<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const fields = fieldErrorsFromZod(result.error);
  const count = Object.keys(fields).length;
  throw new InvalidInput(count === 1 ? "One field needs attention." : `${count} fields need attention.`, fields);
}

/** A unique-constraint violation (Prisma P2002), as raised by both the PostgreSQL and the PGlite adapter. */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "P2002";
}
