import crypto from "node:crypto";
import { beforeAll, expect, it } from "vitest";
import { SCOPES } from "@/lib/scopes";
import { GET as listMemoriesRoute, POST as createMemoryRoute } from "@/app/api/v1/memories/route";
import { DELETE as deleteMemoryRoute } from "@/app/api/v1/memories/[id]/route";
import { overrideDatabaseForTests, type Db } from "../../db";
import { describeOnEachDatabase } from "../../testing/databases";
import { createTestAgentAndRun, createTestApiKey, createTestOrg, type TestOrg } from "../../testing/fixtures";
import { callRest } from "../../testing/rest";
import type { Principal } from "../identity/principal";
import {
  createMemory,
  deleteExpiredMemories,
  deleteMemories,
  getMemory,
  recallForRun,
  searchMemories,
  updateMemory,
  writeMemoryFromRun,
} from "./memories";

/** A word no other test (or other org on the shared PostgreSQL database) writes, so counts are exact. */
const uniqueWord = (prefix: string) => `${prefix}${crypto.randomBytes(4).toString("hex").replace(/[0-9]/g, (d) => "abcdefghij"[Number(d)] ?? "x")}`;
const eventId = () => `evt_${crypto.randomBytes(6).toString("hex")}`;

async function ftsCount(db: Db, word: string): Promise<number> {
  const [row] = await db.$queryRaw<{ count: number }[]>`SELECT count(*)::int AS count FROM memories WHERE search_vector @@ websearch_to_tsquery('english', ${word})`;
  return row?.count ?? -1;
}

