import { z } from "zod";
import { ErrorBody, type EndpointDefinition } from "./endpoint";
import { endpoints } from "./endpoints";

type JsonSchema = Record<string, unknown>;

function schemaOf(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const json = z.toJSONSchema(schema, { io, unrepresentable: "any", target: "openapi-3.0" }) as JsonSchema;
  delete json.$schema;
  return json;
}

function parametersOf(schema: z.ZodType | undefined, location: "path" | "query") {
  if (!schema) return [];
  const json = schemaOf(schema, "input") as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: location,
    required: location === "path" || (json.required ?? []).includes(name),
    schema: property,
  }));
}

const ERROR_RESPONSES = {
  "400": "The input is not valid (see error.fields)",
  "401": "Missing or invalid API key",
  "403": "The API key lacks the scope this needs",
  "404": "Not found in your organisation",
};

function operationOf(endpoint: EndpointDefinition) {
  const errorContent = { "application/json": { schema: { $ref: "#/components/schemas/Error" } } };
  const errors = Object.fromEntries(
    Object.entries(ERROR_RESPONSES)
      .filter(([status]) => endpoint.auth !== null || status === "400")
      .map(([status, description]) => [status, { description, content: errorContent }]),
  );
  for (const [status, description] of Object.entries(endpoint.errors ?? {})) errors[status] = { description, content: errorContent };
  return {
    summary: endpoint.summary,
    tags: [endpoint.tag],
    ...(endpoint.auth === null ? { security: [] } : {}),
    ...(endpoint.auth && endpoint.auth !== "any" ? { "x-required-scope": endpoint.auth } : {}),
    parameters: [...parametersOf(endpoint.params, "path"), ...parametersOf(endpoint.query, "query")],
    ...(endpoint.body
      ? { requestBody: { required: true, content: { [endpoint.bodyType === "multipart" ? "multipart/form-data" : "application/json"]: { schema: schemaOf(endpoint.body, "input") } } } }
      : {}),
    responses: {
      [String(endpoint.successStatus ?? 200)]:
        endpoint.successStatus === 204
          ? { description: "Done; no content" }
          : { description: "Success", content: { "application/json": { schema: schemaOf(endpoint.response, "output") } } },
      ...errors,
    },
  };
}

/** The OpenAPI 3 document, generated from the same zod schemas the handlers validate with. */
export function buildOpenApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const endpoint of Object.values(endpoints) as EndpointDefinition[]) {
    (paths[endpoint.path] ??= {})[endpoint.method.toLowerCase()] = operationOf(endpoint);
  }
  return {
    openapi: "3.0.3",
    info: {
      title: "Switchboard API",
      version: "1",
      description: "REST API v1 for machines. Authenticate with `Authorization: Bearer <API key>`; errors are `{ error: { code, message } }`.",
    },
    servers: [{ url: "/" }],
    security: [{ bearerAuth: [] }],
    components: {
      securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", description: "An API key created under Admin → API keys" } },
      schemas: { Error: schemaOf(ErrorBody, "output") },
    },
    paths,
  };
}
