import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { CreateAgentInput, UpdateAgentInput } from "@/server/domain/agents/agent-input";
import { GovernanceSettings } from "@/server/domain/governance/settings";
import type { UpdatePolicyInput } from "@/server/domain/policy/policies";
import type { EndpointDefinition } from "@/server/rest/endpoint";
import { endpoints } from "@/server/rest/endpoints";
import { appRouter, createCaller } from "@/server/trpc/root";
import type { TRPCContext } from "@/server/trpc/init";
import { jsonSchemaOf, type JsonSchema } from "./json-schema";

/**
 * Everything the security suite attacks, enumerated from the code itself: every tRPC procedure of `appRouter` and
 * every REST endpoint of `endpoints` with the route handler Next.js would run for it.
 */

export interface ProcedureTarget {
  path: string;
  type: "query" | "mutation";
  /** Undefined when the procedure takes no input. */
  inputSchema: JsonSchema | undefined;
}

interface ProcedureDef {
  _def: { type: string; inputs: z.ZodType[] };
}

const PolicyCondition = z.object({ path: z.string(), op: z.string(), value: z.unknown() });
const PolicyFieldsForTests = z.object({
  name: z.string().min(1).max(100),
  description: z.string().max(500).nullish(),
  effect: z.enum(["ALLOW", "REQUIRE_APPROVAL", "DENY"]),
  reason: z.string().max(300).nullish(),
  agentId: z.string().max(100).nullish(),
  toolName: z.string().max(200).nullish(),
  toolRisk: z.enum(["READ", "WRITE", "EXTERNAL"]).nullish(),
  onBehalfOfUserId: z.string().max(100).nullish(),
  conditions: z.array(PolicyCondition).max(20).optional(),
  enabled: z.boolean().optional(),
});

// Compile-time guard: the mirror names every field of the domain's policy input (a new field breaks the build here).
type MissingPolicyFields = Exclude<keyof UpdatePolicyInput, keyof z.input<typeof PolicyFieldsForTests> | "id">;
export const POLICY_MIRROR_IS_COMPLETE: [MissingPolicyFields] extends [never] ? true : MissingPolicyFields = true;

/**
 * Procedures whose transport input is `z.custom` (object check only) because the domain validates and keys its own
 * field errors. Their real contract is the domain's schema, so inputs are derived from it. Policies keep their zod
 * schema private; the mirror above is type-checked against the exported `PolicyInput` so it cannot drift silently.
 */
const DOMAIN_VALIDATED_INPUTS: Record<string, z.ZodType> = {
  "agents.create": CreateAgentInput,
  "agents.update": UpdateAgentInput,
  "policies.create": PolicyFieldsForTests,
  "policies.update": PolicyFieldsForTests.extend({ id: z.string().min(1) }),
  "policies.governance.update": GovernanceSettings,
};

const isOpaque = (schema: JsonSchema) => Object.keys(schema).filter((key) => key !== "$schema").length === 0;

export function listProcedures(): ProcedureTarget[] {
  const procedures = appRouter._def.procedures as unknown as Record<string, ProcedureDef>;
  return Object.entries(procedures).map(([procedurePath, procedure]) => {
    const type = procedure._def.type;
    if (type !== "query" && type !== "mutation") throw new Error(`${procedurePath}: unsupported procedure type ${type} (subscriptions need their own security tests)`);
    const [input, ...more] = procedure._def.inputs;
    if (more.length > 0) throw new Error(`${procedurePath}: chained .input() is not supported by the generator`);
    const override = DOMAIN_VALIDATED_INPUTS[procedurePath];
    let inputSchema = input ? jsonSchemaOf(override ?? input) : undefined;
    if (inputSchema && isOpaque(inputSchema)) {
      throw new Error(`${procedurePath}: its input schema says nothing about its shape; add the domain schema to DOMAIN_VALIDATED_INPUTS`);
    }
    // `z.object(...).optional()` inputs: the object is what matters.
    if (inputSchema?.anyOf && inputSchema.anyOf.length === 2 && inputSchema.anyOf.some((v) => v.type === "null" || isOpaque(v))) {
      inputSchema = { ...inputSchema.anyOf.find((v) => v.type === "object"), $defs: inputSchema.$defs };
    }
    return { path: procedurePath, type, inputSchema };
  });
}

type AnyProcedureCall = (input?: unknown) => Promise<unknown>;

/** Calls a procedure by its dotted path through the real middleware chain (scopes, error mapping). */
export function callProcedure(context: TRPCContext, procedurePath: string, input: unknown): Promise<unknown> {
  let node: unknown = createCaller(context);
  for (const segment of procedurePath.split(".")) node = (node as Record<string, unknown>)[segment];
  return (node as AnyProcedureCall)(input);
}

type RouteHandler = (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>;

export interface EndpointTarget {
  name: string;
  definition: EndpointDefinition;
  /** The route file that serves it (app/…/route.ts). */
  file: string;
  handler: RouteHandler;
}

const ROOT = path.resolve(import.meta.dirname, "../../..");

/** /api/v1/runs/{id} → app/api/v1/runs/[id]/route.ts */
export function routeFileOf(openApiPath: string): string {
  return path.join(ROOT, "app", openApiPath.replace(/\{(\w+)\}/g, "[$1]"), "route.ts");
}

export async function listEndpoints(): Promise<EndpointTarget[]> {
  const targets: EndpointTarget[] = [];
  for (const [name, definition] of Object.entries(endpoints) as [string, EndpointDefinition][]) {
    const file = routeFileOf(definition.path);
    if (!fs.existsSync(file)) throw new Error(`Endpoint ${name} (${definition.method} ${definition.path}) has no route file ${file}`);
    const module = (await import(file)) as Record<string, RouteHandler | undefined>;
    const handler = module[definition.method];
    if (!handler) throw new Error(`${file} does not export ${definition.method} for endpoint ${name}`);
    targets.push({ name, definition, file, handler });
  }
  return targets;
}

/** Every route.ts under app/api with the HTTP methods it exports: what a request can reach at all. */
export async function listRouteHandlers(): Promise<{ file: string; route: string; methods: string[] }[]> {
  const found: { file: string; route: string; methods: string[] }[] = [];
  const walk = async (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.name === "route.ts") {
        const module = (await import(full)) as Record<string, unknown>;
        const methods = ["GET", "POST", "PUT", "PATCH", "DELETE"].filter((method) => typeof module[method] === "function");
        found.push({ file: full, route: "/" + path.relative(path.join(ROOT, "app"), path.dirname(full)).split(path.sep).join("/"), methods });
      }
    }
  };
  await walk(path.join(ROOT, "app", "api"));
  return found;
}

/** Endpoint input parts as JSON Schemas, for generating params, query and body. */
export function endpointSchemas(definition: EndpointDefinition) {
  const part = (schema: z.ZodType | undefined) => (schema ? jsonSchemaOf(schema) : undefined);
  return { params: part(definition.params), query: part(definition.query), body: part(definition.body) };
}
