import { isRootClient, type DbOrTx } from "@/server/db";
import { newRowId, sqlFor, type SqlClient } from "@/server/sql";
import type { Prisma } from "@/server/generated/prisma/client";
import { canonicalJson, sha256Hex } from "../canonical";

export const GENESIS_HASH = "0".repeat(64);

export type AuditActorType = "USER" | "API_KEY" | "AGENT" | "SYSTEM";

export interface AuditEntry {
  orgId: string;
  action: string;
  actorType: AuditActorType;
  actorId?: string | null;
  targetType?: string | null;
  targetId?: string | null;
  /** Never put secrets or deleted content here: the audit log is forever. */
  data?: Prisma.InputJsonValue;
}

interface ChainedFields {
  orgId: string;
  seq: number;
  action: string;
  actorType: string;
  actorId: string | null;
  targetType: string | null;
  targetId: string | null;
  data: unknown;
  createdAt: Date;
  prevHash: string;
}

/** Only the chained fields are hashed (picked explicitly, so a row's id or stored hash never feeds its own hash). */
export function auditHash(fields: ChainedFields): string {
  const content = {
    orgId: fields.orgId,
    seq: fields.seq,
    action: fields.action,
    actorType: fields.actorType,
    actorId: fields.actorId,
    targetType: fields.targetType,
    targetId: fields.targetId,
    data: fields.data,
    createdAt: fields.createdAt.toISOString(),
  };
  return sha256Hex(fields.prevHash + canonicalJson(content));
}

/**
 * Appends one event to the org's hash chain. Pass the transaction that makes the change being audited, so the
 * change and its audit row commit together. A per-org advisory lock serialises appends: without it two
 * concurrent writers would read the same previous hash and fork the chain.
 */
export async function appendAudit(db: DbOrTx, entry: AuditEntry): Promise<void> {
  const sql = sqlFor(db);
  if (isRootClient(db)) await sql.transaction((tx) => appendAuditSql(tx, entry));
  else await appendAuditSql(sql, entry);
}

/** appendAudit inside a transaction the caller holds on the SQL path (see server/sql.ts): one chain, one implementation. */
export async function appendAuditSql(tx: SqlClient, entry: AuditEntry): Promise<void> {
  await tx.query(`SELECT 1 AS locked FROM pg_advisory_xact_lock(hashtext($1))`, [`audit:${entry.orgId}`]);
  // After the lock (its own statement, so this one's snapshot includes every append committed before we got it).
  const [last] = await tx.query<{ seq: number; hash: string }>(`SELECT seq, hash FROM audit_events WHERE org_id = $1 ORDER BY seq DESC LIMIT 1`, [entry.orgId]);
  // Millisecond precision: PostgreSQL stores microseconds, and the hash must survive a round trip.
  const createdAt = new Date();
  const fields = {
    orgId: entry.orgId,
    seq: (last?.seq ?? 0) + 1,
    action: entry.action,
    actorType: entry.actorType,
    actorId: entry.actorId ?? null,
    targetType: entry.targetType ?? null,
    targetId: entry.targetId ?? null,
    data: entry.data ?? {},
    createdAt,
    prevHash: last?.hash ?? GENESIS_HASH,
  } satisfies ChainedFields;
  await tx.query(
    `INSERT INTO audit_events (id, org_id, seq, action, actor_type, actor_id, target_type, target_id, data, prev_hash, hash, created_at)
     VALUES ($1, $2, $3::int, $4, $5::"ActorType", $6, $7, $8, $9::jsonb, $10, $11, $12::timestamp)`,
    [
      newRowId("au"),
      fields.orgId,
      fields.seq,
      fields.action,
      fields.actorType,
      fields.actorId,
      fields.targetType,
      fields.targetId,
      JSON.stringify(fields.data),
      fields.prevHash,
      auditHash(fields),
      createdAt.toISOString(),
    ],
  );
}

export type ChainVerification =
  | { ok: true; events: number }
  | { ok: false; events: number; brokenAt: { id: string; orgId: string; seq: number; problem: string } };

/** Recomputes every org's chain from the genesis hash; reports the first event whose hash or link is wrong. */
export async function verifyAuditChain(db: DbOrTx, orgId?: string): Promise<ChainVerification> {
  const orgs = orgId ? [{ id: orgId }] : await db.org.findMany({ select: { id: true }, orderBy: { id: "asc" } });
  let events = 0;
  for (const org of orgs) {
    let prevHash = GENESIS_HASH;
    let expectedSeq = 1;
    let cursor: number | undefined;
    for (;;) {
      const page = await db.auditEvent.findMany({
        where: { orgId: org.id, ...(cursor !== undefined ? { seq: { gt: cursor } } : {}) },
        orderBy: { seq: "asc" },
        take: 1000,
      });
      if (page.length === 0) break;
      for (const event of page) {
        events += 1;
        const broken = (problem: string): ChainVerification => ({
          ok: false,
          events,
          brokenAt: { id: event.id, orgId: event.orgId, seq: event.seq, problem },
        });
        if (event.seq !== expectedSeq) return broken(`expected seq ${expectedSeq}, found ${event.seq} (an event was removed)`);
        if (event.prevHash !== prevHash) return broken("prevHash does not match the previous event's hash");
        const recomputed = auditHash(event);
        if (recomputed !== event.hash) return broken("content does not match its hash (the row was modified)");
        prevHash = event.hash;
        expectedSeq += 1;
      }
      cursor = page[page.length - 1]?.seq;
    }
  }
  return { ok: true, events };
}
