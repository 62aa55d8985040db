import type { DbOrTx } from "@/server/db";
import { newRowId, sqlFor } from "@/server/sql";
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
  return sha256Hex(fields.prevHash + canonicalJson(chainedContent(fields)));
}

function chainedContent(fields: Omit<ChainedFields, "prevHash">) {
  return {
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
}

/**
 * Appends one event to the org's hash chain. Pass the transaction that makes the change being audited, so the
 * change and its audit row commit together. One statement (see auditAppendSql): the org's chain head row is
 * updated first, and its row lock serialises appends — two concurrent writers never link to the same event.
 */
export async function appendAudit(db: DbOrTx, entry: AuditEntry): Promise<void> {
  const append = auditAppendSql(entry, 1, null);
  const [row] = await sqlFor(db).query<{ seq: number }>(`WITH ${append.ctes} SELECT seq FROM audited`, append.params);
  if (!row) throw new Error(`The audit entry "${entry.action}" was not written.`);
}

/**
 * The CTEs `head` and `audited` that append `entry` to its org's chain, for a statement of the caller's (which may
 * add its own CTEs and must end with a SELECT). Parameters are numbered from `$first`; `guard`, when given, is a CTE
 * that must yield a row for the append to happen (the trace's lease, so nothing is audited for a lost run).
 *
 * The next link is computed by PostgreSQL from the head row it locked: INSERT … ON CONFLICT DO UPDATE takes the row
 * lock and, at READ COMMITTED, works on the latest committed head — so the link is always to the last event, with
 * no separate lock or read round trip. The hash is the one auditHash() computes: sha256(prevHash + the canonical
 * JSON of the chained fields), the JSON built here around the one field only the database knows, `seq`.
 */
export function auditAppendSql(entry: AuditEntry, first: number, guard: string | null): { ctes: string; params: unknown[] } {
  // Millisecond precision: PostgreSQL stores microseconds, and the hash must survive a round trip.
  const createdAt = new Date();
  // seq is the database's to choose: the content is built with a placeholder and split where its value goes.
  const fields = {
    orgId: entry.orgId,
    seq: 0,
    action: entry.action,
    actorType: entry.actorType,
    actorId: entry.actorId ?? null,
    targetType: entry.targetType ?? null,
    targetId: entry.targetId ?? null,
    data: entry.data ?? {},
    createdAt,
  };
  const { before, after } = splitAtSeq(canonicalJson(chainedContent(fields)));
  const p = (offset: number) => `$${first + offset}`;
  const link = (prev: string, seq: string) => `encode(sha256(convert_to(${prev} || ${p(1)}::text || ${seq} || ${p(2)}::text, 'UTF8')), 'hex')`;
  const ctes = `head AS (
       INSERT INTO audit_heads AS h (org_id, seq, hash, prev_hash)
       SELECT ${p(0)}::text, 1, ${link(`'${GENESIS_HASH}'`, `'1'`)}, '${GENESIS_HASH}'${guard ? ` FROM ${guard}` : ""}
       ON CONFLICT (org_id) DO UPDATE SET seq = h.seq + 1, prev_hash = h.hash, hash = ${link("h.hash", "(h.seq + 1)::text")}
       RETURNING seq, hash, prev_hash),
     audited AS (
       INSERT INTO audit_events (id, org_id, seq, action, actor_type, actor_id, target_type, target_id, data, prev_hash, hash, created_at)
       SELECT ${p(3)}, ${p(0)}::text, head.seq, ${p(4)}, ${p(5)}::"ActorType", ${p(6)}, ${p(7)}, ${p(8)}, ${p(9)}::jsonb, head.prev_hash, head.hash, ${p(10)}::timestamp
         FROM head
       RETURNING seq)`;
  const params = [
    fields.orgId,
    before,
    after,
    newRowId("au"),
    fields.action,
    fields.actorType,
    fields.actorId,
    fields.targetType,
    fields.targetId,
    JSON.stringify(fields.data),
    createdAt.toISOString(),
  ];
  return { ctes, params };
}

/** The canonical JSON auditHash() hashes (after prevHash), built with seq 0, split where the value of `seq` goes. */
function splitAtSeq(text: string): { before: string; after: string } {
  // Keys are sorted: seq is followed by targetId, and a quote inside a string value is escaped, so this marker can
  // only be the top-level key (data, which may hold its own "seq", comes earlier: hence the last occurrence).
  const marker = `"seq":0,"targetId":`;
  const at = text.lastIndexOf(marker);
  if (at < 0) throw new Error("The audit entry's canonical form has no seq field.");
  return { before: text.slice(0, at + `"seq":`.length), after: text.slice(at + `"seq":0`.length) };
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
