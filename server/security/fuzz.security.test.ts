import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import fc from "fast-check";
import superjson from "superjson";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { overrideDatabaseForTests, type Db } from "../db";
import { openTestDatabase, type TestDatabase } from "../testing/databases";
import { appRouter } from "../trpc/root";
import { recordSecurityCounts } from "./report";
import { arbitraryFromSchema, hostileString, hostileValue, type JsonSchema, type ReferenceFiller } from "./lib/json-schema";
import { tableForField } from "./lib/references";
import { callRestEndpoint, type RestInput } from "./lib/rest-calls";
import { seedRichOrg, type SeededOrg } from "./lib/seed";
import { idsByTable, snapshotOrg, tenantTables } from "./lib/snapshot";
import { endpointSchemas, listEndpoints, listProcedures, type EndpointTarget, type ProcedureTarget } from "./lib/targets";

/**
 * Every tRPC procedure (through the real fetch transport, superjson and all) and every REST route handler gets
 * fast-check inputs derived from its zod schema, mixed with hostile values, as a legitimate OWNER with real ids of
 * its own org. Bad input must always be a typed 4xx with a message a person can read: never a 500.
 *
 * SECURITY_FUZZ_RUNS (inputs per procedure/endpoint) and SECURITY_FUZZ_SEED make a failure reproducible.
 */
const SEED = Number(process.env.SECURITY_FUZZ_SEED ?? 20_260_707);
const RUNS = Number(process.env.SECURITY_FUZZ_RUNS ?? 25);
/** Generous: the budget is the run count; this only stops a hung run. */
const TEST_TIMEOUT_MS = 600_000;
/** A single call taking longer than this is a finding too (a hang is a denial of service). */
const CALL_TIMEOUT_MS = 15_000;
const GENERIC_MESSAGE = /something went wrong/i;

const counts = { "procedures total": 0, "procedures fuzzed": 0, "REST endpoints total": 0, "REST endpoints fuzzed": 0, "fuzzed inputs": 0, "500s": 0 };

