import crypto from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { describeOnEachDatabase } from "../../testing/databases";
import { createTestOrg, type TestOrg } from "../../testing/fixtures";
import { createModelConfig } from "../models/model-configs";
import type { CreateAgentInput } from "./agent-input";
import {
  archiveAgent,
  createAgent,
  disableAgent,
  enableAgent,
  getAgent,
  getAgentDetail,
  getAgentForEditing,
  listAgents,
  restoreAgent,
  updateAgent,
} from "./agents";
import { loadAgentVersionForRun } from "./run-config";
import { diffAgentVersions, getAgentVersion, listAgentVersions } from "./versions";

const KEY = crypto.randomBytes(32);
const suffix = () => crypto.randomBytes(3).toString("hex");

describeOnEachDatabase("agents", (getDb) => {
  let org: TestOrg;
  let other: TestOrg;
  let scripted: { id: string };
  let openai: { id: string };
  let ollama: { id: string };
  let tools: { search: string; send: string; lookup: string };
  let foreignTool: string;
  let foreignModel: { id: string };

  beforeAll(async () => {
    const db = getDb();
    org = await createTestOrg(db, "agents");
    other = await createTestOrg(db, "agents-other");
    const owner = org.principals.OWNER;
    scripted = await createModelConfig(db, owner, { name: "scripted", provider: "SCRIPTED", model: "scripted-v1" }, KEY);
    openai = await createModelConfig(db, owner, { name: "gpt", provider: "OPENAI", model: "gpt-4o-mini", apiKey: "sk-live-secret", inputPriceMicros: 150_000 }, KEY);
    ollama = await createModelConfig(db, owner, { name: "llama", provider: "OLLAMA", model: "llama3.2" }, KEY);
    foreignModel = await createModelConfig(db, other.principals.OWNER, { name: "theirs", provider: "OLLAMA", model: "llama3.2" }, KEY);

    const makeTools = async (orgId: string, server: string, names: string[]) => {
      const row = await db.toolServer.create({ data: { orgId, name: server, transport: "HTTP", url: "http://127.0.0.1:9/mcp" } });
      const ids: string[] = [];
      for (const name of names) {
        const tool = await db.tool.create({ data: { orgId, serverId: row.id, name, inputSchema: {}, definitionHash: name } });
        ids.push(tool.id);
      }
      return ids;
    };
    const [search, send] = await makeTools(org.orgId, "crm", ["search_customers", "send_email"]);
    const [lookup] = await makeTools(org.orgId, "docs", ["lookup"]);
    tools = { search: search!, send: send!, lookup: lookup! };
    [foreignTool] = (await makeTools(other.orgId, "crm", ["search_customers"])) as [string];
  });

  const scriptedAgent = (overrides: Partial<CreateAgentInput> = {}): CreateAgentInput => ({
    name: "Support triage",
    slug: `triage-${suffix()}`,
    description: "Sorts incoming tickets.",
    instructions: "You triage support tickets.\nBe brief.\nEscalate refunds.",
    modelConfigId: scripted.id,
    config: {
      limits: { maxSteps: 8, maxCostMicros: 500_000, timeoutMs: 120_000 },
      memory: { recallEnabled: true, recallTopK: 3 },
      script: '[{ "tool": "search_customers", "args": { "q": "{{input}}" } }, { "final": "Triaged." }]',
    },
    toolIds: [tools.search],
    ...overrides,
  });

  describe("creating", () => {
    it("creates the agent with version 1 as its current version, its grants and an audit event", async () => {
      const db = getDb();
      const input = scriptedAgent();
      const saved = await createAgent(db, org.principals.ADMIN, input);
      expect(saved).toMatchObject({ slug: input.slug, version: 1, createdVersion: true });

      const agent = await db.agent.findUniqueOrThrow({ where: { id: saved.agentId }, include: { toolGrants: true, versions: true } });
      expect(agent.currentVersionId).toBe(saved.versionId);
      expect(agent.versions).toHaveLength(1);
      expect(agent.toolGrants.map((g) => g.toolId)).toEqual([tools.search]);
      expect(agent.versions[0]).toMatchObject({ version: 1, modelConfigId: scripted.id, createdById: org.principals.ADMIN.userId });
      expect(agent.versions[0]!.config).toEqual({
        limits: { maxSteps: 8, maxCostMicros: 500_000, timeoutMs: 120_000 },
        memory: { recallEnabled: true, recallTopK: 3, remember: false, knowledge: false },
        script: [{ tool: "search_customers", args: { q: "{{input}}" } }, { final: "Triaged." }],
        toolNames: ["crm/search_customers"],
        submitDrafts: false,
        delegateAgentIds: [],
      });
      const audit = await db.auditEvent.findFirst({ where: { orgId: org.orgId, action: "agent.created", targetId: saved.agentId } });
      expect(audit?.data).toMatchObject({ slug: input.slug, version: 1 });
    });

    it("requires a script for a scripted model, with a field error", async () => {
      for (const script of [undefined, "", "[]"]) {
        await expect(
          createAgent(getDb(), org.principals.OWNER, scriptedAgent({ config: { script } })),
        ).rejects.toMatchObject({ code: "INVALID_INPUT", fieldErrors: { "config.script": [expect.stringMatching(/scripted model needs a script/)] } });
      }
    });

    it("points script errors at the turn", async () => {
      const error = await createAgent(getDb(), org.principals.OWNER, scriptedAgent({ config: { script: '[{ "final": "ok" }, { "tool": "" }, { "answer": 1 }]' } })).catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: "INVALID_INPUT",
        fieldErrors: { "config.script": ['Turn 2: "tool" must name the tool to call.', 'Turn 3: needs "tool" (a tool call) or "final" (the answer); found "answer".'] },
      });
      await expect(createAgent(getDb(), org.principals.OWNER, scriptedAgent({ config: { script: "[{" } }))).rejects.toMatchObject({
        fieldErrors: { "config.script": [expect.stringMatching(/^The script is not valid JSON/)] },
      });
    });

    it("drops a script the model would never use", async () => {
      const saved = await createAgent(getDb(), org.principals.OWNER, scriptedAgent({ modelConfigId: ollama.id }));
      const version = await getAgentVersion(getDb(), org.principals.OWNER, { agentId: saved.agentId, version: 1 });
      expect(version.config.script).toBeUndefined();
    });

    it("validates slug, limits, models and tools with field errors on each field", async () => {
      const db = getDb();
      const taken = scriptedAgent();
      await createAgent(db, org.principals.OWNER, taken);
      await expect(createAgent(db, org.principals.OWNER, scriptedAgent({ slug: taken.slug }))).rejects.toMatchObject({
        code: "INVALID_INPUT",
        fieldErrors: { slug: ["Another agent already uses this slug."] },
      });
      await expect(createAgent(db, org.principals.OWNER, scriptedAgent({ slug: "Not A Slug" }))).rejects.toMatchObject({
        fieldErrors: { slug: [expect.stringMatching(/lowercase letters/)] },
      });
      await expect(
        createAgent(db, org.principals.OWNER, scriptedAgent({ config: { limits: { maxSteps: 0, timeoutMs: 10 }, script: "[]" } })),
      ).rejects.toMatchObject({
        fieldErrors: { "config.limits.maxSteps": ["Allow at least 1 step."], "config.limits.timeoutMs": ["The timeout must be at least 1 second."] },
      });
      await expect(
        createAgent(db, org.principals.OWNER, scriptedAgent({ modelConfigId: foreignModel.id, toolIds: [tools.search, foreignTool] })),
      ).rejects.toMatchObject({
        fieldErrors: { modelConfigId: [expect.any(String)], toolIds: ["One chosen tool no longer exists. Reload the page to see the current list."] },
      });
      await expect(createAgent(db, org.principals.OWNER, scriptedAgent({ fallbackModelConfigId: scripted.id }))).rejects.toMatchObject({
        fieldErrors: { fallbackModelConfigId: [expect.stringMatching(/must differ/)] },
      });
    });

    it("forbids members and supervisors from creating agents but lets them read", async () => {
      for (const role of ["MEMBER", "SUPERVISOR"] as const) {
        await expect(createAgent(getDb(), org.principals[role], scriptedAgent())).rejects.toMatchObject({ code: "FORBIDDEN" });
      }
      await expect(listAgents(getDb(), org.principals.MEMBER)).resolves.toBeInstanceOf(Array);
    });
  });

  describe("editing", () => {
    it("writes version 2 on a save, leaves version 1 untouched, and writes nothing on a save without changes", async () => {
      const db = getDb();
      const input = scriptedAgent();
      const created = await createAgent(db, org.principals.OWNER, input);
      const v1Before = await db.agentVersion.findUniqueOrThrow({ where: { id: created.versionId } });

      const edit = {
        ...input,
        agentId: created.agentId,
        expectedVersion: 1,
        instructions: "You triage support tickets.\nBe brief and kind.\nEscalate refunds.\nNever promise dates.",
        config: { ...input.config, limits: { maxSteps: 12, maxCostMicros: 500_000, timeoutMs: 120_000 } },
        toolIds: [tools.send, tools.lookup],
      };
      const saved = await updateAgent(db, org.principals.OWNER, edit);
      expect(saved).toMatchObject({ version: 2, createdVersion: true });
      expect(await db.agentVersion.findUniqueOrThrow({ where: { id: created.versionId } })).toEqual(v1Before);
      const agent = await db.agent.findUniqueOrThrow({ where: { id: created.agentId }, include: { toolGrants: true } });
      expect(agent.currentVersionId).toBe(saved.versionId);
      expect(agent.toolGrants.map((g) => g.toolId).sort()).toEqual([tools.send, tools.lookup].sort());

      const again = await updateAgent(db, org.principals.OWNER, { ...edit, expectedVersion: 2 });
      expect(again).toMatchObject({ version: 2, versionId: saved.versionId, createdVersion: false });
      expect(await db.agentVersion.count({ where: { agentId: created.agentId } })).toBe(2);

      const renamed = await updateAgent(db, org.principals.OWNER, { ...edit, expectedVersion: 2, name: "Ticket triage" });
      expect(renamed).toMatchObject({ version: 2, createdVersion: false });
      expect((await getAgent(db, org.principals.MEMBER, created.agentId)).name).toBe("Ticket triage");
      expect(await db.agentVersion.count({ where: { agentId: created.agentId } })).toBe(2);

      const versions = await listAgentVersions(db, org.principals.MEMBER, created.agentId);
      expect(versions.map((v) => [v.version, v.isCurrent])).toEqual([
        [2, true],
        [1, false],
      ]);
    });

    it("refuses a save based on a stale version with a conflict", async () => {
      const db = getDb();
      const input = scriptedAgent();
      const created = await createAgent(db, org.principals.OWNER, input);
      await updateAgent(db, org.principals.ADMIN, { ...input, agentId: created.agentId, expectedVersion: 1, instructions: "Theirs." });
      await expect(
        updateAgent(db, org.principals.OWNER, { ...input, agentId: created.agentId, expectedVersion: 1, instructions: "Mine." }),
      ).rejects.toMatchObject({ code: "CONFLICT", message: expect.stringMatching(/^This agent changed since you opened it/) as string });
      expect((await getAgentDetail(db, org.principals.OWNER, created.agentId)).currentVersion?.instructions).toBe("Theirs.");
    });

    it("lets exactly one of two concurrent saves from the same version win", async () => {
      const db = getDb();
      const input = scriptedAgent();
      const created = await createAgent(db, org.principals.OWNER, input);
      const results = await Promise.allSettled(
        ["A", "B"].map((who) => updateAgent(db, org.principals.OWNER, { ...input, agentId: created.agentId, expectedVersion: 1, instructions: `Edit ${who}` })),
      );
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      expect(results.find((r) => r.status === "rejected")).toMatchObject({ reason: { code: "CONFLICT" } });
      expect(await db.agentVersion.count({ where: { agentId: created.agentId } })).toBe(2);
    });

    it("diffs two versions: changed fields, tools and instruction lines", async () => {
      const db = getDb();
      const input = scriptedAgent();
      const created = await createAgent(db, org.principals.OWNER, input);
      await updateAgent(db, org.principals.OWNER, {
        ...input,
        agentId: created.agentId,
        expectedVersion: 1,
        instructions: "You triage support tickets.\nBe brief and kind.\nEscalate refunds.",
        config: { ...input.config, limits: { maxSteps: 8, maxCostMicros: 1_000_000, timeoutMs: 120_000 } },
        toolIds: [tools.lookup],
      });
      const diff = await diffAgentVersions(db, org.principals.MEMBER, { agentId: created.agentId, from: 1, to: 2 });
      expect(diff.identical).toBe(false);
      expect(diff.fields).toEqual([
        { field: "limits.maxCostMicros", label: "Max cost per run", format: "usd", before: 500_000, after: 1_000_000 },
      ]);
      expect(diff.tools).toEqual({ added: ["docs/lookup"], removed: ["crm/search_customers"] });
      expect(diff.instructions).toMatchObject({ changed: true, added: 1, removed: 1 });
      expect(diff.instructions.lines.filter((l) => l.op !== "equal")).toEqual([
        { op: "remove", text: "Be brief.", oldLine: 2 },
        { op: "add", text: "Be brief and kind.", newLine: 2 },
      ]);
      expect(diff.script.changed).toBe(false);
      expect(diff.config.changed).toBe(true);
      expect(diff.config.lines.some((l) => l.op === "add" && l.text.includes("1000000"))).toBe(true);
      await expect(diffAgentVersions(db, org.principals.MEMBER, { agentId: created.agentId, from: 1, to: 9 })).rejects.toMatchObject({ code: "NOT_FOUND" });
    });

    it("gives the editor the current version, grants and models", async () => {
      const input = scriptedAgent({ toolIds: [tools.send, tools.search] });
      const created = await createAgent(getDb(), org.principals.OWNER, input);
      const editing = await getAgentForEditing(getDb(), org.principals.ADMIN, created.agentId);
      expect(editing.version).toMatchObject({ version: 1, modelConfigId: scripted.id, instructions: input.instructions });
      expect(editing.toolIds).toEqual([tools.search, tools.send].sort());
      expect(editing.modelConfigs.map((m) => m.name)).toEqual(expect.arrayContaining(["scripted", "gpt", "llama"]));
      expect(JSON.stringify(editing)).not.toContain("sk-live-secret");
      await expect(getAgentForEditing(getDb(), org.principals.MEMBER, created.agentId)).rejects.toMatchObject({ code: "FORBIDDEN" });
    });
  });

  describe("status", () => {
    it("archives, restores, disables and enables by compare-and-set, refusing repeats", async () => {
      const db = getDb();
      const owner = org.principals.OWNER;
      const input = scriptedAgent();
      const { agentId } = await createAgent(db, owner, input);

      await expect(disableAgent(db, owner, agentId)).resolves.toMatchObject({ status: "DISABLED" });
      await expect(disableAgent(db, owner, agentId)).rejects.toMatchObject({ code: "CONFLICT", message: "This agent is already disabled." });
      await expect(enableAgent(db, owner, agentId)).resolves.toMatchObject({ status: "ACTIVE" });
      await expect(enableAgent(db, owner, agentId)).rejects.toMatchObject({ code: "CONFLICT" });

      await expect(archiveAgent(db, owner, agentId)).resolves.toMatchObject({ status: "ARCHIVED" });
      await expect(archiveAgent(db, owner, agentId)).rejects.toMatchObject({ code: "CONFLICT", message: "This agent is already archived." });
      await expect(enableAgent(db, owner, agentId)).rejects.toMatchObject({ code: "CONFLICT", message: expect.stringMatching(/Restore it first/) as string });
      expect((await listAgents(db, owner)).map((a) => a.id)).not.toContain(agentId);
      expect((await listAgents(db, owner, { includeArchived: true })).map((a) => a.id)).toContain(agentId);
      await expect(updateAgent(db, owner, { ...input, agentId, expectedVersion: 1, instructions: "x" })).rejects.toMatchObject({ code: "CONFLICT" });

      await expect(restoreAgent(db, owner, agentId)).resolves.toMatchObject({ status: "ACTIVE" });
      await expect(archiveAgent(db, org.principals.MEMBER, agentId)).rejects.toMatchObject({ code: "FORBIDDEN" });
      const actions = await db.auditEvent.findMany({ where: { orgId: org.orgId, targetId: agentId }, orderBy: { seq: "asc" }, select: { action: true } });
      expect(actions.map((a) => a.action)).toEqual(["agent.created", "agent.disabled", "agent.enabled", "agent.archived", "agent.restored"]);
    });
  });

  describe("tenancy", () => {
    it("treats another organisation's agent as not found everywhere", async () => {
      const db = getDb();
      const input = scriptedAgent();
      const { agentId, versionId } = await createAgent(db, org.principals.OWNER, input);
      const outsider = other.principals.OWNER;
      const attempts = [
        () => getAgent(db, outsider, agentId),
        () => getAgentDetail(db, outsider, input.slug),
        () => getAgentForEditing(db, outsider, agentId),
        () => updateAgent(db, outsider, { ...input, agentId, expectedVersion: 1 }),
        () => archiveAgent(db, outsider, agentId),
        () => disableAgent(db, outsider, agentId),
        () => listAgentVersions(db, outsider, agentId),
        () => getAgentVersion(db, outsider, { agentId, version: 1 }),
        () => diffAgentVersions(db, outsider, { agentId, from: 1, to: 1 }),
        () => loadAgentVersionForRun(db, other.orgId, versionId, KEY),
      ];
      // Thunks: each call starts only when awaited, so no rejection goes unhandled meanwhile.
      for (const attempt of attempts) await expect(attempt()).rejects.toMatchObject({ code: "NOT_FOUND" });
    });
  });

  describe("loading a version for a run", () => {
    it("returns the pinned version, its parsed config and both model endpoints with the API key decrypted", async () => {
      const db = getDb();
      const input = scriptedAgent({ modelConfigId: openai.id, fallbackModelConfigId: ollama.id, toolIds: [tools.send, tools.lookup] });
      const created = await createAgent(db, org.principals.OWNER, input);
      await updateAgent(db, org.principals.OWNER, { ...input, agentId: created.agentId, expectedVersion: 1, instructions: "Newer." });

      const loaded = await loadAgentVersionForRun(db, org.orgId, created.versionId, KEY);
      expect(loaded.agent).toEqual({ id: created.agentId, slug: input.slug, name: input.name, status: "ACTIVE" });
      expect(loaded.version).toMatchObject({ id: created.versionId, version: 1, instructions: input.instructions });
      expect(loaded.version.config).toEqual({
        limits: { maxSteps: 8, maxCostMicros: 500_000, timeoutMs: 120_000 },
        memory: { recallEnabled: true, recallTopK: 3, remember: false, knowledge: false },
        toolNames: ["crm/send_email", "docs/lookup"],
        submitDrafts: false,
        delegateAgentIds: [],
      });
      expect(loaded.model).toEqual({
        id: openai.id,
        name: "gpt",
        provider: "OPENAI",
        model: "gpt-4o-mini",
        baseUrl: null,
        apiKey: "sk-live-secret",
        inputPriceMicros: 150_000,
        outputPriceMicros: 0,
        contextWindow: 8192,
        maxOutputTokens: null,
        timeoutMs: 60_000,
        maxRetries: 2,
      });
      expect(loaded.fallback).toMatchObject({ id: ollama.id, provider: "OLLAMA", baseUrl: "http://127.0.0.1:11434", apiKey: null });
      await expect(loadAgentVersionForRun(db, org.orgId, created.versionId, crypto.randomBytes(32))).rejects.toThrow(/cannot be decrypted/);
    });
  });
});
