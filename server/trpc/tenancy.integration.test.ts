import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import superjson from "superjson";
import { beforeAll, expect, it } from "vitest";
import { GET as getAgentRoute } from "@/app/api/v1/agents/[id]/route";
import { GET as getApiKeyRoute } from "@/app/api/v1/api-keys/[id]/route";
import { POST as createApiKeyRoute } from "@/app/api/v1/api-keys/route";
import { GET as getRunRoute } from "@/app/api/v1/runs/[id]/route";
import { GET as listRunsRoute } from "@/app/api/v1/runs/route";
import { SCOPES } from "@/lib/scopes";
import { overrideDatabaseForTests } from "../db";
import type { Principal } from "../domain/identity/principal";
import { describeOnEachDatabase } from "../testing/databases";
import { callRest } from "../testing/rest";
import { createTestAgentAndRun, createTestApiKey, createTestOrg, type TestOrg } from "../testing/fixtures";
import { appRouter, createCaller } from "./root";

const BASE = "http://localhost";

describeOnEachDatabase("tenancy, roles and input validation", (getDb, kind) => {
  let orgA: TestOrg;
  let orgB: TestOrg;
  let fixtureA: Awaited<ReturnType<typeof createTestAgentAndRun>>;
  let keyA: { id: string; plaintext: string };
  let keyB: { id: string; plaintext: string };

  beforeAll(async () => {
    const db = getDb();
    overrideDatabaseForTests(db, kind === "pglite" ? { kind: "pglite", dataDir: "memory://" } : { kind: "postgres", url: "test" });
    orgA = await createTestOrg(db, "alpha");
    orgB = await createTestOrg(db, "beta");
    fixtureA = await createTestAgentAndRun(db, orgA);
    keyA = await createTestApiKey(db, orgA, SCOPES);
    keyB = await createTestApiKey(db, orgB, SCOPES);
  });

  const callerFor = (principal: Principal) => createCaller({ db: getDb(), principal });

  it("returns NOT_FOUND over tRPC when org B asks for org A's agent, run or API key by id", async () => {
    const memberB = callerFor(orgB.principals.MEMBER);
    const ownerB = callerFor(orgB.principals.OWNER);
    await expect(memberB.agents.byId({ id: fixtureA.agent.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(memberB.agents.byId({ id: fixtureA.agent.slug })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(memberB.runs.byId({ id: fixtureA.run.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(ownerB.apiKeys.byId({ id: keyA.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(ownerB.apiKeys.revoke({ id: keyA.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    // The owner of org A does see them: the 404 above is tenancy, not a broken lookup.
    const ownerA = callerFor(orgA.principals.OWNER);
    await expect(ownerA.agents.byId({ id: fixtureA.agent.id })).resolves.toMatchObject({ slug: fixtureA.agent.slug });
    await expect(ownerA.runs.byId({ id: fixtureA.run.id })).resolves.toMatchObject({ id: fixtureA.run.id });
    await expect(ownerA.apiKeys.byId({ id: keyA.id })).resolves.toMatchObject({ id: keyA.id });
  });

  it("returns 404 over REST when org B's key asks for org A's agent, run or API key", async () => {
    for (const [handler, id] of [
      [getAgentRoute, fixtureA.agent.id],
      [getRunRoute, fixtureA.run.id],
      [getApiKeyRoute, keyA.id],
    ] as const) {
      const response = await callRest(handler, keyB.plaintext, { id });
      expect(response.status).toBe(404);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("NOT_FOUND");
      const own = await callRest(handler, keyA.plaintext, { id });
      expect(own.status).toBe(200);
    }
  });

  it("forbids a MEMBER from every admin procedure", async () => {
    const member = callerFor(orgA.principals.MEMBER);
    await expect(member.members.list()).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(member.members.invite({ email: "x@example.test", role: "ADMIN" })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(member.apiKeys.list()).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(member.apiKeys.create({ name: "k", scopes: ["runs:read"] })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(member.audit.list({ limit: 10 })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(callerFor(orgA.principals.ADMIN).members.list()).resolves.toBeDefined();
  });

  it("answers an API key without the needed scope with 403", async () => {
    const narrow = await createTestApiKey(getDb(), orgA, ["runs:read"]);
    const response = await callRest(getAgentRoute, narrow.plaintext, { id: fixtureA.agent.id });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain("agents:read");
  });

  it("answers malformed tRPC input with HTTP 400 and field-level messages", async () => {
    const principal = orgA.principals.OWNER;
    const response = await fetchRequestHandler({
      endpoint: "/api/trpc",
      router: appRouter,
      createContext: () => ({ db: getDb(), principal }),
      req: new Request(`${BASE}/api/trpc/apiKeys.create`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(superjson.serialize({ name: "", scopes: ["not:a-scope"] })),
      }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { json: { message: string; data: { fieldErrors: Record<string, string[]> } } } };
    expect(body.error.json.data.fieldErrors.name?.[0]).toBe("Give the key a name.");
    expect(body.error.json.data.fieldErrors.scopes).toBeDefined();
  });

  it("answers malformed REST input with 400 and field-level messages, never a 500", async () => {
    const badBody = await callRest(createApiKeyRoute, keyA.plaintext, {}, { method: "POST", body: JSON.stringify({ name: "", scopes: [] }) });
    expect(badBody.status).toBe(400);
    const body = (await badBody.json()) as { error: { code: string; fields: Record<string, string[]> } };
    expect(body.error.code).toBe("INVALID_INPUT");
    expect(body.error.fields["body.name"]).toEqual(["Give the key a name."]);
    expect(body.error.fields["body.scopes"]).toEqual(["Choose at least one scope."]);

    const notJson = await callRest(createApiKeyRoute, keyA.plaintext, {}, { method: "POST", body: "{ nope" });
    expect(notJson.status).toBe(400);

    const badQuery = await callRest(listRunsRoute, keyA.plaintext, {}, { path: "/api/v1/runs?limit=abc&status=bogus" });
    expect(badQuery.status).toBe(400);
    const queryBody = (await badQuery.json()) as { error: { fields: Record<string, string[]> } };
    expect(Object.keys(queryBody.error.fields).sort()).toEqual(["query.limit", "query.status"]);
  });

  it("refuses a missing, unknown or revoked key with 401", async () => {
    const noKey = await getAgentRoute(new Request(`${BASE}/api/v1/agents/x`), { params: Promise.resolve({ id: "x" }) });
    expect(noKey.status).toBe(401);
    expect((await callRest(getAgentRoute, "sb_not-a-real-key-at-all-000000", { id: "x" })).status).toBe(401);
    const doomed = await createTestApiKey(getDb(), orgA, SCOPES);
    await callerFor(orgA.principals.OWNER).apiKeys.revoke({ id: doomed.id });
    expect((await callRest(getAgentRoute, doomed.plaintext, { id: fixtureA.agent.id })).status).toBe(401);
  });
});