/** fast-check's report: the counterexample and the assertion that failed, without the hints in between. */
function summariseFailure(failure: Error): string {
  const lines = failure.message.split("\n").filter((line) => line.trim() && !line.startsWith("Hint"));
  return lines.map((line) => line.slice(0, 600)).join("\n").slice(0, 2_500);
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${CALL_TIMEOUT_MS} ms`)), CALL_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** What a tRPC client would send; null when the client itself refuses the value (superjson rejects `__proto__`). */
function superjsonEncoding(input: unknown): string | null {
  try {
    return JSON.stringify(superjson.serialize(input));
  } catch {
    return null;
  }
}

/** What a hand-written client (curl) can send: arbitrary JSON, pollution keys and all. */
const rawEncoding = (input: unknown) => JSON.stringify({ json: input }) ?? "{}";

interface TrpcErrorBody {
  error?: { json?: { message?: unknown; code?: unknown; data?: { httpStatus?: unknown } } };
}

/** A refusal must say what is wrong in words: a non-empty message that is not the generic 500 text. */
function assertReadableRefusal(status: number, message: unknown, where: string): void {
  expect(status, `${where} answered ${status}: ${String(message)}`).toBeLessThan(500);
  if (status >= 400) {
    expect(typeof message === "string" && message.trim().length > 0, `${where}: ${status} without a message`).toBe(true);
    expect(String(message), where).not.toMatch(GENERIC_MESSAGE);
  }
}

describe("fuzzing every procedure and endpoint [pglite]", () => {
  let handle: TestDatabase;
  let db: Db;
  let seeded: SeededOrg;
  let fill: ReferenceFiller;
  const failures: string[] = [];

  beforeAll(async () => {
    handle = await openTestDatabase("pglite");
    db = handle.db;
    overrideDatabaseForTests(db, { kind: "pglite", dataDir: "memory://" });
    seeded = await seedRichOrg(db, "fuzz");
    const tables = await tenantTables(db);
    const ids = idsByTable(await snapshotOrg(db, seeded.org.orgId, tables));
    // Real ids of the caller's own org, so generated inputs get past lookups and into the deeper code.
    fill = (field, many) => {
      const table = tableForField(field, tables);
      const value = (table && ids[table]?.[0]) ?? ids.agents?.[0] ?? "x";
      return many ? [value] : value;
    };
  }, 300_000);

  afterAll(async () => {
    recordSecurityCounts("fuzz", counts);
    await handle?.close();
  });

  async function callTrpc(procedure: ProcedureTarget, input: unknown, raw: boolean): Promise<Response> {
    const encoded = raw ? rawEncoding(input) : superjsonEncoding(input) ?? rawEncoding(input);
    const url = new URL(`http://localhost/api/trpc/${procedure.path}`);
    const init: RequestInit = { method: procedure.type === "query" ? "GET" : "POST", headers: { "content-type": "application/json" } };
    if (procedure.type === "query") url.searchParams.set("input", encoded);
    else init.body = encoded;
    return fetchRequestHandler({
      endpoint: "/api/trpc",
      router: appRouter,
      createContext: () => ({ db, principal: seeded.org.principals.OWNER }),
      req: new Request(url, init),
    });
  }

  function inputArbitrary(schema: JsonSchema | undefined): fc.Arbitrary<unknown> {
    return schema ? arbitraryFromSchema(schema, fill) : fc.oneof(fc.constant(undefined), hostileValue);
  }

  it("never answers a tRPC procedure with a 500", async () => {
    const procedures = listProcedures();
    counts["procedures total"] = procedures.length;
    for (const procedure of procedures) {
      const property = fc.asyncProperty(inputArbitrary(procedure.inputSchema), fc.boolean(), async (input, raw) => {
        counts["fuzzed inputs"] += 1;
        const response = await withTimeout(callTrpc(procedure, input, raw), procedure.path);
        const body = (await response.json()) as TrpcErrorBody | TrpcErrorBody[];
        const error = (Array.isArray(body) ? body[0] : body)?.error?.json;
        if (response.status >= 500) counts["500s"] += 1;
        assertReadableRefusal(response.status, error?.message, procedure.path);
      });
      const failure = await fc.assert(property, { seed: SEED, numRuns: RUNS, endOnFailure: true }).then(() => null, (error: unknown) => error as Error);
      if (failure) failures.push(`${procedure.path} (seed ${SEED}, SECURITY_FUZZ_RUNS=${RUNS}): ${summariseFailure(failure)}`);
      counts["procedures fuzzed"] += 1;
    }
    expect(failures, failures.join("\n\n")).toEqual([]);
  }, TEST_TIMEOUT_MS);

  function restArbitrary(endpoint: EndpointTarget): fc.Arbitrary<RestInput> {
    const schemas = endpointSchemas(endpoint.definition);
    const part = (schema: JsonSchema | undefined) => (schema ? arbitraryFromSchema(schema, fill) : fc.constant({}));
    const asRecord = (value: unknown) => (typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : { id: value });
    const malformedJson = fc.constantFrom("{ nope", "[", '{"a":', "\u0000", '{"__proto__":{"polluted":true}}', "1e999", '"' + "x".repeat(70_000) + '"');
    // Next.js always passes each dynamic segment of the path as a string.
    const pathParams = [...endpoint.definition.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!);
    const params = fc.record(
      Object.fromEntries(pathParams.map((name) => [name, fc.oneof(fc.constant(String(fill(name, false))), fc.string({ minLength: 1, maxLength: 120 }), hostileString)])),
    );
    return fc.record({
      params,
      query: part(schemas.query).map(asRecord),
      body: schemas.body ? arbitraryFromSchema(schemas.body, fill) : hostileValue,
      rawBody: fc.option(malformedJson, { freq: 6, nil: undefined }),
    });
  }

  it("never answers a REST endpoint with a 500", async () => {
    const endpoints = await listEndpoints();
    counts["REST endpoints total"] = endpoints.length;
    for (const endpoint of endpoints) {
      const property = fc.asyncProperty(restArbitrary(endpoint), async (input) => {
        counts["fuzzed inputs"] += 1;
        const response = await withTimeout(callRestEndpoint(endpoint, seeded.apiKey.plaintext, input), endpoint.name);
        if (response.status >= 500) counts["500s"] += 1;
        const text = await response.text();
        let message: unknown = "";
        if (response.status >= 400) message = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message;
        assertReadableRefusal(response.status, message, `${endpoint.definition.method} ${endpoint.definition.path}`);
      });
      const failure = await fc.assert(property, { seed: SEED, numRuns: RUNS, endOnFailure: true }).then(() => null, (error: unknown) => error as Error);
      if (failure) failures.push(`${endpoint.name} (seed ${SEED}, SECURITY_FUZZ_RUNS=${RUNS}): ${summariseFailure(failure)}`);
      counts["REST endpoints fuzzed"] += 1;
    }
    expect(failures, failures.join("\n\n")).toEqual([]);
  }, TEST_TIMEOUT_MS);
});
