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

/** An entry's chained fields with seq left to the database: its canonical JSON split where seq's value goes. */
function chainable(entry: AuditEntry) {
  // Millisecond precision: PostgreSQL stores microseconds, and the hash must survive a round trip.
  const createdAt = new Date();
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
  return { id: newRowId("au"), fields, ...splitAtSeq(canonicalJson(chainedContent(fields))) };
}

/** The hash auditHash() computes, in SQL: sha256(prevHash + the canonical JSON before seq + seq + the rest). */
function linkSql(prev: string, before: string, seq: string, after: string): string {
  return `encode(sha256(convert_to(${prev} || ${before} || (${seq})::text || ${after}, 'UTF8')), 'hex')`;
}

/**
 * The CTEs `head` and `audited` that append `entry` to its org's chain, for a statement of the caller's (which may
 * add its own CTEs and must end with a SELECT). Parameters are numbered from `$first`; `guard`, when given, is a CTE
 * that must yield a row for the append to happen (the trace's lease, so nothing is audited for a lost run).
 *
 * The next link is computed by PostgreSQL from the head row it locked: INSERT … ON CONFLICT DO UPDATE takes the row
 * lock and, at READ COMMITTED, works on the latest committed head — so the link is always to the last event, with
 * no separate lock or read round trip. (auditChainSql does the same for many entries at once.)
 */
export function auditAppendSql(entry: AuditEntry, first: number, guard: string | null): { ctes: string; params: unknown[] } {
  const { id, fields, before, after } = chainable(entry);
  const p = (offset: number) => `$${first + offset}`;
  const link = (prev: string, seq: string) => linkSql(prev, `${p(1)}::text`, seq, `${p(2)}::text`);
  const ctes = `head AS (
       INSERT INTO audit_heads AS h (org_id, seq, hash, prev_hash)
       SELECT ${p(0)}::text, 1, ${link(`'${GENESIS_HASH}'`, "1")}, '${GENESIS_HASH}'${guard ? ` FROM ${guard}` : ""}
       ON CONFLICT (org_id) DO UPDATE SET seq = h.seq + 1, prev_hash = h.hash, hash = ${link("h.hash", "h.seq + 1")}
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
    id,
    fields.action,
    fields.actorType,
    fields.actorId,
    fields.targetType,
    fields.targetId,
    JSON.stringify(fields.data),
    fields.createdAt.toISOString(),
  ];
  return { ctes, params };
}

/** An entry for auditChainSql, with the part of the caller's statement it belongs to (see auditChainSql's `kept`). */
export interface AuditRecordInput {
  entry: AuditEntry;
  part: number | null;
}

/** The JSON records (one per entry, in chain order) that auditChainSql's `recordsParam` takes. */
export function auditRecords(entries: readonly AuditRecordInput[]): object[] {
  return entries.map(({ entry, part }, ord) => {
    const { id, fields, before, after } = chainable(entry);
    return {
      ord,
      part,
      org_id: fields.orgId,
      id,
      action: fields.action,
      actor_type: fields.actorType,
      actor_id: fields.actorId,
      target_type: fields.targetType,
      target_id: fields.targetId,
      data: fields.data,
      created_at: fields.createdAt.toISOString(),
      before,
      after,
    };
  });
}

/**
 * CTEs (`audit_in`, `audit_head`, `audit_chain`, `audited`) that append the entries of `recordsParam` (a jsonb
 * parameter of auditRecords) to their orgs' chains, in order — only those `kept` (an SQL condition on the record
 * `a`, e.g. that its part's lease held; nothing is audited for a run this worker lost) — for a statement of the
 * caller's that starts `WITH RECURSIVE` and ends with a SELECT. Many entries in one statement is how the kernel audits
 * many runs' steps with one commit.
 *
 * The next links are computed by PostgreSQL from the head row it locked: INSERT … ON CONFLICT DO UPDATE takes the row
 * lock and, at READ COMMITTED, works on the latest committed head — so a chain always continues from its last event,
 * with no separate lock or read round trip. Heads are locked in org id order, so two statements touching the same
 * orgs never wait for each other in a circle. Each hash is the one auditHash() computes: sha256(prevHash + the
 * canonical JSON of the chained fields), the JSON built around the one field only the database knows, `seq`. A head
 * keeps its chain's last seq and hash, and in prev_hash the hash its last statement continued from.
 */
export function auditChainSql(recordsParam: string, kept: string | null): string {
  const count = (org: string) => `(SELECT count(*) FROM audit_in a WHERE a.org_id = ${org})`;
  const link = (prev: string, seq: string) => linkSql(prev, "e.before", seq, "e.after");
  const chainFrom = (hash: string, seq: string, org: string) =>
    `(WITH RECURSIVE c(n, hash) AS (SELECT 0::bigint, ${hash}::text UNION ALL SELECT c.n + 1, ${link("c.hash", `${seq} + c.n + 1`)} FROM c JOIN audit_in e ON e.org_id = ${org} AND e.n = c.n + 1)
              SELECT hash FROM c ORDER BY n DESC LIMIT 1)`;
  return `audit_in AS (
       SELECT row_number() OVER (PARTITION BY a.org_id ORDER BY a.ord) AS n, a.*
         FROM json_to_recordset(${recordsParam}::json) AS a(ord int, part int, org_id text, id text, action text, actor_type text, actor_id text, target_type text,
              target_id text, data jsonb, created_at timestamp, before text, after text)${kept ? `\n        WHERE ${kept}` : ""}),
     audit_head AS (
       INSERT INTO audit_heads AS h (org_id, seq, hash, prev_hash)
       SELECT w.org_id, ${count("w.org_id")}, ${chainFrom(`'${GENESIS_HASH}'`, "0", "w.org_id")}, '${GENESIS_HASH}'
         FROM (SELECT DISTINCT org_id FROM audit_in) AS w ORDER BY w.org_id
       ON CONFLICT (org_id) DO UPDATE SET seq = h.seq + ${count("h.org_id")}, prev_hash = h.hash, hash = ${chainFrom("h.hash", "h.seq", "h.org_id")}
       RETURNING org_id, seq, hash, prev_hash),
     audit_chain(org_id, n, seq, prev_hash, hash) AS (
       SELECT hd.org_id, 0::bigint, hd.seq - ${count("hd.org_id")}, NULL::text, hd.prev_hash FROM audit_head hd
       UNION ALL
       SELECT c.org_id, c.n + 1, c.seq + 1, c.hash, ${link("c.hash", "c.seq + 1")} FROM audit_chain c JOIN audit_in e ON e.org_id = c.org_id AND e.n = c.n + 1),
     audited AS (
       INSERT INTO audit_events (id, org_id, seq, action, actor_type, actor_id, target_type, target_id, data, prev_hash, hash, created_at)
       SELECT e.id, e.org_id, c.seq, e.action, e.actor_type::"ActorType", e.actor_id, e.target_type, e.target_id, e.data, c.prev_hash, c.hash, e.created_at
         FROM audit_chain c JOIN audit_in e ON e.org_id = c.org_id AND e.n = c.n
       RETURNING seq)`;
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
