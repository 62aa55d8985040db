import path from "node:path";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import superjson from "superjson";
import { afterAll, beforeAll, expect, it } from "vitest";
import { getToolServer, refreshToolServer, registerToolServer } from "@/server/domain/tools/servers";
import { McpClientPool } from "@/server/runtime/mcp/pool";
import { describeOnEachDatabase } from "@/server/testing/databases";
import { createTestOrg, type TestOrg } from "@/server/testing/fixtures";
import { appRouter, createCaller } from "../root";

/** The tools router as the console calls it: status codes and field errors, with real sessions. */
const FIXTURE = path.resolve(import.meta.dirname, "../../runtime/mcp/fixtures/misbehaving-server.mjs");
const pool = new McpClientPool();

afterAll(async () => {
  await pool.closeAll();
});

describeOnEachDatabase("tools router", (getDb) => {
  let org: TestOrg;
  let rival: TestOrg;

  beforeAll(async () => {
    org = await createTestOrg(getDb(), "toolsrouter");
    rival = await createTestOrg(getDb(), "toolsrival");
  });

  it("answers another organisation's server, tool and grant with NOT_FOUND", async () => {
    const db = getDb();
    const owner = org.principals.OWNER;
    const server = await registerToolServer(db, owner, { transport: "STDIO", name: "orders", command: process.execPath, args: [FIXTURE] });
    await refreshToolServer(db, owner, server.id, { mcp: pool, encryptionKey: Buffer.alloc(32) });
    const toolId = (await getToolServer(db, owner, server.id)).tools[0]!.id;
    const rivalAgent = await db.agent.create({ data: { orgId: rival.orgId, slug: "rival-agent", name: "Rival" } });

    const caller = createCaller({ db, principal: rival.principals.OWNER });
    await expect(caller.tools.byId({ id: server.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(caller.tools.classify({ toolId, risk: "READ", idempotent: true })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(caller.tools.grants.set({ agentId: rivalAgent.id, toolIds: [toolId] })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(caller.tools.setEnabled({ id: server.id, enabled: false })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(caller.tools.delete({ id: server.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect((await caller.tools.list()).map((s) => s.id)).not.toContain(server.id);
    await expect(createCaller({ db, principal: owner }).tools.byId({ id: server.id })).resolves.toMatchObject({ name: "orders" });
  });

  it("forbids a member from changing tools or reading secrets, but lets them look", async () => {
    const db = getDb();
    const member = createCaller({ db, principal: org.principals.MEMBER });
    await expect(member.tools.register({ transport: "HTTP", name: "crm", url: "https://crm.example.com/mcp" })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(member.tools.secrets.list()).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(member.tools.list()).resolves.toBeInstanceOf(Array);
  });

  it("sends field errors the register form can show", async () => {
    const principal = org.principals.OWNER;
    const post = (body: unknown) =>
      fetchRequestHandler({
        endpoint: "/api/trpc",
        router: appRouter,
        createContext: () => ({ db: getDb(), principal }),
        req: new Request("http://localhost/api/trpc/tools.register", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(superjson.serialize(body)),
        }),
      });
    type ErrorBody = { error: { json: { message: string; data: { fieldErrors: Record<string, string[]> } } } };

    const badUrl = await post({ transport: "HTTP", name: "files", url: "javascript:alert(1)" });
    expect(badUrl.status).toBe(400);
    expect(((await badUrl.json()) as ErrorBody).error.json.data.fieldErrors).toEqual({ url: ["Enter an http:// or https:// URL, e.g. https://mcp.example.com/mcp."] });

    const noCommand = await post({ transport: "STDIO", name: "Bad name", command: "" });
    expect(noCommand.status).toBe(400);
    expect(Object.keys(((await noCommand.json()) as ErrorBody).error.json.data.fieldErrors).sort()).toEqual(["command", "name"]);

    const missingSecret = await post({ transport: "STDIO", name: "needs-token", command: "node", envSecrets: { TOKEN: "missing-secret" } });
    expect(missingSecret.status).toBe(400);
    expect(((await missingSecret.json()) as ErrorBody).error.json.data.fieldErrors).toEqual({
      envSecrets: ["There is no secret named “missing-secret”. Create it under Secrets first."],
    });
  });
});
