import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZodError } from "zod";
import { overrideDatabaseForTests, type Db } from "../db";
import { openTestDatabase, type TestDatabase } from "../testing/databases";
import { recordSecurityCounts } from "./report";
import type { JsonSchema } from "./lib/json-schema";
import { referenceInputs, type ReferenceKind } from "./lib/references";
import { callRestEndpoint, restInputs } from "./lib/rest-calls";
import { seedRichOrg, type SeededOrg } from "./lib/seed";
import { changedTables, idsByTable, serialize, snapshotOrg, tenantTables, type OrgSnapshot } from "./lib/snapshot";
import { callProcedure, listEndpoints, listProcedures, listRouteHandlers, type EndpointTarget, type ProcedureTarget } from "./lib/targets";

/**
 * Org B's OWNER (every scope) and org B's API key (every scope) attack org A through every tRPC procedure and every
 * REST endpoint, with inputs generated from each input schema and filled with org A's real ids of every kind.
 * Nothing here is hand-picked: a new procedure or endpoint is attacked as soon as it exists.
 */

/**
 * What the generator cannot meaningfully aim at org A, and why. Keep this tiny: anything not listed that the
 * generator fails to cover makes the test fail.
 */
const NOT_COVERABLE: Record<string, string> = {
  // Public: the invitation token in the input is the credential (nothing in the principal decides access), and
  // org A's plaintext token is exactly what the invitee is meant to hold. Unknown tokens are tried (ids of A).
  "members.describeInvitation": "token-authenticated, not principal-scoped",
};

/** Route files outside the REST endpoint list, with the suite that covers them. */
const ROUTES_COVERED_ELSEWHERE: Record<string, string> = {
  "/api/trpc/[trpc]": "the tRPC transport of every procedure above; origin checks in web-auth.security.test.ts",
  "/api/auth/[...nextauth]": "next-auth sign-in/out: web-auth.security.test.ts",
  "/api/audit/export": "cookie session only; its domain function is the audit export, called cross-org below",
};

const ACCEPTED_REFUSALS = new Set(["NOT_FOUND", "BAD_REQUEST", "FORBIDDEN", "CONFLICT", "UNAUTHORIZED", "PAYMENT_REQUIRED"]);

interface Finding {
  target: string;
  input: unknown;
  problem: string;
}

