import crypto from "node:crypto";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import superjson from "superjson";
import { beforeAll, expect, it } from "vitest";
import type { CreateAgentInput } from "../../domain/agents/agent-input";
import type { Principal } from "../../domain/identity/principal";
import { createModelConfig } from "../../domain/models/model-configs";
import { describeOnEachDatabase } from "../../testing/databases";
import { createTestOrg, type TestOrg } from "../../testing/fixtures";
import { appRouter, createCaller } from "../root";

const KEY = crypto.randomBytes(32);

describeOnEachDatabase("agents and models over tRPC", (getDb) => {
  let org: TestOrg;
  let scripted: { id: string };
  let toolId: string;

  beforeAll(async () => {
    const db = getDb();
    org = await createTestOrg(db, "agents-trpc");
    scripted = await createModelConfig(db, org.principals.OWNER, { name: "scripted", provider: "SCRIPTED", model: "scripted-v1" }, KEY);
    const server = await db.toolServer.create({ data: { orgId: org.orgId, name: "crm", transport: "HTTP", url: "http://127.0.0.1:9/mcp" } });
    toolId = (await db.tool.create({ data: { orgId: org.orgId, serverId: server.id, name: "search_customers", inputSchema: {}, definitionHash: "h" } })).id;
  });

  const agentInput = (overrides: Partial<CreateAgentInput> = {}): CreateAgentInput => ({
    name: "Support triage",
    slug: `triage-${crypto.randomBytes(3).toString("hex")}`,
    instructions: "Triage tickets.",
    modelConfigId: scripted.id,
    config: { script: [{ tool: "search_customers", args: {} }, { final: "Done." }] },
    toolIds: [toolId],
    ...overrides,
  });

  async function post(principal: Principal, path: string, input: unknown) {
    const response = await fetchRequestHandler({
      endpoint: "/api/trpc",
      router: appRouter,
      createContext: () => ({ db: getDb(), principal }),
      req: new Request(`http://localhost/api/trpc/${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(superjson.serialize(input)),
      }),
    });
    const body = (await response.json()) as { error?: { json: { message: string; data: { fieldErrors: Record<string, string[]> | null } } } };
    return { status: response.status, error: body.error?.json };
  }

  it("sends the domain's nested field errors to the form", async () => {
    const { status, error } = await post(org.principals.OWNER, "agents.create", agentInput({ name: "", config: { limits: { maxSteps: 900 }, script: "[1]" } }));
    expect(status).toBe(400);
    expect(error?.data.fieldErrors).toEqual({
      name: ["Give the agent a name."],
      "config.limits.maxSteps": ["At most 500 steps per run."],
      "config.script": ['Turn 1: must be an object with "tool" (a tool call) or "final" (the answer).'],
    });
    const scriptError = await post(org.principals.OWNER, "agents.create", agentInput({ config: { script: "[1]" } }));
    expect(scriptError.error?.data.fieldErrors).toEqual({
      "config.script": ['Turn 1: must be an object with "tool" (a tool call) or "final" (the answer).'],
    });
  });

  it("creates, reads, edits and compares agents through the router", async () => {
    const caller = createCaller({ db: getDb(), principal: org.principals.OWNER });
    const input = agentInput();
    const saved = await caller.agents.create(input);
    const detail = await caller.agents.byId({ id: saved.agentId });
    expect(detail).toMatchObject({ status: "ACTIVE", versionCount: 1, currentVersion: { version: 1, modelConfig: { name: "scripted" } } });
    expect(detail.tools.map((t) => t.name)).toEqual(["search_customers"]);

    await caller.agents.update({ ...input, agentId: saved.agentId, expectedVersion: 1, instructions: "Triage tickets.\nBe kind." });
    const diff = await caller.agents.diff({ agentId: saved.agentId, from: 1, to: 2 });
    expect(diff.instructions.lines.map((l) => l.op)).toEqual(["equal", "add"]);
    expect((await caller.agents.versions({ id: saved.agentId })).map((v) => v.version)).toEqual([2, 1]);
    expect((await caller.agents.grantableTools())[0]?.tools.map((t) => t.id)).toEqual([toolId]);
    await expect(caller.agents.disable({ id: saved.agentId })).resolves.toMatchObject({ status: "DISABLED" });

    const member = createCaller({ db: getDb(), principal: org.principals.MEMBER });
    await expect(member.agents.create(agentInput())).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(member.agents.forEditing({ id: saved.agentId })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(member.agents.byId({ id: saved.agentId })).resolves.toMatchObject({ id: saved.agentId });
  });

  it("lists models for readers and checks model input before touching secrets", async () => {
    const member = createCaller({ db: getDb(), principal: org.principals.MEMBER });
    expect((await member.models.list()).map((m) => m.name)).toContain("scripted");
    await expect(member.models.delete({ id: scripted.id })).rejects.toMatchObject({ code: "FORBIDDEN" });
    const { status, error } = await post(org.principals.OWNER, "models.create", { name: "x", provider: "OPENAI", model: "gpt", baseUrl: "ftp://x" });
    expect(status).toBe(400);
    expect(error?.data.fieldErrors).toEqual({ baseUrl: ["Use an http:// or https:// URL."] });
    const owner = createCaller({ db: getDb(), principal: org.principals.OWNER });
    await expect(owner.models.delete({ id: scripted.id })).rejects.toMatchObject({ code: "CONFLICT" });
    const unused = await createModelConfig(getDb(), org.principals.OWNER, { name: "unused", provider: "OLLAMA", model: "llama3.2" }, KEY);
    await expect(owner.models.delete({ id: unused.id })).resolves.toEqual({ id: unused.id, name: "unused" });
  });
});
