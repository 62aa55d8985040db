import type { z, ZodError } from "zod";
import { getDb, type Db } from "../db";
import { DomainError, Forbidden, HTTP_STATUS_BY_CODE, InvalidInput, invalidInputFromDatabase, PayloadTooLarge, Unauthorized, type FieldErrors } from "../domain/errors";
import { authenticateApiKey } from "../domain/identity/api-keys";
import { requireScope, type Principal } from "../domain/identity/principal";
import { logger } from "../logger";
import type { EndpointDefinition } from "./endpoint";

export interface RestContext<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> {
  db: Db;
  principal: Principal;
  params: z.output<P>;
  query: z.output<Q>;
  body: z.output<B>;
  request: Request;
}

interface RouteContext {
  params: Promise<Record<string, string | string[] | undefined>>;
}

export function jsonError(status: number, code: string, message: string, fields?: FieldErrors): Response {
  return Response.json({ error: { code, message, ...(fields ? { fields } : {}) } }, { status });
}

function fieldErrorsOf(error: ZodError, prefix: string): FieldErrors {
  const fields: FieldErrors = {};
  for (const issue of error.issues) {
    const key = [prefix, ...issue.path.map(String)].filter(Boolean).join(".") || prefix;
    (fields[key] ??= []).push(issue.message);
  }
  return fields;
}

function parsePart<T extends z.ZodType>(schema: T | undefined, value: unknown, part: string): z.output<T> {
  if (!schema) return value as z.output<T>;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const fields = fieldErrorsOf(result.error, part);
  const [firstKey, firstMessages] = Object.entries(fields)[0] ?? [part, ["is not valid"]];
  throw new InvalidInput(`Invalid ${part}: ${firstKey} — ${firstMessages?.[0] ?? "is not valid"}.`, fields);
}

async function readJsonBody(request: Request): Promise<unknown> {
  const text = await request.text();
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new InvalidInput("The request body is not valid JSON.", { body: ["Send a JSON object with Content-Type: application/json."] });
  }
}

async function readMultipartBody(request: Request): Promise<Record<string, FormDataEntryValue>> {
  try {
    return Object.fromEntries((await request.formData()).entries());
  } catch {
    throw new InvalidInput("The request body is not valid multipart/form-data.", { body: ["Send the fields as multipart/form-data (curl -F)."] });
  }
}

function readBody(endpoint: EndpointDefinition, request: Request): Promise<unknown> {
  const declared = Number(request.headers.get("content-length") ?? "");
  if (endpoint.maxBodyBytes && Number.isFinite(declared) && declared > endpoint.maxBodyBytes) {
    throw new PayloadTooLarge(`The request body is larger than ${Math.round(endpoint.maxBodyBytes / (1024 * 1024))} MB.`);
  }
  return endpoint.bodyType === "multipart" ? readMultipartBody(request) : readJsonBody(request);
}

export async function authenticateRequest(db: Db, request: Request): Promise<Principal> {
  const header = request.headers.get("authorization") ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match?.[1]) throw new Unauthorized("Send an API key as `Authorization: Bearer <key>`.");
  const principal = await authenticateApiKey(db, match[1]);
  if (!principal) throw new Unauthorized("This API key is not valid, has been revoked or has expired.");
  return principal;
}

/**
 * Builds a Next.js route handler from an endpoint definition: authenticate, check the scope, validate params,
 * query and body with the same zod schemas openapi.json documents, run one domain call, map errors once.
 */
export function restRoute<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType, R extends z.ZodType>(
  endpoint: EndpointDefinition<P, Q, B, R>,
  handler: (ctx: RestContext<P, Q, B>) => Promise<z.input<R>>,
) {
  return async (request: Request, context: RouteContext): Promise<Response> => {
    try {
      const db = await getDb();
      const principal = await authenticateRequest(db, request);
      if (endpoint.auth !== "any" && endpoint.auth !== null) {
        try {
          requireScope(principal, endpoint.auth);
        } catch {
          throw new Forbidden(`This API key lacks the "${endpoint.auth}" scope.`);
        }
      }
      const url = new URL(request.url);
      const params = parsePart(endpoint.params, await context.params, "params");
      const query = parsePart(endpoint.query, Object.fromEntries(url.searchParams), "query");
      const body = parsePart(endpoint.body, endpoint.body ? await readBody(endpoint, request) : undefined, "body");
      const result = await handler({ db, principal, params, query, body, request });
      // A 204 must not carry a body (the Response constructor refuses one).
      if (endpoint.successStatus === 204) return new Response(null, { status: 204 });
      return Response.json(result, { status: endpoint.successStatus ?? 200 });
    } catch (error) {
      return errorResponse(error, endpoint);
    }
  };
}

export function errorResponse(error: unknown, endpoint: Pick<EndpointDefinition, "method" | "path">): Response {
  if (error instanceof DomainError) {
    return jsonError(HTTP_STATUS_BY_CODE[error.code], error.code, error.message, error.fieldErrors);
  }
  const databaseRefusal = invalidInputFromDatabase(error);
  if (databaseRefusal) return jsonError(400, databaseRefusal.code, databaseRefusal.message);
  logger.error("REST endpoint failed", { endpoint: `${endpoint.method} ${endpoint.path}`, error });
  return jsonError(500, "INTERNAL", "Something went wrong on our side. It has been logged.");
}
