import crypto from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { describeOnEachDatabase } from "../../testing/databases";
import { createTestOrg, type TestOrg } from "../../testing/fixtures";
import { createAgent } from "../agents/agents";
import { loadModelEndpoint } from "./endpoint";
import {
  OLLAMA_DEFAULT_BASE_URL,
  createModelConfig,
  deleteModelConfig,
  listModelConfigs,
  updateModelConfig,
  type CreateModelConfigInput,
} from "./model-configs";

const KEY = crypto.randomBytes(32);
const suffix = () => crypto.randomBytes(3).toString("hex");

describeOnEachDatabase("model configs", (getDb) => {
  let org: TestOrg;
  let other: TestOrg;

  beforeAll(async () => {
    org = await createTestOrg(getDb(), "models");
    other = await createTestOrg(getDb(), "models-other");
  });

  const openai = (overrides: Partial<CreateModelConfigInput> = {}): CreateModelConfigInput => ({
    name: `gpt-${suffix()}`,
    provider: "OPENAI",
    model: "gpt-4o-mini",
    apiKey: "sk-test-0123456789abcdef",
    inputPriceMicros: 150_000,
    outputPriceMicros: 600_000,
    contextWindow: 128_000,
    maxOutputTokens: 4096,
    ...overrides,
  });

  describe("creating", () => {
    it("stores the API key encrypted in a Secret and never returns it", async () => {
      const db = getDb();
      const input = openai();
      const view = await createModelConfig(db, org.principals.ADMIN, input, KEY);
      expect(view).toMatchObject({ name: input.name, provider: "OPENAI", hasApiKey: true, usedByVersions: 0 });
      expect(JSON.stringify(view)).not.toContain(input.apiKey);
      expect(view).not.toHaveProperty("apiKey");
      expect(view).not.toHaveProperty("secretId");

      const row = await db.modelConfig.findUniqueOrThrow({ where: { id: view.id } });
      const secret = await db.secret.findUniqueOrThrow({
        where: { id: row.secretId! },
        omit: { ciphertext: false, iv: false, authTag: false },
      });
      expect(secret.name).toBe(`model-${input.name}-api-key`);
      expect(secret.ciphertext).not.toBe(input.apiKey);
      expect(Buffer.from(secret.ciphertext, "base64").toString("utf8")).not.toContain(input.apiKey);

      const listed = await listModelConfigs(db, org.principals.MEMBER);
      expect(JSON.stringify(listed)).not.toContain(input.apiKey);
      expect(listed.find((m) => m.id === view.id)).toMatchObject({ hasApiKey: true });

      const endpoint = await loadModelEndpoint(db, org.orgId, view.id, KEY);
      expect(endpoint.apiKey).toBe(input.apiKey);
    });

    it("stores prices as integer micro-dollars per million tokens", async () => {
      const view = await createModelConfig(getDb(), org.principals.OWNER, openai({ inputPriceMicros: 3_000_000, outputPriceMicros: 15_000_000 }), KEY);
      const row = await getDb().modelConfig.findUniqueOrThrow({ where: { id: view.id } });
      expect(row.inputPriceMicros).toBe(3_000_000);
      expect(row.outputPriceMicros).toBe(15_000_000);
      await expect(createModelConfig(getDb(), org.principals.OWNER, openai({ inputPriceMicros: 0.5 }), KEY)).rejects.toMatchObject({
        code: "INVALID_INPUT",
        fieldErrors: { inputPriceMicros: ["Prices are stored in whole micro-dollars."] },
      });
    });

    it("gives Ollama its default base URL and leaves OpenAI's empty", async () => {
      const ollama = await createModelConfig(getDb(), org.principals.OWNER, { name: `llama-${suffix()}`, provider: "OLLAMA", model: "llama3.2", baseUrl: "" }, KEY);
      expect(ollama).toMatchObject({ baseUrl: OLLAMA_DEFAULT_BASE_URL, hasApiKey: false, contextWindow: 8192, timeoutMs: 60_000, maxRetries: 2 });
      const gpt = await createModelConfig(getDb(), org.principals.OWNER, openai({ baseUrl: null }), KEY);
      expect(gpt.baseUrl).toBeNull();
      const proxied = await createModelConfig(getDb(), org.principals.OWNER, openai({ baseUrl: "https://llm.internal.example/v1/" }), KEY);
      expect(proxied.baseUrl).toBe("https://llm.internal.example/v1");
    });

    it("accepts only http and https base URLs, with a field error", async () => {
      for (const baseUrl of ["ftp://example.com", "file:///etc/passwd", "not a url", "https://user:pw@example.com"]) {
        await expect(createModelConfig(getDb(), org.principals.OWNER, openai({ baseUrl }), KEY)).rejects.toMatchObject({
          code: "INVALID_INPUT",
          fieldErrors: { baseUrl: [expect.any(String)] },
        });
      }
    });

    it("refuses a duplicate name with a field error", async () => {
      const input = openai();
      await createModelConfig(getDb(), org.principals.OWNER, input, KEY);
      await expect(createModelConfig(getDb(), org.principals.OWNER, { ...input, apiKey: undefined }, KEY)).rejects.toMatchObject({
        code: "INVALID_INPUT",
        fieldErrors: { name: ["Another model already has this name."] },
      });
    });

    it("lets only holders of models:manage change models", async () => {
      for (const role of ["MEMBER", "SUPERVISOR"] as const) {
        await expect(createModelConfig(getDb(), org.principals[role], openai(), KEY)).rejects.toMatchObject({ code: "FORBIDDEN" });
      }
      await expect(listModelConfigs(getDb(), org.principals.MEMBER)).resolves.toBeInstanceOf(Array);
    });
  });

  describe("updating and deleting", () => {
    it("keeps the key when none is sent, replaces it when one is, and removes it on request", async () => {
      const db = getDb();
      const input = openai();
      const created = await createModelConfig(db, org.principals.OWNER, input, KEY);
      const renamed = `${input.name}-renamed`;

      const kept = await updateModelConfig(db, org.principals.OWNER, { ...input, id: created.id, name: renamed, apiKey: "", model: "gpt-4o" }, KEY);
      expect(kept).toMatchObject({ name: renamed, model: "gpt-4o", hasApiKey: true });
      expect((await loadModelEndpoint(db, org.orgId, created.id, KEY)).apiKey).toBe(input.apiKey);
      const row = await db.modelConfig.findUniqueOrThrow({ where: { id: created.id } });
      expect((await db.secret.findUniqueOrThrow({ where: { id: row.secretId! } })).name).toBe(`model-${renamed}-api-key`);

      await updateModelConfig(db, org.principals.OWNER, { ...input, id: created.id, name: renamed, apiKey: "sk-new-key" }, KEY);
      expect((await loadModelEndpoint(db, org.orgId, created.id, KEY)).apiKey).toBe("sk-new-key");

      const cleared = await updateModelConfig(db, org.principals.OWNER, { ...input, id: created.id, name: renamed, apiKey: undefined, clearApiKey: true }, KEY);
      expect(cleared.hasApiKey).toBe(false);
      expect(await db.secret.count({ where: { id: row.secretId! } })).toBe(0);
      expect((await loadModelEndpoint(db, org.orgId, created.id, KEY)).apiKey).toBeNull();
    });

    it("treats another organisation's model as not found", async () => {
      const mine = await createModelConfig(getDb(), org.principals.OWNER, openai(), KEY);
      const outsider = other.principals.OWNER;
      await expect(updateModelConfig(getDb(), outsider, { ...openai(), id: mine.id }, KEY)).rejects.toMatchObject({ code: "NOT_FOUND" });
      await expect(deleteModelConfig(getDb(), outsider, mine.id)).rejects.toMatchObject({ code: "NOT_FOUND" });
      await expect(loadModelEndpoint(getDb(), other.orgId, mine.id, KEY)).rejects.toMatchObject({ code: "NOT_FOUND" });
      expect((await listModelConfigs(getDb(), outsider)).map((m) => m.id)).not.toContain(mine.id);
    });

    it("refuses to delete a model an agent version uses, as model or as fallback, and deletes an unused one with its key", async () => {
      const db = getDb();
      const main = await createModelConfig(db, org.principals.OWNER, { name: `main-${suffix()}`, provider: "OLLAMA", model: "llama3.2" }, KEY);
      const spare = await createModelConfig(db, org.principals.OWNER, openai(), KEY);
      await createAgent(db, org.principals.OWNER, {
        name: "Uses both",
        slug: `uses-both-${suffix()}`,
        instructions: "Answer briefly.",
        modelConfigId: main.id,
        fallbackModelConfigId: spare.id,
      });
      for (const id of [main.id, spare.id]) {
        await expect(deleteModelConfig(db, org.principals.OWNER, id)).rejects.toMatchObject({
          code: "CONFLICT",
          message: expect.stringContaining("“Uses both”") as string,
        });
      }
      expect((await listModelConfigs(db, org.principals.OWNER)).find((m) => m.id === spare.id)?.usedByVersions).toBe(1);

      const unused = await createModelConfig(db, org.principals.OWNER, openai(), KEY);
      const { secretId } = await db.modelConfig.findUniqueOrThrow({ where: { id: unused.id } });
      await expect(deleteModelConfig(db, org.principals.MEMBER, unused.id)).rejects.toMatchObject({ code: "FORBIDDEN" });
      await expect(deleteModelConfig(db, org.principals.ADMIN, unused.id)).resolves.toMatchObject({ id: unused.id });
      expect(await db.modelConfig.count({ where: { id: unused.id } })).toBe(0);
      expect(await db.secret.count({ where: { id: secretId! } })).toBe(0);
      const audit = await db.auditEvent.findFirst({ where: { orgId: org.orgId, action: "model.deleted", targetId: unused.id } });
      expect(audit).not.toBeNull();
      expect(JSON.stringify(audit?.data)).not.toContain("sk-");
    });
  });
});
