import { z } from "zod";
import type { Scope } from "@/lib/scopes";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/**
 * One REST endpoint's contract. Route handlers are built from it (server/rest/handler.ts) and openapi.json is
 * generated from the list of them (server/rest/openapi.ts), so the document cannot drift from the code.
 */
export interface EndpointDefinition<
  TParams extends z.ZodType = z.ZodType,
  TQuery extends z.ZodType = z.ZodType,
  TBody extends z.ZodType = z.ZodType,
  TResponse extends z.ZodType = z.ZodType,
> {
  method: HttpMethod;
  /** OpenAPI-style path, e.g. /api/v1/runs/{id}. */
  path: string;
  summary: string;
  tag: string;
  /** null = public; "any" = any valid API key; otherwise the scope the key must carry. */
  auth: Scope | "any" | null;
  params?: TParams;
  query?: TQuery;
  body?: TBody;
  /** How the body is sent; multipart bodies are read with formData() (fields as strings, files as File). Default JSON. */
  bodyType?: "json" | "multipart";
  /** Refuse larger bodies (by Content-Length) with 413 before reading them. */
  maxBodyBytes?: number;
  response: TResponse;
  successStatus?: 200 | 201 | 204;
  /** Error responses beyond the ones every endpoint of its kind has (status → when). */
  errors?: Record<string, string>;
}

export function defineEndpoint<
  TParams extends z.ZodType = z.ZodObject<Record<string, never>>,
  TQuery extends z.ZodType = z.ZodObject<Record<string, never>>,
  TBody extends z.ZodType = z.ZodUndefined,
  TResponse extends z.ZodType = z.ZodType,
>(definition: EndpointDefinition<TParams, TQuery, TBody, TResponse>) {
  return definition;
}

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string().meta({ description: "Stable machine-readable code, e.g. NOT_FOUND, INVALID_INPUT" }),
      message: z.string().meta({ description: "What went wrong, written for a person" }),
      fields: z.record(z.string(), z.array(z.string())).optional().meta({ description: "Field path → messages" }),
    }),
  })
  .meta({ id: "Error" });