describeOnEachDatabase("memories", (getDb, kind) => {
  let org: TestOrg;
  let other: TestOrg;
  let fixture: Awaited<ReturnType<typeof createTestAgentAndRun>>;
  let secondAgent: Awaited<ReturnType<typeof createTestAgentAndRun>>;
  let owner: Principal & { kind: "user" };
  let member: Principal & { kind: "user" };
  let supervisor: Principal & { kind: "user" };
  let keyA: { id: string; plaintext: string };
  let keyB: { id: string; plaintext: string };

  const run = (overrides: { userId?: string | null; agentId?: string } = {}) => ({
    orgId: org.orgId,
    agentId: overrides.agentId ?? fixture.agent.id,
    onBehalfOfUserId: overrides.userId === undefined ? member.userId : overrides.userId,
    runId: fixture.run.id,
  });

  beforeAll(async () => {
    const db = getDb();
    overrideDatabaseForTests(db, kind === "pglite" ? { kind: "pglite", dataDir: "memory://" } : { kind: "postgres", url: "test" });
    org = await createTestOrg(db, "mem");
    other = await createTestOrg(db, "memother");
    fixture = await createTestAgentAndRun(db, org);
    secondAgent = await createTestAgentAndRun(db, org);
    owner = org.principals.OWNER;
    member = org.principals.MEMBER;
    supervisor = org.principals.SUPERVISOR;
    keyA = await createTestApiKey(db, org, SCOPES);
    keyB = await createTestApiKey(db, other, SCOPES);
  });

  it("keeps a person's memory away from everyone but them, admins and runs acting for them", async () => {
    const db = getDb();
    const word = uniqueWord("oolong");
    const written = await writeMemoryFromRun(db, { ...run(), eventId: eventId(), content: `Prefers ${word} tea in the afternoon`, kind: "PREFERENCE" });
    const memory = await getMemory(db, member, written.id);
    expect(memory).toMatchObject({ scope: "USER", user: { id: member.userId }, agent: null, source: { runId: fixture.run.id, href: expect.stringMatching(/^\/runs\/.+#event-evt_/) as unknown } });

    // The person, an admin and the owner find it.
    for (const principal of [member, owner, org.principals.ADMIN]) {
      expect((await searchMemories(db, principal, { q: word })).items.map((item) => item.id)).toEqual([written.id]);
    }
    // Another member (a supervisor here) does not, not even by id; nor another org.
    expect((await searchMemories(db, supervisor, { q: word })).items).toEqual([]);
    expect((await searchMemories(db, supervisor, {})).items.map((item) => item.id)).not.toContain(written.id);
    await expect(getMemory(db, supervisor, written.id)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(updateMemory(db, supervisor, { id: written.id, pinned: true })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(deleteMemories(db, supervisor, { ids: [written.id] })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(getMemory(db, other.principals.OWNER, written.id)).rejects.toMatchObject({ code: "NOT_FOUND" });

    // Runs: acting for the person (any agent) recall it; acting for someone else or nobody, they do not.
    expect((await recallForRun(db, { ...run(), query: `what tea ${word}`, k: 5 })).map((m) => m.id)).toEqual([written.id]);
    expect((await recallForRun(db, { ...run({ agentId: secondAgent.agent.id }), query: word, k: 5 })).map((m) => m.id)).toEqual([written.id]);
    expect(await recallForRun(db, { ...run({ userId: supervisor.userId }), query: word, k: 5 })).toEqual([]);
    expect(await recallForRun(db, { ...run({ userId: null }), query: word, k: 5 })).toEqual([]);
  });

  it("recalls org memories everywhere and agent memories only in that agent's runs, pinned first when they match", async () => {
    const db = getDb();
    const word = uniqueWord("fjord");
    const orgMemory = await createMemory(db, owner, { content: `The ${word} office closes at noon on Fridays`, scope: "ORG", kind: "FACT" });
    const agentMemory = await writeMemoryFromRun(db, { ...run(), eventId: eventId(), content: `Tickets about ${word} go to the logistics queue`, kind: "FACT" });
    const pinned = await createMemory(db, owner, { content: `${word} invoices are always approved by finance, ${word} rules`, scope: "AGENT", agentId: fixture.agent.slug, kind: "FACT", pinned: true });
    expect((await getMemory(db, owner, agentMemory.id)).scope).toBe("AGENT");

    const recalled = await recallForRun(db, { ...run(), query: `${word} ${word}`, k: 5 });
    expect(recalled.map((m) => m.id)).toEqual([pinned.id, ...recalled.slice(1).map((m) => m.id)]);
    expect(new Set(recalled.map((m) => m.id))).toEqual(new Set([pinned.id, agentMemory.id, orgMemory.id]));
    expect(recalled.find((m) => m.id === pinned.id)?.source).toEqual({ runId: null, eventId: null, userId: owner.userId });
    expect(recalled.every((m) => m.score > 0)).toBe(true);

    const otherAgent = await recallForRun(db, { ...run({ agentId: secondAgent.agent.id }), query: word, k: 5 });
    expect(otherAgent.map((m) => m.id)).toEqual([orgMemory.id]);
    // A pinned memory that does not match the query is not recalled.
    expect((await recallForRun(db, { ...run(), query: uniqueWord("nothing"), k: 5 })).map((m) => m.id)).not.toContain(pinned.id);
    // No query: pinned, then newest.
    const empty = await recallForRun(db, { ...run(), query: "", k: 3 });
    expect(empty[0]?.id).toBe(pinned.id);
  });

  it("merges a near-duplicate: the older memory is superseded and no longer recalled, and a replayed event writes nothing", async () => {
    const db = getDb();
    const word = uniqueWord("quartz");
    const first = await writeMemoryFromRun(db, { ...run(), eventId: eventId(), content: `The ${word} customer wants invoices sent on the first Monday of each month.`, kind: "FACT" });
    const unrelated = await writeMemoryFromRun(db, { ...run(), eventId: eventId(), content: `The ${word} customer is based in Lisbon.`, kind: "FACT" });
    expect(unrelated.supersededId).toBeNull();
    const secondEvent = eventId();
    const second = await writeMemoryFromRun(db, { ...run(), eventId: secondEvent, content: `${word} customer wants invoices sent on the first Monday of every month`, kind: "FACT" });
    expect(second.supersededId).toBe(first.id);
    // Crash replay of the same event: the same memory, nothing new.
    expect(await writeMemoryFromRun(db, { ...run(), eventId: secondEvent, content: "anything", kind: "FACT" })).toEqual(second);
    expect(await db.memory.count({ where: { orgId: org.orgId, sourceEventId: secondEvent } })).toBe(1);

    const recalled = await recallForRun(db, { ...run(), query: `${word} invoices`, k: 5 });
    expect(recalled.map((m) => m.id)).toContain(second.id);
    expect(recalled.map((m) => m.id)).not.toContain(first.id);
    expect((await searchMemories(db, owner, { q: word })).items.map((m) => m.id).sort()).toEqual([second.id, unrelated.id].sort());
    const withOld = await searchMemories(db, owner, { q: word, includeSuperseded: true });
    expect(withOld.items.find((m) => m.id === first.id)?.supersededById).toBe(second.id);
    expect((await getMemory(db, owner, second.id)).supersedes.map((m) => m.id)).toEqual([first.id]);

    // The same words in another agent's scope are not a duplicate.
    const elsewhere = await writeMemoryFromRun(db, { ...run({ agentId: secondAgent.agent.id }), eventId: eventId(), content: `The ${word} customer wants invoices sent on the first Monday of each month.`, kind: "FACT" });
    expect(elsewhere.supersededId).toBeNull();
  });

  it("keeps the previous content as a revision on edit, pins, and highlights matches with escaped HTML", async () => {
    const db = getDb();
    const word = uniqueWord("garnet");
    const created = await createMemory(db, supervisor, { content: `Use <b>${word}</b> & "quotes" for the demo`, scope: "ORG", kind: "FACT" });
    const found = await searchMemories(db, supervisor, { q: word });
    expect(found.items[0]?.highlight).toBe(`Use &lt;b&gt;<mark>${word}</mark>&lt;/b&gt; &amp; &quot;quotes&quot; for the demo`);
    // Searching for what an entity spells never puts a mark inside it.
    const tricky = await createMemory(db, supervisor, { content: `${word}lt &lt; amp & lt < gt > quot "`, scope: "ORG", kind: "FACT" });
    const trickyHit = (await searchMemories(db, supervisor, { q: `${word}lt amp lt gt quot` })).items.find((item) => item.id === tricky.id);
    expect(trickyHit?.highlight).toBe(`<mark>${word}lt</mark> &amp;<mark>lt</mark>; <mark>amp</mark> &amp; <mark>lt</mark> &lt; <mark>gt</mark> &gt; <mark>quot</mark> &quot;`);
    expect(found.items[0]?.score).toBeGreaterThan(0);

    const edited = await updateMemory(db, supervisor, { id: created.id, content: `Use ${word} sparingly in the demo`, pinned: true });
    expect(edited).toMatchObject({ pinned: true, content: `Use ${word} sparingly in the demo` });
    const detail = await getMemory(db, member, created.id);
    expect(detail.revisions).toMatchObject([{ content: `Use <b>${word}</b> & "quotes" for the demo`, editedBy: { id: supervisor.userId } }]);
    expect(detail.source.person?.id).toBe(supervisor.userId);
    expect((await searchMemories(db, owner, { pinned: true })).items.map((m) => m.id)).toContain(created.id);
    // Members read but do not write.
    await expect(updateMemory(db, member, { id: created.id, pinned: false })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(createMemory(db, member, { content: "x", scope: "ORG" })).rejects.toMatchObject({ code: "FORBIDDEN" });
    // Validation speaks to the field.
    await expect(createMemory(db, owner, { content: "  ", scope: "AGENT" })).rejects.toMatchObject({ code: "INVALID_INPUT", fieldErrors: { content: ["Write what should be remembered."] } });
    await expect(createMemory(db, supervisor, { content: "Likes jazz", scope: "USER", userId: member.email })).rejects.toMatchObject({ code: "INVALID_INPUT" });
  });

  it("stops recalling a memory once its time to live is over, and the sweep deletes it", async () => {
    const db = getDb();
    const word = uniqueWord("ember");
    const expiring = await writeMemoryFromRun(db, { ...run(), eventId: eventId(), content: `The ${word} promotion runs this week`, kind: "EPISODE", ttlDays: 7 });
    expect((await recallForRun(db, { ...run(), query: word, k: 5 })).map((m) => m.id)).toEqual([expiring.id]);
    await db.memory.update({ where: { id: expiring.id }, data: { expiresAt: new Date(Date.now() - 1_000) } });
    expect(await recallForRun(db, { ...run(), query: word, k: 5 })).toEqual([]);
    expect((await searchMemories(db, owner, { q: word })).items).toEqual([]);
    await expect(getMemory(db, owner, expiring.id)).rejects.toMatchObject({ code: "NOT_FOUND" });

    expect(await deleteExpiredMemories(db, new Date())).toBeGreaterThanOrEqual(1);
    expect(await db.memory.findUnique({ where: { id: expiring.id } })).toBeNull();
    expect(await ftsCount(db, word)).toBe(0);
    const audit = await db.auditEvent.findFirst({ where: { orgId: org.orgId, action: "memory.expired", targetId: expiring.id } });
    expect(audit?.data).toEqual({ scope: "AGENT", kind: "EPISODE", agentId: fixture.agent.id, userId: null });
  });

  it("deleting a memory makes it unfindable through search, recall and the database's full-text index", async () => {
    const db = getDb();
    const word = uniqueWord("zephyr");
    const older = await writeMemoryFromRun(db, { ...run(), eventId: eventId(), content: `Call ${word} before nine in the morning, never after`, kind: "PREFERENCE" });
    const memory = await writeMemoryFromRun(db, { ...run(), eventId: eventId(), content: `Call ${word} before nine in the morning, never after.`, kind: "PREFERENCE" });
    expect(memory.supersededId).toBe(older.id);
    await updateMemory(db, owner, { id: memory.id, content: `Call ${word} before nine in the morning; never after noon` });
    expect(await db.memoryRevision.count({ where: { memoryId: memory.id } })).toBe(1);
    expect(await ftsCount(db, word)).toBe(2);
    expect((await searchMemories(db, member, { q: word })).items.map((m) => m.id)).toEqual([memory.id]);
    expect((await recallForRun(db, { ...run(), query: word, k: 5 })).map((m) => m.id)).toEqual([memory.id]);

    expect(await deleteMemories(db, member, { ids: [memory.id] }).catch((error: unknown) => error)).toMatchObject({ code: "FORBIDDEN" });
    expect(await deleteMemories(db, supervisor, { ids: [memory.id] }).catch((error: unknown) => error)).toMatchObject({ code: "NOT_FOUND" });
    expect(await deleteMemories(db, owner, { ids: [memory.id] })).toEqual({ deleted: 1 });

    expect((await searchMemories(db, owner, { q: word, includeSuperseded: true })).items).toEqual([]);
    expect(await recallForRun(db, { ...run(), query: word, k: 5 })).toEqual([]);
    expect(await recallForRun(db, { ...run(), query: "", k: 50 })).not.toContainEqual(expect.objectContaining({ id: memory.id }));
    expect(await ftsCount(db, word)).toBe(0);
    // The near-duplicate it replaced went with it (it would say the same thing), and so did every revision.
    expect(await db.memory.count({ where: { id: { in: [memory.id, older.id] } } })).toBe(0);
    expect(await db.memoryRevision.count({ where: { memoryId: memory.id } })).toBe(0);
    await expect(getMemory(db, owner, memory.id)).rejects.toMatchObject({ code: "NOT_FOUND" });

    // The audit says what went, never what it said.
    const events = await db.auditEvent.findMany({ where: { orgId: org.orgId, targetId: { in: [memory.id, older.id] } }, orderBy: { seq: "asc" } });
    const deleted = events.filter((event) => event.action === "memory.deleted");
    expect(deleted.map((event) => event.targetId).sort()).toEqual([memory.id, older.id].sort());
    expect(deleted[0]?.data).toEqual({ scope: "USER", kind: "PREFERENCE", agentId: null, userId: member.userId });
    expect(deleted[0]?.actorId).toBe(owner.userId);
    for (const event of events) expect(JSON.stringify(event.data)).not.toContain(word);
  });

  it("lists, creates and deletes memories over REST with an API key, and answers another org with 404", async () => {
    const db = getDb();
    const word = uniqueWord("cobalt");
    const created = await callRest(createMemoryRoute, keyA.plaintext, {}, { method: "POST", body: JSON.stringify({ content: `The ${word} account renews in March`, scope: "agent", kind: "fact", agent: fixture.agent.slug }) });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const personal = await callRest(createMemoryRoute, keyA.plaintext, {}, { method: "POST", body: JSON.stringify({ content: `${word} prefers email`, scope: "user", kind: "preference", user: member.email }) });
    expect(personal.status).toBe(201);

    const listed = await callRest(listMemoriesRoute, keyA.plaintext, {}, { path: `/api/v1/memories?q=${word}&scope=agent&k=5` });
    expect(listed.status).toBe(200);
    const body = (await listed.json()) as { items: Record<string, unknown>[] };
    expect(body.items).toEqual([
      {
        id,
        content: `The ${word} account renews in March`,
        scope: "agent",
        kind: "fact",
        pinned: false,
        score: expect.any(Number) as unknown,
        source: { runId: null, eventId: null, person: owner.email },
        agent: fixture.agent.slug,
        user: null,
        createdAt: expect.any(String) as unknown,
        expiresAt: null,
      },
    ]);

    const bad = await callRest(createMemoryRoute, keyA.plaintext, {}, { method: "POST", body: JSON.stringify({ content: "x", scope: "team" }) });
    expect(bad.status).toBe(400);
    const noAgent = await callRest(createMemoryRoute, keyA.plaintext, {}, { method: "POST", body: JSON.stringify({ content: "x", scope: "agent", agent: "no-such-agent" }) });
    expect(noAgent.status).toBe(400);

    // Org B sees nothing of org A's and cannot delete it.
    const otherList = (await (await callRest(listMemoriesRoute, keyB.plaintext, {}, { path: `/api/v1/memories?q=${word}` })).json()) as { items: unknown[] };
    expect(otherList.items).toEqual([]);
    const crossDelete = await callRest(deleteMemoryRoute, keyB.plaintext, { id }, { method: "DELETE" });
    expect(crossDelete.status).toBe(404);
    expect(((await crossDelete.json()) as { error: { code: string } }).error.code).toBe("NOT_FOUND");

    const deleted = await callRest(deleteMemoryRoute, keyA.plaintext, { id }, { method: "DELETE" });
    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe("");
    expect((await callRest(deleteMemoryRoute, keyA.plaintext, { id }, { method: "DELETE" })).status).toBe(404);
    expect(await db.memory.findUnique({ where: { id } })).toBeNull();

    const narrow = await createTestApiKey(db, org, ["memory:read"]);
    expect((await callRest(createMemoryRoute, narrow.plaintext, {}, { method: "POST", body: JSON.stringify({ content: "x", scope: "org" }) })).status).toBe(403);
  });
});
