import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../db";
import { env } from "../../env";
import { describeOnEachDatabase, openTestDatabase, type TestDatabase } from "../../testing/databases";
import { createTestOrg, type TestOrg } from "../../testing/fixtures";
import { DomainError } from "../errors";
import { appendAudit, auditHash, verifyAuditChain } from "./audit-log";
import { exportAuditEvents, getAuditFacets, listAuditEvents } from "./audit-query";

const ROOT = path.resolve(import.meta.dirname, "../../..");

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Appends `count` events to a fresh org and returns them in order (seq 1…count). */
async function orgWithEvents(db: Db, label: string, count: number) {
  const org = await createTestOrg(db, label);
  for (let i = 1; i <= count; i += 1) {
    await appendAudit(db, {
      orgId: org.orgId,
      action: i % 2 === 0 ? "secret.updated" : "tool.classified",
      actorType: "USER",
      actorId: org.principals.OWNER.userId,
      targetType: i % 2 === 0 ? "Secret" : "Tool",
      targetId: `target-${i}`,
      data: { step: i, name: `event ${i}` },
    });
  }
  const events = await db.auditEvent.findMany({ where: { orgId: org.orgId }, orderBy: { seq: "asc" } });
  return { org, events };
}

/** Changes one event's data behind the chain's back, as someone with database access would. */
async function tamper(db: Db, eventId: string): Promise<void> {
  const changed = await db.$executeRaw`UPDATE audit_events SET data = jsonb_set(data, '{name}', '"nothing to see here"') WHERE id = ${eventId}`;
  expect(changed).toBe(1);
}

/** Puts the original data back, so the shared test database is left with intact chains. */
async function restore(db: Db, eventId: string, data: unknown): Promise<void> {
  await db.$executeRaw`UPDATE audit_events SET data = ${JSON.stringify(data)}::jsonb WHERE id = ${eventId}`;
}

