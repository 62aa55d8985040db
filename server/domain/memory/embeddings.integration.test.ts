import crypto from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Db } from "../../db";
import { describeOnEachDatabase } from "../../testing/databases";
import { createTestAgentAndRun, createTestOrg, type TestOrg } from "../../testing/fixtures";
import type { Principal } from "../identity/principal";
import { deleteDocument, searchKnowledge, searchKnowledgeFor, uploadDocument } from "../knowledge/knowledge";
import { configureEmbeddings, embedMissingMemories, PGVECTOR_MISSING_NOTICE, retrievalMode } from "./embeddings";
import { createMemory, deleteMemories, recallForRun, searchMemories, updateMemory, writeMemoryFromRun } from "./memories";
import { fullTextRetriever } from "./retrieval";

/**
 * A real OpenAI-compatible embeddings server (POST /v1/embeddings), reached through the real client. Its vectors
 * are a hashed bag of words over a small synonym map, so "telephone" and "phone" share a dimension while full text
 * (which stems, but knows no synonyms) sees different words.
 */
const DIMENSIONS = 256;
const SYNONYMS: Record<string, string> = { telephone: "phone", mobile: "phone", cell: "phone", phone: "phone", digits: "number" };
const STOP = new Set(["me", "on", "the", "a", "an", "of", "to", "my", "is", "at", "for", "in"]);

function fixtureVector(text: string): number[] {
  const vector = new Array<number>(DIMENSIONS).fill(0);
  for (const word of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
    if (STOP.has(word)) continue;
    const canonical = SYNONYMS[word] ?? word;
    const slot = crypto.createHash("sha256").update(canonical).digest().readUInt32BE(0) % DIMENSIONS;
    vector[slot] = (vector[slot] ?? 0) + 1;
  }
  // An all-zero vector has no cosine distance; a constant tail dimension keeps every text comparable.
  vector[DIMENSIONS - 1] = 0.01;
  return vector;
}

interface EmbeddingsRequest {
  input: string | string[];
  model: string;
  encoding_format?: "float" | "base64";
}

function startEmbeddingsServer(): Promise<{ url: string; requests: EmbeddingsRequest[]; close(): Promise<void> }> {
  const requests: EmbeddingsRequest[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
    req.on("end", () => {
      if (req.method !== "POST" || req.url !== "/v1/embeddings") {
        res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "not found" } }));
        return;
      }
      const request = JSON.parse(body) as EmbeddingsRequest;
      requests.push(request);
      const inputs = Array.isArray(request.input) ? request.input : [request.input];
      const data = inputs.map((input, index) => {
        const vector = fixtureVector(input);
        // The OpenAI client asks for base64 (little-endian float32) unless told otherwise.
        const embedding = request.encoding_format === "base64" ? Buffer.from(new Float32Array(vector).buffer).toString("base64") : vector;
        return { object: "embedding", index, embedding };
      });
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ object: "list", data, model: request.model, usage: { prompt_tokens: 1, total_tokens: 1 } }));
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}/v1`, requests, close: () => new Promise<void>((done) => server.close(() => done())) });
    });
  });
}

/** A word no other test (or org on the shared PostgreSQL database) writes. */
const uniqueWord = (prefix: string) => `${prefix}${crypto.randomBytes(4).toString("hex").replace(/[0-9]/g, (d) => "abcdefghij"[Number(d)] ?? "x")}`;
const eventId = () => `evt_${crypto.randomBytes(6).toString("hex")}`;

async function embeddingOf(db: Db, memoryId: string): Promise<string | null> {
  const rows = await db.$queryRaw<{ embedding: string }[]>`SELECT embedding::text AS embedding FROM memory_embeddings WHERE memory_id = ${memoryId}`;
  return rows[0]?.embedding ?? null;
}

async function vectorAvailable(db: Db): Promise<boolean> {
  const [row] = await db.$queryRaw<{ available: boolean }[]>`SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') AS available`;
  return row?.available ?? false;
}

