import type { EndpointDefinition } from "@/server/rest/endpoint";
import type { JsonSchema } from "./json-schema";
import { endpointSchemas, type EndpointTarget } from "./targets";

/** One REST request's variable parts. `body` is sent as JSON, or as multipart fields when the endpoint says so. */
export interface RestInput {
  params: Record<string, unknown>;
  query: Record<string, unknown>;
  body: unknown;
  /** Raw request body text (fuzzing malformed JSON); wins over `body`. */
  rawBody?: string;
}

const asRecord = (value: unknown): Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

/**
 * Requests for an endpoint from per-part input generators: every variant of every part is sent at least once
 * (parts are zipped, the shorter lists wrapping around).
 */
export function restInputs(definition: EndpointDefinition, inputsFor: (schema: JsonSchema | undefined) => unknown[]): RestInput[] {
  const schemas = endpointSchemas(definition);
  const params = schemas.params ? inputsFor(schemas.params) : [{}];
  const query = schemas.query ? inputsFor(schemas.query) : [{}];
  const body = schemas.body ? inputsFor(schemas.body) : [undefined];
  const count = Math.max(params.length, query.length, body.length);
  return Array.from({ length: count }, (_, i) => ({
    params: asRecord(params[i % params.length]),
    query: asRecord(query[i % query.length]),
    body: body[i % body.length],
  }));
}

const text = (value: unknown) => (typeof value === "string" ? value : JSON.stringify(value) ?? "");

function multipartOf(body: unknown): FormData {
  const form = new FormData();
  for (const [key, value] of Object.entries(asRecord(body))) {
    if (value instanceof Blob) form.set(key, value);
    else if (key === "file") form.set(key, new File([text(value)], "notes.md", { type: "text/markdown" }));
    else if (value !== undefined) form.set(key, text(value));
  }
  return form;
}

/** Calls the route handler exactly as Next.js would, with `Authorization: Bearer <key>` when a key is given. */
export function callRestEndpoint(endpoint: EndpointTarget, key: string | null, input: RestInput, headers: Record<string, string> = {}): Promise<Response> {
  const { definition } = endpoint;
  let pathname = definition.path;
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.params)) {
    params[name] = text(value);
    pathname = pathname.replace(`{${name}}`, encodeURIComponent(params[name]));
  }
  const url = new URL(`http://localhost${pathname}`);
  for (const [name, value] of Object.entries(input.query)) if (value !== undefined) url.searchParams.set(name, text(value));
  const init: RequestInit = { method: definition.method, headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers } };
  if (definition.method !== "GET") {
    if (input.rawBody !== undefined) {
      init.body = input.rawBody;
      (init.headers as Record<string, string>)["content-type"] = "application/json";
    } else if (definition.bodyType === "multipart") {
      init.body = multipartOf(input.body);
    } else if (input.body !== undefined) {
      init.body = JSON.stringify(input.body);
      (init.headers as Record<string, string>)["content-type"] = "application/json";
    }
  }
  return endpoint.handler(new Request(url, init), { params: Promise.resolve(params) });
}