async function expectDomainError(promise: Promise<unknown>, code: string): Promise<DomainError> {
  const error = await promise.then(
    () => {
      throw new Error(`expected ${code}`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  expect((error as DomainError).code).toBe(code);
  return error as DomainError;
}

describeOnEachDatabase("audit log", (getDb, kind) => {
  it("detects a row whose data was changed with SQL, and names exactly that event", async () => {
    const db = getDb();
    const { org, events } = await orgWithEvents(db, "tamper", 5);
    expect(await verifyAuditChain(db, org.orgId)).toEqual({ ok: true, events: 5 });

    const victim = events[2]!;
    await tamper(db, victim.id);
    try {
      const result = await verifyAuditChain(db, org.orgId);
      expect(result).toEqual({
        ok: false,
        events: 3,
        brokenAt: { id: victim.id, orgId: org.orgId, seq: 3, problem: "content does not match its hash (the row was modified)" },
      });
      if (kind === "pglite") {
        // A fresh embedded database holds only this file's orgs: the all-orgs check finds the same event.
        expect(await verifyAuditChain(db)).toMatchObject({ ok: false, brokenAt: { id: victim.id } });
      }
    } finally {
      await restore(db, victim.id, victim.data);
    }
    expect(await verifyAuditChain(db, org.orgId)).toEqual({ ok: true, events: 5 });
  });

  it("links in the database exactly as auditHash does, also for data with its own seq, quotes and non-ASCII text", async () => {
    const db = getDb();
    const org = await createTestOrg(db, `audit-link-${kind}`);
    const awkward = { seq: 0, nested: { seq: 7, "\"seq\":0,\"targetId\":": "ünïcödé ✓ 🚀" }, list: [1, "two", null] };
    for (const data of [awkward, {}, { note: 'quote " and backslash \\' }]) {
      await appendAudit(db, { orgId: org.orgId, action: "test.link", actorType: "SYSTEM", targetId: 'a "target"', data });
    }
    const events = await db.auditEvent.findMany({ where: { orgId: org.orgId }, orderBy: { seq: "asc" } });
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
    for (const event of events) expect(event.hash).toBe(auditHash(event));
    expect(await verifyAuditChain(db, org.orgId)).toEqual({ ok: true, events: 3 });
  });

  it("continues a chain that predates its head row (the migration's backfill)", async () => {
    const db = getDb();
    const { org } = await orgWithEvents(db, `audit-backfill-${kind}`, 3);
    // As before the migration: events, no head. The migration's own statement restores it.
    await db.$executeRaw`DELETE FROM audit_heads WHERE org_id = ${org.orgId}`;
    const migration = fs.readFileSync(path.join(ROOT, "prisma/migrations/20261202134931_audit_heads/migration.sql"), "utf8");
    const backfill = migration.slice(migration.indexOf('INSERT INTO "audit_heads"'));
    await db.$executeRawUnsafe(`${backfill.trim().replace(/;$/, "")} ON CONFLICT DO NOTHING`);
    await appendAudit(db, { orgId: org.orgId, action: "test.after", actorType: "SYSTEM", data: {} });
    expect(await verifyAuditChain(db, org.orgId)).toEqual({ ok: true, events: 4 });
  });

  it("detects a re-hashed row by the broken link to the next event", async () => {
    const db = getDb();
    const { org, events } = await orgWithEvents(db, "rehash", 4);
    const victim = events[1]!;
    const forged = { ...victim, data: { step: 2, name: "forged" } };
    // A careful forger recomputes the row's own hash; the next event still points at the old one.
    await db.auditEvent.update({ where: { id: victim.id }, data: { data: forged.data, hash: auditHash(forged) } });
    try {
      expect(await verifyAuditChain(db, org.orgId)).toMatchObject({
        ok: false,
        brokenAt: { id: events[2]!.id, seq: 3, problem: "prevHash does not match the previous event's hash" },
      });
    } finally {
      await db.auditEvent.update({ where: { id: victim.id }, data: { data: victim.data ?? {}, hash: victim.hash } });
    }
    expect(await verifyAuditChain(db, org.orgId)).toEqual({ ok: true, events: 4 });
  });

  describe("filters and export", () => {
    let org: TestOrg;
    let other: TestOrg;
    let boundaries: Date[];

    beforeAll(async () => {
      const db = getDb();
      org = await createTestOrg(db, "auditq");
      other = await createTestOrg(db, "auditq-rival");
      const owner = org.principals.OWNER;
      const admin = org.principals.ADMIN;
      boundaries = [];
      const entries = [
        { action: "tool.classified", actorType: "USER", actorId: owner.userId, targetType: "Tool", targetId: "tool-a" },
        { action: "tool.definition_approved", actorType: "USER", actorId: admin.userId, targetType: "Tool", targetId: "tool-a" },
        { action: "secret.created", actorType: "USER", actorId: owner.userId, targetType: "Secret", targetId: "secret-1" },
        { action: "toolserver.tools_discovered", actorType: "SYSTEM", actorId: null, targetType: "ToolServer", targetId: "server-1" },
      ] as const;
      for (const entry of entries) {
        boundaries.push(new Date());
        await sleep(5);
        await appendAudit(db, { orgId: org.orgId, ...entry, data: { note: entry.action } });
        await sleep(5);
      }
      boundaries.push(new Date());
      await appendAudit(db, { orgId: other.orgId, action: "tool.classified", actorType: "SYSTEM", data: {} });
    });

    const actions = (items: ReadonlyArray<{ action: string }>) => items.map((item) => item.action);

    it("narrows by action prefix, actor, target and time range, newest first", async () => {
      const db = getDb();
      const supervisor = org.principals.SUPERVISOR;
      const list = (filter: Parameters<typeof listAuditEvents>[2]["filter"]) => listAuditEvents(db, supervisor, { filter }).then((page) => actions(page.items));

      expect(await list(undefined)).toEqual(["toolserver.tools_discovered", "secret.created", "tool.definition_approved", "tool.classified"]);
      expect(await list({ action: "tool." })).toEqual(["tool.definition_approved", "tool.classified"]);
      expect(await list({ action: "  " })).toHaveLength(4);
      expect(await list({ actorType: "USER", actorId: org.principals.OWNER.userId })).toEqual(["secret.created", "tool.classified"]);
      expect(await list({ actorType: "SYSTEM" })).toEqual(["toolserver.tools_discovered"]);
      expect(await list({ targetType: "Tool", targetId: "tool-a" })).toEqual(["tool.definition_approved", "tool.classified"]);
      expect(await list({ from: boundaries[1]!.toISOString(), to: boundaries[3]!.toISOString() })).toEqual(["secret.created", "tool.definition_approved"]);
      expect(await list({ from: boundaries[3]!.toISOString() })).toEqual(["toolserver.tools_discovered"]);

      const page = await listAuditEvents(db, supervisor, { limit: 1, filter: { action: "tool." } });
      expect(page.items[0]).toMatchObject({ action: "tool.definition_approved", actorLabel: org.principals.ADMIN.email });
      const next = await listAuditEvents(db, supervisor, { limit: 1, cursor: page.nextCursor, filter: { action: "tool." } });
      expect(actions(next.items)).toEqual(["tool.classified"]);
      expect(next.nextCursor).toBeUndefined();

      const bad = await expectDomainError(list({ from: boundaries[3]!.toISOString(), to: boundaries[1]!.toISOString() }), "INVALID_INPUT");
      expect(bad.message).toBe("The end of the time range must be after its start.");
      await expectDomainError(list({ from: "yesterday" }), "INVALID_INPUT");
      await expectDomainError(listAuditEvents(db, org.principals.MEMBER, {}), "FORBIDDEN");
    });

    it("offers facets of this org only", async () => {
      const facets = await getAuditFacets(getDb(), org.principals.OWNER);
      expect(facets.actions).toEqual(["secret.created", "tool.classified", "tool.definition_approved", "toolserver.tools_discovered"]);
      expect(facets.targetTypes).toEqual(["Secret", "Tool", "ToolServer"]);
      expect(facets.actors).toEqual(
        expect.arrayContaining([
          { actorType: "USER", actorId: org.principals.OWNER.userId, label: org.principals.OWNER.email },
          { actorType: "SYSTEM", actorId: null, label: "system" },
        ]),
      );
      expect(facets.actors).toHaveLength(3);
    });

    it("exports the filtered events as JSON lines, oldest first, with their chain hashes", async () => {
      const db = getDb();
      const all = await exportAuditEvents(db, org.principals.SUPERVISOR, {});
      expect(all.fileName).toMatch(/^audit-auditq-[0-9a-f]+-\d{8}-\d{4}Z\.jsonl$/);
      const lines: string[] = [];
      for await (const line of all.lines) lines.push(line);
      expect(lines.every((line) => line.endsWith("\n"))).toBe(true);
      const rows = lines.map((line) => JSON.parse(line) as { seq: number; action: string; prevHash: string; hash: string; actorLabel: string; data: unknown });
      expect(rows.map((row) => row.seq)).toEqual([1, 2, 3, 4]);
      expect(rows[0]).toMatchObject({ action: "tool.classified", actorLabel: org.principals.OWNER.email, data: { note: "tool.classified" } });
      // The export is a verifiable slice of the chain: each event points at the one before it.
      rows.slice(1).forEach((row, i) => expect(row.prevHash).toBe(rows[i]!.hash));

      const filtered = await exportAuditEvents(db, org.principals.OWNER, { action: "tool.", actorType: "USER", actorId: org.principals.ADMIN.userId });
      const filteredRows: Array<{ action: string }> = [];
      for await (const line of filtered.lines) filteredRows.push(JSON.parse(line) as { action: string });
      expect(actions(filteredRows)).toEqual(["tool.definition_approved"]);

      const rival: string[] = [];
      for await (const line of (await exportAuditEvents(db, other.principals.OWNER, { action: "tool." })).lines) rival.push(line);
      expect(rival).toHaveLength(1);
      expect(rival[0]).not.toContain(org.orgId);

      await expectDomainError(exportAuditEvents(db, org.principals.MEMBER, {}), "FORBIDDEN");
      await expectDomainError(exportAuditEvents(db, org.principals.OWNER, { actorType: "ROBOT" }), "INVALID_INPUT");
    });
  });
});

interface ScriptResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function auditVerify(args: string[] = []): Promise<ScriptResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("npx", ["tsx", "scripts/audit-verify.ts", ...args], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: env.DATABASE_URL_TEST, SWITCHBOARD_LOG_LEVEL: "error" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("npm run audit:verify [postgresql]", () => {
  let handle: TestDatabase | undefined;
  const db = () => {
    if (!handle) throw new Error("test database not open yet");
    return handle.db;
  };

  beforeAll(async () => {
    handle = await openTestDatabase("postgresql");
  }, 60_000);
  afterAll(async () => {
    await handle?.close();
  });

  it("exits 0 on an intact chain, and 1 naming the tampered event", async () => {
    const { org, events } = await orgWithEvents(db(), "verify-script", 4);

    // The shared test database holds other files' orgs (some tampered on purpose), so the clean run is scoped to
    // this fresh org; the all-orgs run below must still name this org's event among any others.
    const clean = await auditVerify(["--org", org.orgId]);
    expect(clean).toMatchObject({ code: 0, stdout: "4 events, chain intact\n" });

    const victim = events[1]!;
    await tamper(db(), victim.id);
    try {
      const expected = `Audit chain broken at event ${victim.id} (org ${org.orgId}, seq 2): content does not match its hash (the row was modified)`;
      const everyOrg = await auditVerify();
      expect(everyOrg.code).toBe(1);
      expect(everyOrg.stderr.split("\n")).toContain(expected);
      expect(everyOrg.stdout).not.toContain("chain intact");
    } finally {
      await restore(db(), victim.id, victim.data);
    }
    expect(await verifyAuditChain(db(), org.orgId)).toEqual({ ok: true, events: 4 });
  }, 120_000);

  it("exits 2 when it cannot check", async () => {
    const result = await auditVerify(["--org"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("usage: audit-verify [--org <orgId>]");
  });
});