describeOnEachDatabase("memory embeddings", (getDb, kind) => {
  let embeddings: Awaited<ReturnType<typeof startEmbeddingsServer>>;
  let org: TestOrg;
  let other: TestOrg;
  let fixture: Awaited<ReturnType<typeof createTestAgentAndRun>>;
  let secondAgent: Awaited<ReturnType<typeof createTestAgentAndRun>>;
  /** Writes memories, sees only their own personal ones (a supervisor: memory:write, not an admin). */
  let me: Principal & { kind: "user" };
  /** Another person, without memory:write: an admin keeps their memories for them. */
  let someoneElse: Principal & { kind: "user" };
  let admin: Principal & { kind: "user" };
  let hasVector = false;

  beforeAll(async () => {
    const db = getDb();
    embeddings = await startEmbeddingsServer();
    configureEmbeddings({ provider: "openai", url: embeddings.url, model: "fixture-embed", apiKey: "test-key" });
    org = await createTestOrg(db, "emb");
    other = await createTestOrg(db, "embother");
    fixture = await createTestAgentAndRun(db, org);
    secondAgent = await createTestAgentAndRun(db, org);
    me = org.principals.SUPERVISOR;
    someoneElse = org.principals.MEMBER;
    admin = org.principals.ADMIN;
    hasVector = await vectorAvailable(db);
  });

  afterAll(async () => {
    configureEmbeddings(null);
    await embeddings.close();
  });

  const run = (userId: string | null = me.userId) => ({ orgId: org.orgId, agentId: fixture.agent.id, onBehalfOfUserId: userId, runId: fixture.run.id });

  it("reports hybrid ranking where pgvector is available, and full text with a notice where it is not", async () => {
    const db = getDb();
    // The embedded database ships pgvector: hybrid is always available there.
    if (kind === "pglite") expect(hasVector).toBe(true);
    const expected = hasVector ? { mode: "hybrid", notice: null } : { mode: "full_text", notice: PGVECTOR_MISSING_NOTICE };
    expect(await retrievalMode(db)).toEqual(expected);
    configureEmbeddings(null);
    try {
      expect(await retrievalMode(db)).toEqual({ mode: "full_text", notice: null });
    } finally {
      configureEmbeddings({ provider: "openai", url: embeddings.url, model: "fixture-embed", apiKey: "test-key" });
    }
  });

  it("recalls a memory by meaning that full text misses, and never another person's or org's", async (context) => {
    if (!hasVector) context.skip();
    const db = getDb();
    const tag = uniqueWord("zeb");
    const mine = await createMemory(db, me, { content: `Call me on the telephone about ${tag}`, scope: "USER", kind: "PREFERENCE" });
    expect(await embeddingOf(db, mine.id)).not.toBeNull();
    expect(embeddings.requests.some((request) => JSON.stringify(request.input).includes(tag))).toBe(true);
    // The same meaning, but someone else's (another person, another agent, another org): never recalled.
    const theirs = await createMemory(db, admin, { content: `Reach me by telephone about ${tag}`, scope: "USER", userId: someoneElse.userId, kind: "PREFERENCE" });
    const otherAgent = await writeMemoryFromRun(db, { ...run(), agentId: secondAgent.agent.id, eventId: eventId(), content: `The office telephone for ${tag}`, kind: "FACT", scope: "AGENT" });
    const otherOrg = await createMemory(db, other.principals.OWNER, { content: `Telephone the depot about ${tag}`, scope: "ORG", kind: "FACT" });
    const ownAgent = await writeMemoryFromRun(db, { ...run(), eventId: eventId(), content: `Mobile calls about ${tag} go to the front desk`, kind: "FACT", scope: "AGENT" });
    for (const id of [theirs.id, otherAgent.id, otherOrg.id, ownAgent.id]) expect(await embeddingOf(db, id)).not.toBeNull();

    const query = { ...run(), query: "phone number", k: 10 };
    // Full text alone knows no synonyms: "phone number" matches none of them.
    const textOnly = await recallForRun(db, query, fullTextRetriever);
    expect(textOnly.map((memory) => memory.id)).not.toContain(mine.id);

    const recalled = (await recallForRun(db, query)).map((memory) => memory.id);
    expect(recalled).toContain(mine.id);
    expect(recalled).toContain(ownAgent.id);
    for (const hidden of [theirs.id, otherAgent.id, otherOrg.id]) expect(recalled).not.toContain(hidden);
    // Acting for nobody: no personal memory at all.
    expect((await recallForRun(db, { ...query, onBehalfOfUserId: null })).map((memory) => memory.id)).not.toContain(mine.id);

    // Fused: a memory both lists rank first beats one only the vectors found.
    const both = (await recallForRun(db, { ...query, query: `telephone ${tag}` })).map((memory) => memory.id);
    expect(both[0]).toBe(mine.id);

    // The browser: hybrid too, same visibility; the highlight is the escaped content when no word matched.
    const found = await searchMemories(db, me, { q: "phone number" });
    const item = found.items.find((entry) => entry.id === mine.id);
    expect(item).toMatchObject({ highlight: `Call me on the telephone about ${tag}`, score: expect.any(Number) as unknown });
    expect(found.items.map((entry) => entry.id)).not.toContain(theirs.id);
    expect(found.items.map((entry) => entry.id)).not.toContain(otherOrg.id);
    expect((await searchMemories(db, someoneElse, { q: "phone number" })).items.map((entry) => entry.id)).not.toContain(mine.id);
  });

  it("re-embeds an edited memory, and deleting a memory deletes its vector", async (context) => {
    if (!hasVector) context.skip();
    const db = getDb();
    const tag = uniqueWord("yak");
    const memory = await createMemory(db, me, { content: `Invoices for ${tag} go out monthly`, scope: "ORG", kind: "FACT" });
    const before = await embeddingOf(db, memory.id);
    expect(before).not.toBeNull();
    await updateMemory(db, me, { id: memory.id, pinned: true });
    expect(await embeddingOf(db, memory.id)).toBe(before);
    await updateMemory(db, me, { id: memory.id, content: `Invoices for ${tag} go out weekly by telephone` });
    const after = await embeddingOf(db, memory.id);
    expect(after).not.toBeNull();
    expect(after).not.toBe(before);
    expect((await recallForRun(db, { ...run(), query: "phone", k: 50 })).map((hit) => hit.id)).toContain(memory.id);

    await deleteMemories(db, me, { ids: [memory.id] });
    expect(await embeddingOf(db, memory.id)).toBeNull();
  });

  it("keeps writing and searching by full text when the provider fails", async () => {
    const db = getDb();
    const tag = uniqueWord("ibis");
    // A server that answers nothing but 404s: every embedding call fails.
    configureEmbeddings({ provider: "openai", url: `${embeddings.url}/missing`, model: "fixture-embed", apiKey: "test-key" });
    const written: string[] = [];
    try {
      const memory = await createMemory(db, me, { content: `The ${tag} shipment leaves on Tuesdays`, scope: "ORG", kind: "FACT" });
      const fromRun = await writeMemoryFromRun(db, { ...run(), eventId: eventId(), content: `The ${tag} warehouse opens at six`, kind: "FACT" });
      written.push(memory.id, fromRun.id);
      if (hasVector) {
        expect(await embeddingOf(db, memory.id)).toBeNull();
        expect(await embeddingOf(db, fromRun.id)).toBeNull();
      }
      const recalled = (await recallForRun(db, { ...run(), query: `${tag} shipment`, k: 5 })).map((hit) => hit.id);
      expect(recalled[0]).toBe(memory.id);
      expect(recalled).toContain(fromRun.id);
      expect((await searchMemories(db, me, { q: tag })).items.map((item) => item.id).sort()).toEqual([memory.id, fromRun.id].sort());
    } finally {
      configureEmbeddings({ provider: "openai", url: embeddings.url, model: "fixture-embed", apiKey: "test-key" });
    }
    if (hasVector) {
      // The sweep embeds what the outage missed (other tests' memories too: at least these two).
      let swept = 0;
      for (let batch = await embedMissingMemories(db, 500); batch > 0; batch = await embedMissingMemories(db, 500)) swept += batch;
      expect(swept).toBeGreaterThanOrEqual(2);
      for (const id of written) expect(await embeddingOf(db, id)).not.toBeNull();
    } else {
      expect(await embedMissingMemories(db)).toBe(0);
    }
  });

  it("recalls by full text on a database without pgvector", async (context) => {
    if (hasVector) context.skip();
    const db = getDb();
    const tag = uniqueWord("emu");
    expect(await retrievalMode(db)).toEqual({ mode: "full_text", notice: PGVECTOR_MISSING_NOTICE });
    const memory = await createMemory(db, me, { content: `Call me on the telephone about ${tag}`, scope: "USER", kind: "PREFERENCE" });
    expect((await recallForRun(db, { ...run(), query: `telephone ${tag}`, k: 5 })).map((hit) => hit.id)).toEqual([memory.id]);
    // No synonyms without vectors.
    expect((await recallForRun(db, { ...run(), query: "phone number", k: 50 })).map((hit) => hit.id)).not.toContain(memory.id);
    expect((await searchMemories(db, me, { q: `telephone ${tag}` })).items.map((item) => item.id)).toEqual([memory.id]);
  });

  it("finds a knowledge passage by meaning that full text misses, cites it, and forgets its vector with the document", async (context) => {
    const db = getDb();
    const tag = uniqueWord("kno");
    const text = `# Contact\n\nThe support telephone answers from nine to five about ${tag}.`;
    const uploaded = await uploadDocument(db, admin, { collection: "contact", fileName: "contact.md", mimeType: "text/markdown", bytes: new TextEncoder().encode(text) });
    // Full text knows no synonyms: "phone" is not "telephone". With pgvector the passage is found by meaning.
    const found = await searchKnowledge(db, { orgId: org.orgId, query: "phone", k: 3 });
    if (!hasVector) {
      expect(found).toEqual([]);
      context.skip();
    }
    expect(found[0]).toMatchObject({ documentId: uploaded.id, documentTitle: "Contact" });
    expect(found[0]!.content).toContain("telephone");
    const console = await searchKnowledgeFor(db, admin, { q: "phone", k: 3 });
    expect(console.items[0]).toMatchObject({ documentId: uploaded.id, href: `/knowledge/${uploaded.id}#chunk-${found[0]!.position}` });
    expect(console.items[0]!.highlight).not.toMatch(/<(?!\/?mark>)/);
    // Another org never finds it, by words or by meaning.
    expect(await searchKnowledge(db, { orgId: other.orgId, query: "phone", k: 3 })).toEqual([]);

    const vectors = () => db.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM knowledge_chunk_embeddings e JOIN knowledge_chunks c ON c.id = e.chunk_id WHERE c.document_id = ${uploaded.id}`;
    expect((await vectors())[0]!.n).toBeGreaterThan(0);
    await deleteDocument(db, admin, uploaded.id);
    const left = await db.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM knowledge_chunk_embeddings WHERE org_id = ${org.orgId} AND chunk_id NOT IN (SELECT id FROM knowledge_chunks)`;
    expect(left[0]!.n).toBe(0);
    expect(await searchKnowledge(db, { orgId: org.orgId, query: "phone", k: 3 })).toEqual([]);
  });
});