describe("cross-org access generated from the router [pglite]", () => {
  let handle: TestDatabase;
  let db: Db;
  let victim: SeededOrg;
  let attacker: SeededOrg;
  let tables: string[];
  let baseline: OrgSnapshot;
  let kinds: ReferenceKind[];
  let victimIds: string[];
  const findings: Finding[] = [];
  // Why a procedure counted as not covered: shown in the failure message.
  const lastRefusal = new Map<string, string>();
  const lastControlError = new Map<string, string>();
  const counts = {
    "procedures total": 0,
    "procedures tried": 0,
    "procedures excluded": Object.keys(NOT_COVERABLE).length,
    "REST endpoints total": 0,
    "REST endpoints tried": 0,
    "cross-org calls": 0,
    "cross-org successes": 0,
  };

  beforeAll(async () => {
    handle = await openTestDatabase("pglite");
    db = handle.db;
    overrideDatabaseForTests(db, { kind: "pglite", dataDir: "memory://" });
    victim = await seedRichOrg(db, "alpha");
    attacker = await seedRichOrg(db, "beta");
    tables = await tenantTables(db);
    baseline = await snapshotOrg(db, victim.org.orgId, tables);
    const ids = idsByTable(baseline);
    victimIds = [...new Set(Object.values(ids).flat())];
    kinds = [
      ...Object.entries(ids).flatMap(([table, list]) => (list[0] ? [{ name: table, value: list[0] }] : [])),
      ...baseline.agents!.map((agent) => ({ name: "agent slug", value: String(agent.slug) })).slice(0, 1),
      ...baseline.users!.map((user) => ({ name: "user email", value: String(user.email) })).slice(0, 1),
    ];
    expect(kinds.length).toBeGreaterThan(20);
  }, 300_000);

  afterAll(async () => {
    recordSecurityCounts("cross-org", counts);
    await handle?.close();
  });

  const firstIdOf = (table: string) => idsByTable(baseline)[table]?.[0];

  /** Org A's data in a response: its canary text, or an id of A's that the caller did not send. */
  function leakIn(output: unknown, input: unknown): string | null {
    const text = serialize(output) ?? "";
    if (text.includes(victim.planted.marker)) return `org A's content (${victim.planted.marker})`;
    const sent = serialize(input) ?? "";
    const id = victimIds.find((candidate) => text.includes(candidate) && !sent.includes(candidate));
    return id ? `org A's id ${id}` : null;
  }

  /** After a mutation: A's rows exactly as before, and none of B's rows pointing at A. */
  async function damageAfter(target: string): Promise<string | null> {
    const after = await snapshotOrg(db, victim.org.orgId, tables);
    const changed = changedTables(baseline, after);
    if (changed.length > 0) {
      baseline = after;
      return `${target} changed org A's ${changed.join(", ")}`;
    }
    const attackerRows = serialize(await snapshotOrg(db, attacker.org.orgId, tables));
    const referenced = victimIds.find((id) => attackerRows.includes(id));
    if (referenced || attackerRows.includes(victim.planted.marker)) return `${target} made org B's rows reference org A (${referenced ?? "content"})`;
    return null;
  }

  function inputsFor(schema: JsonSchema | undefined): unknown[] {
    return schema ? referenceInputs(schema, kinds, firstIdOf, tables) : [undefined];
  }

  async function attackProcedure(procedure: ProcedureTarget): Promise<boolean> {
    const attackerContext = { db, principal: attacker.org.principals.OWNER };
    const victimContext = { db, principal: victim.org.principals.OWNER };
    let reachedDomain = false;
    let controlSucceeded = procedure.type === "mutation" || !procedure.inputSchema;
    for (const input of inputsFor(procedure.inputSchema)) {
      counts["cross-org calls"] += 1;
      try {
        const output = await callProcedure(attackerContext, procedure.path, input);
        reachedDomain = true;
        const leak = leakIn(output, input);
        if (leak) findings.push({ target: procedure.path, input, problem: `returned ${leak}` });
      } catch (error) {
        if (!(error instanceof TRPCError)) throw error;
        if (!(error.cause instanceof ZodError)) reachedDomain = true;
        else lastRefusal.set(procedure.path, `${error.message} for ${serialize(input)?.slice(0, 300)}`);
        if (!ACCEPTED_REFUSALS.has(error.code)) findings.push({ target: procedure.path, input, problem: `${error.code}: ${error.message}` });
      }
      // The same input from org A's owner must work at least once: proof the generated input was meaningful and
      // the refusal above was tenancy, not a malformed request.
      if (!controlSucceeded) {
        controlSucceeded = await callProcedure(victimContext, procedure.path, input).then(
          () => true,
          (error: unknown) => {
            lastControlError.set(procedure.path, `${(error as Error).message} for ${serialize(input)?.slice(0, 300)}`);
            return false;
          },
        );
      }
    }
    if (procedure.type === "mutation") {
      const damage = await damageAfter(procedure.path);
      if (damage) findings.push({ target: procedure.path, input: null, problem: damage });
    }
    return reachedDomain && controlSucceeded;
  }

  it("covers every tRPC procedure of appRouter and none reaches org A", async () => {
    const procedures = listProcedures();
    counts["procedures total"] = procedures.length;
    expect(procedures.length).toBeGreaterThan(90);
    const uncovered: string[] = [];
    const slowest: [string, number][] = [];
    for (const procedure of procedures) {
      const started = performance.now();
      const covered = await attackProcedure(procedure);
      slowest.push([procedure.path, Math.round(performance.now() - started)]);
      if (covered) counts["procedures tried"] += 1;
      else if (!NOT_COVERABLE[procedure.path]) {
        uncovered.push(`${procedure.path}: ${lastRefusal.get(procedure.path) ?? lastControlError.get(procedure.path) ?? "?"}`);
      }
    }
    if (process.env.SECURITY_VERBOSE) console.log(slowest.sort((a, b) => b[1] - a[1]).slice(0, 15), counts);
    counts["cross-org successes"] = findings.length;
    expect(findings, JSON.stringify(findings.slice(0, 10), null, 2)).toEqual([]);
    expect(uncovered, "procedures the generator could not aim at org A (fix the generator or explain in NOT_COVERABLE)").toEqual([]);
    expect(Object.keys(NOT_COVERABLE).filter((path) => !procedures.some((p) => p.path === path)), "stale exclusions").toEqual([]);
  });

  async function attackEndpoint(endpoint: EndpointTarget): Promise<boolean> {
    let reachedHandler = false;
    let controlSucceeded = endpoint.definition.method !== "GET" || !endpoint.definition.params;
    for (const input of restInputs(endpoint.definition, (schema) => inputsFor(schema))) {
      counts["cross-org calls"] += 1;
      const response = await callRestEndpoint(endpoint, attacker.apiKey.plaintext, input);
      const text = await response.text();
      if (!/^Invalid (params|query|body)/.test(parseMessage(text))) reachedHandler = true;
      if (response.status >= 500) findings.push({ target: endpoint.name, input, problem: `HTTP ${response.status}: ${text.slice(0, 200)}` });
      else if (response.ok) {
        const leak = leakIn(text, input);
        if (leak) findings.push({ target: endpoint.name, input, problem: `returned ${leak}` });
      }
      if (!controlSucceeded) {
        controlSucceeded = (await callRestEndpoint(endpoint, victim.apiKey.plaintext, input)).ok;
        // The control is org A acting on itself (it touches its own key's lastUsedAt): that is the new baseline.
        baseline = await snapshotOrg(db, victim.org.orgId, tables);
      }
    }
    if (endpoint.definition.method !== "GET") {
      const damage = await damageAfter(endpoint.name);
      if (damage) findings.push({ target: endpoint.name, input: null, problem: damage });
    }
    return reachedHandler && controlSucceeded;
  }

  it("covers every REST endpoint with org B's API key and none reaches org A", async () => {
    const endpoints = await listEndpoints();
    counts["REST endpoints total"] = endpoints.length;
    const uncovered: string[] = [];
    const before = findings.length;
    for (const endpoint of endpoints) {
      if (await attackEndpoint(endpoint)) counts["REST endpoints tried"] += 1;
      else uncovered.push(endpoint.name);
    }
    counts["cross-org successes"] = findings.length;
    expect(findings.slice(before), JSON.stringify(findings.slice(before, before + 10), null, 2)).toEqual([]);
    expect(uncovered).toEqual([]);

    // Every route file is either an endpoint above or covered by a named suite: nothing reachable is forgotten.
    const served = new Set(endpoints.map((e) => e.file));
    const unlisted = (await listRouteHandlers()).filter((route) => !served.has(route.file) && !ROUTES_COVERED_ELSEWHERE[route.route]);
    // Routes outside the API (health, metrics, …): org B's key and no key at all must never see org A's data.
    for (const route of unlisted) {
      for (const method of route.methods) {
        const handler = (await import(route.file)) as Record<string, (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>>;
        for (const headers of [{ authorization: `Bearer ${attacker.apiKey.plaintext}` }, {}] as Record<string, string>[]) {
          counts["cross-org calls"] += 1;
          const response = await handler[method]!(new Request(`http://localhost${route.route}`, { method, headers }), { params: Promise.resolve({}) });
          const text = await response.text();
          if (response.status >= 500 && response.status !== 503) findings.push({ target: route.route, input: headers, problem: `HTTP ${response.status}` });
          const leak = leakIn(text, {});
          if (leak) findings.push({ target: route.route, input: headers, problem: `returned ${leak}` });
        }
      }
    }
    counts["cross-org successes"] = findings.length;
    expect(findings.slice(before)).toEqual([]);
  });

  it("exports no org A audit events to org B (the cookie-only audit export route's domain call)", async () => {
    const { exportAuditEvents } = await import("../domain/audit/audit-query");
    const exported = await exportAuditEvents(db, attacker.org.principals.OWNER, {});
    let text = "";
    for await (const line of exported.lines) text += line;
    expect(text.length).toBeGreaterThan(0);
    expect(leakIn(text, {})).toBeNull();
  });
});

function parseMessage(text: string): string {
  try {
    return String((JSON.parse(text) as { error?: { message?: string } }).error?.message ?? "");
  } catch {
    return "";
  }
}

