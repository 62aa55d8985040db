import { Ajv, type ErrorObject } from "ajv";
import type { FieldErrors } from "../errors";

// One validator for the process: Ajv compiles each schema once and caches it by content.
const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });

/**
 * Checks arguments against a tool's JSON Schema (as its MCP server declared it). Returns field errors keyed by the
 * argument's path ("amountUsd", "customer.email", or "args" for the whole object), in words a supervisor understands.
 */
export function validateToolArgs(schema: unknown, args: unknown): FieldErrors | null {
  if (!args || typeof args !== "object" || Array.isArray(args)) return { args: ["The arguments must be a JSON object."] };
  if (!schema || typeof schema !== "object") return null;
  let validate;
  try {
    validate = ajv.compile(schema);
  } catch {
    // A server that declares an invalid schema cannot make edits unsafe: the tool checks its own input too.
    return null;
  }
  if (validate(args)) return null;
  const fields: FieldErrors = {};
  for (const error of validate.errors ?? []) {
    const key = fieldOf(error);
    (fields[key] ??= []).push(describe(error));
  }
  return fields;
}

function fieldOf(error: ErrorObject): string {
  const path = error.instancePath.split("/").filter(Boolean).join(".");
  if (error.keyword === "required") {
    const missing = (error.params as { missingProperty?: string }).missingProperty;
    return [path, missing].filter(Boolean).join(".") || "args";
  }
  if (error.keyword === "additionalProperties") {
    const extra = (error.params as { additionalProperty?: string }).additionalProperty;
    return [path, extra].filter(Boolean).join(".") || "args";
  }
  return path || "args";
}

function describe(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "required":
      return "This argument is required.";
    case "additionalProperties":
      return "The tool does not take this argument.";
    case "type":
      return `Must be ${article(String(params.type))}.`;
    case "minimum":
    case "exclusiveMinimum":
      return `Must be ${error.keyword === "minimum" ? "at least" : "more than"} ${String(params.limit)}.`;
    case "maximum":
    case "exclusiveMaximum":
      return `Must be ${error.keyword === "maximum" ? "at most" : "less than"} ${String(params.limit)}.`;
    case "enum":
      return `Must be one of: ${((params.allowedValues as unknown[]) ?? []).map((v) => JSON.stringify(v)).join(", ")}.`;
    case "minLength":
      return `Must be at least ${String(params.limit)} characters.`;
    case "maxLength":
      return `Must be at most ${String(params.limit)} characters.`;
    default:
      return error.message ? `${error.message[0]?.toUpperCase() ?? ""}${error.message.slice(1)}.` : "Not valid for this tool.";
  }
}

function article(type: string): string {
  return type === "integer" ? "a whole number" : type === "object" || type === "array" ? `an ${type}` : `a ${type}`;
}
