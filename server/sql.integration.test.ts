import crypto from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Db } from "./db";
import { verifyAuditChain } from "./domain/audit/audit-log";
import { appendEvent, appendEvents, completeEvent, LeaseLost, type TraceWriter } from "./domain/runs/trace";
import { env } from "./env";
import { isDatabaseFailure } from "./runtime/database-failures";
import { sqlFor } from "./sql";
import { describeOnEachDatabase } from "./testing/databases";
import { createTestAgentAndRun, createTestOrg, type TestOrg } from "./testing/fixtures";

/**
 * The kernel's SQL path (server/sql.ts) beside Prisma on the same database: transactions commit or roll back whole,
 * never interleave with a Prisma transaction on PGlite's single connection, survive a connection killed under them,
 * and the trace writes built on it stay fenced by the lease and atomic with their usage, spend and audit rows.
 */
describeOnEachDatabase("kernel SQL path", (getDb, kind) => {
  let db: Db;
  let org: TestOrg;
  const table = `sql_path_probe_${crypto.randomBytes(4).toString("hex")}`;
  const count = async () => Number((await sqlFor(db).query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0]?.n);

  beforeAll(async () => {
    db = getDb();
    org = await createTestOrg(db, "sqlpath");
    await sqlFor(db).query(`CREATE TABLE ${table} (note text NOT NULL)`);
  });
  afterAll(async () => {
    await sqlFor(db).query(`DROP TABLE IF EXISTS ${table}`);
  });

  it("commits a transaction whole, and rolls it back whole when its work throws", async () => {
    const before = await count();
    await sqlFor(db).transaction(async (tx) => {
      await tx.query(`INSERT INTO ${table} (note) VALUES ($1)`, ["one"]);
      await tx.query(`INSERT INTO ${table} (note) VALUES ($1)`, ["two"]);
    });
    expect(await count()).toBe(before + 2);
    await expect(
      sqlFor(db).transaction(async (tx) => {
        await tx.query(`INSERT INTO ${table} (note) VALUES ($1)`, ["three"]);
        throw new Error("changed my mind");
      }),
    ).rejects.toThrow("changed my mind");
    expect(await count()).toBe(before + 2);
  });

  it("never runs a statement inside someone else's Prisma transaction (it waits, then commits on its own)", async () => {
    const before = await count();
    let prismaHolds!: () => void;
    const held = new Promise<void>((resolve) => (prismaHolds = resolve));
    const prisma = db.$transaction(async (tx) => {
      await tx.$executeRawUnsafe(`INSERT INTO ${table} (note) VALUES ('prisma, rolled back')`);
      prismaHolds();
      await new Promise((resolve) => setTimeout(resolve, 150));
      throw new Error("rolled back on purpose");
    });
    await held;
    // Sent while the Prisma transaction is open: on a shared connection it would join it and be rolled back with it.
    await sqlFor(db).query(`INSERT INTO ${table} (note) VALUES ('kernel, own commit')`);
    await expect(prisma).rejects.toThrow("rolled back on purpose");
    const notes = (await sqlFor(db).query<{ note: string }>(`SELECT note FROM ${table}`)).map((row) => row.note);
    expect(notes).toContain("kernel, own commit");
    expect(notes).not.toContain("prisma, rolled back");
    expect(await count()).toBe(before + 1);
  });

  it("joins a Prisma transaction it is handed, and is rolled back with it", async () => {
    const before = await count();
    await expect(
      db.$transaction(async (tx) => {
        await sqlFor(tx).transaction((inner) => inner.query(`INSERT INTO ${table} (note) VALUES ('joined')`));
        throw new Error("outer rollback");
      }),
    ).rejects.toThrow("outer rollback");
    expect(await count()).toBe(before);
  });

  if (kind === "postgresql") {
    it("survives its connection being terminated mid-transaction: a database failure, not a crash, and the pool goes on", async () => {
      const admin = new pg.Client({ connectionString: env.DATABASE_URL_TEST });
      await admin.connect();
      try {
        const failure = await sqlFor(db)
          .transaction(async (tx) => {
            await tx.query(`INSERT INTO ${table} (note) VALUES ('lost with the connection')`);
            const [backend] = await tx.query<{ pid: number }>(`SELECT pg_backend_pid() AS pid`);
            await admin.query(`SELECT pg_terminate_backend($1)`, [backend!.pid]);
            await tx.query(`SELECT 1`);
          })
          .then(
            () => null,
            (error: unknown) => error,
          );
        expect(failure).toBeInstanceOf(Error);
        expect(isDatabaseFailure(failure)).toBe(true);
        const notes = (await sqlFor(db).query<{ note: string }>(`SELECT note FROM ${table}`)).map((row) => row.note);
        expect(notes).not.toContain("lost with the connection");
      } finally {
        await admin.end();
      }
    });
  }

  describeTraceWrites();

  function describeTraceWrites() {
    async function runningRun(workerId: string): Promise<TraceWriter & { runId: string }> {
      const { run } = await createTestAgentAndRun(db, org);
      await db.run.update({ where: { id: run.id }, data: { status: "RUNNING", leaseOwner: workerId, leaseUntil: new Date(Date.now() + 60_000) } });
      return { runId: run.id, orgId: org.orgId, workerId };
    }

    it("completes an event with its usage, spend entry and reservation in one write — once, and only for the lease holder", async () => {
      const writer = await runningRun("worker-a");
      const { agentId } = await db.run.findUniqueOrThrow({ where: { id: writer.runId }, select: { agentId: true } });
      const userId = org.principals.OWNER.userId;
      const reservation = await db.spendReservation.create({
        data: { orgId: org.orgId, runId: writer.runId, agentId, userId, estimateMicros: 500, expiresAt: new Date(Date.now() + 60_000) },
      });
      const intent = await appendEvent(db, writer, 1, { type: "MODEL_CALL", name: "scripted", status: "PENDING", payload: { model: "scripted-v1" } });
      expect(intent.cancelRequested).toBe(false);
      const completion = {
        status: "OK" as const,
        payload: { response: { content: "done", toolCalls: [] } },
        inputTokens: 12,
        outputTokens: 3,
        costMicros: 40,
        spend: { agentId, userId, modelConfigId: null, model: "scripted-v1" },
        spendReservationId: reservation.id,
      };
      // Another worker's write is fenced off and changes nothing.
      await expect(completeEvent(db, { ...writer, workerId: "worker-b" }, intent.id, completion)).rejects.toBeInstanceOf(LeaseLost);
      await db.run.update({ where: { id: writer.runId }, data: { cancelRequestedAt: new Date() } });
      const receipt = await completeEvent(db, writer, intent.id, completion);
      expect(receipt.cancelRequested).toBe(true);
      // A second completion of the same event (a replayed write) is refused and counts nothing twice.
      await expect(completeEvent(db, writer, intent.id, completion)).rejects.toBeInstanceOf(LeaseLost);

      const run = await db.run.findUniqueOrThrow({ where: { id: writer.runId }, select: { inputTokens: true, outputTokens: true, costMicros: true, stepCount: true } });
      expect(run).toEqual({ inputTokens: 12, outputTokens: 3, costMicros: 40, stepCount: 1 });
      const entries = await db.spendEntry.findMany({ where: { runId: writer.runId } });
      expect(entries.map((e) => [e.inputTokens, e.outputTokens, e.costMicros, e.model])).toEqual([[12, 3, 40, "scripted-v1"]]);
      expect(await db.spendReservation.count({ where: { id: reservation.id } })).toBe(0);
      const event = await db.runEvent.findUniqueOrThrow({ where: { id: intent.id } });
      expect({ status: event.status, costMicros: event.costMicros, endedAt: event.endedAt !== null }).toEqual({ status: "OK", costMicros: 40, endedAt: true });
      // Timestamps are stored in UTC like Prisma's own writes, whatever the process's time zone.
      expect(Math.abs(event.startedAt.getTime() - intent.startedAt.getTime())).toBeLessThan(2);
    });

    it("appends a decision, its audit entry and the call's intent in one commit, keeping the org's audit chain intact", async () => {
      const writer = await runningRun("worker-a");
      const audit = { orgId: org.orgId, action: "policy.decision", actorType: "AGENT" as const, actorId: null, targetType: "Run", targetId: writer.runId, data: { effect: "ALLOW" } };
      const [decision, intent] = await appendEvents(
        db,
        writer,
        1,
        [
          { type: "POLICY_DECISION", name: "send: allow", status: "OK", payload: { effect: "ALLOW" } },
          { type: "TOOL_CALL", name: "send", status: "PENDING", idempotencyKey: `${writer.runId}:2`, payload: { tool: "send" } },
        ],
        audit,
      );
      expect([decision?.seq, intent?.seq]).toEqual([1, 2]);
      // Without the lease nothing of it is written: not the events, not the audit entry.
      const auditBefore = await db.auditEvent.count({ where: { orgId: org.orgId } });
      await expect(
        appendEvents(db, { ...writer, workerId: "worker-b" }, 3, [{ type: "POLICY_DECISION", name: "x", status: "OK", payload: {} }], audit),
      ).rejects.toBeInstanceOf(LeaseLost);
      expect(await db.auditEvent.count({ where: { orgId: org.orgId } })).toBe(auditBefore);
      expect(await db.runEvent.count({ where: { runId: writer.runId } })).toBe(2);
      // A racing duplicate (a seq already taken) is refused whole: one statement, so no audit entry without its events.
      await expect(appendEvents(db, writer, 2, [{ type: "POLICY_DECISION", name: "dup", status: "OK", payload: {} }], audit)).rejects.toThrow();
      expect(await db.auditEvent.count({ where: { orgId: org.orgId } })).toBe(auditBefore);
      expect((await db.run.findUniqueOrThrow({ where: { id: writer.runId }, select: { stepCount: true } })).stepCount).toBe(2);
      // Concurrent appends from many runs of one org still form one unbroken chain.
      const writers = await Promise.all(Array.from({ length: 6 }, (_, i) => runningRun(`worker-${i}`)));
      await Promise.all(
        writers.map((w) => appendEvents(db, w, 1, [{ type: "POLICY_DECISION", name: "y", status: "OK", payload: {} }], { ...audit, targetId: w.runId })),
      );
      expect(await verifyAuditChain(db, org.orgId)).toEqual({ ok: true, events: auditBefore + 6 });
    });
  }
});
