import { z } from "zod";
import { inTransaction, type DbOrTx, type Tx } from "@/server/db";
import { Prisma } from "@/server/generated/prisma/client";
import { appendAudit, type AuditActorType } from "../audit/audit-log";
import { InvalidInput, NotFound } from "../errors";
import { actorOf, requireScope, type Principal } from "../identity/principal";
import { parseInput } from "../models/validation";
import { embedMemory, embedQuery, retrievalMode } from "./embeddings";
import { anyWordsQuery, fullTextRetriever, hybridRetriever, nearestMemoryIds, reciprocalRankFusion, type Retriever } from "./retrieval";

/**
 * Long-term memory: short statements agents (through the remember tool) and people (console, API) keep for later
 * runs. ORG memories are for everyone in the organisation, AGENT memories for one agent's runs, USER memories for
 * one person: only they, admins and runs acting for them ever see those. A near-duplicate written by a run
 * supersedes the older memory instead of piling up; deleting is a hard delete (row, history and full-text entry),
 * and its audit event says what kind of memory went, never what it said.
 */

export const MEMORY_SCOPES = ["ORG", "AGENT", "USER"] as const;
export type MemoryScopeName = (typeof MEMORY_SCOPES)[number];
export const MEMORY_KINDS = ["FACT", "PREFERENCE", "EPISODE"] as const;
export type MemoryKindName = (typeof MEMORY_KINDS)[number];

export const MAX_MEMORY_CHARS = 5_000;
/** Jaccard similarity of the memories' stemmed words (stop words dropped) at which a new memory replaces an old one. */
export const NEAR_DUPLICATE_JACCARD = 0.8;
const MERGE_CANDIDATES = 20;
const DAY_MS = 86_400_000;

const Content = z
  .string("Write what should be remembered.")
  .trim()
  .min(1, "Write what should be remembered.")
  .max(MAX_MEMORY_CHARS, `A memory is limited to ${MAX_MEMORY_CHARS.toLocaleString("en")} characters; keep it to one fact or preference.`);
const Scope = z.enum(MEMORY_SCOPES, "Scope is one of org, agent or user.");
const Kind = z.enum(MEMORY_KINDS, "Kind is one of fact, preference or episode.");
const TtlDays = z.number("Give the time to live in days.").int("Give the time to live in whole days.").min(1, "Keep a memory at least one day.").max(3_650, "A memory can live at most ten years; leave the time to live empty to keep it.");
const Id = z.string().min(1).max(100);

// ─── Who sees what ───────────────────────────────────────────────────────────────────────────────────────────────

interface Viewer {
  orgId: string;
  userId: string | null;
  /** Owners and admins see every person's memories (to review and delete them). */
  admin: boolean;
}

/**
 * An API key is as privileged as the admin who created it is now: a demoted or removed creator's keys see only
 * what everyone sees (plus the creator's own memories).
 */
async function viewerOf(db: DbOrTx, principal: Principal): Promise<Viewer> {
  if (principal.kind === "user") return { orgId: principal.orgId, userId: principal.userId, admin: principal.role === "OWNER" || principal.role === "ADMIN" };
  if (!principal.userId) return { orgId: principal.orgId, userId: null, admin: false };
  const membership = await db.membership.findFirst({ where: { orgId: principal.orgId, userId: principal.userId, revokedAt: null }, select: { role: true } });
  return { orgId: principal.orgId, userId: principal.userId, admin: membership?.role === "OWNER" || membership?.role === "ADMIN" };
}

function visibleWhere(viewer: Viewer): Prisma.MemoryWhereInput {
  if (viewer.admin) return { orgId: viewer.orgId };
  return { orgId: viewer.orgId, OR: [{ scope: { in: ["ORG", "AGENT"] } }, { scope: "USER", userId: viewer.userId ?? "-" }] };
}

function visibleSql(viewer: Viewer): Prisma.Sql {
  if (viewer.admin) return Prisma.sql`m.org_id = ${viewer.orgId}`;
  return Prisma.sql`m.org_id = ${viewer.orgId} AND (m.scope <> 'USER' OR m.user_id = ${viewer.userId})`;
}

const sqlTimestamp = (date: Date) => date.toISOString();

const notExpired = (now: Date): Prisma.MemoryWhereInput => ({ OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] });

// ─── Presentation ────────────────────────────────────────────────────────────────────────────────────────────────

export interface PersonRef {
  id: string;
  email: string;
  name: string | null;
}

export interface MemoryListItem {
  id: string;
  content: string;
  /** HTML: the content escaped, with the matched words in <mark>…</mark> when searched. */
  highlight: string;
  scope: MemoryScopeName;
  kind: MemoryKindName;
  pinned: boolean;
  expiresAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  /** ts_rank_cd of the search; null when listing without a query. */
  score: number | null;
  agent: { id: string; slug: string; name: string } | null;
  user: PersonRef | null;
  source: { runId: string | null; eventId: string | null; person: PersonRef | null; href: string | null };
  supersededById: string | null;
}

export interface MemoryDetail extends MemoryListItem {
  revisions: { id: string; content: string; editedBy: PersonRef | null; createdAt: Date }[];
  /** The older near-duplicates this memory replaced. */
  supersedes: { id: string; content: string; createdAt: Date }[];
}

/** For text between tags (the highlight is rendered as element content, never into an attribute). */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/**
 * The same escaping in SQL, applied before ts_headline: the text parser reads the entities as entities (never as
 * words, so a mark never lands inside one) and the only tags in the result are the marks ts_headline adds. Raw
 * tags would not survive anyway: the parser drops them from headlines.
 */
const escapedContentSql = (column: Prisma.Sql) =>
  Prisma.sql`replace(replace(replace(replace(${column}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;')`;

/** Short memories are shown whole; long ones as their best two fragments. */
const SHORT_MEMORY_CHARS = 600;
const HEADLINE_WHOLE = "StartSel=<mark>, StopSel=</mark>, HighlightAll=true";
const HEADLINE_FRAGMENTS = "StartSel=<mark>, StopSel=</mark>, MaxWords=60, MinWords=25, MaxFragments=2";

export function sourceHref(runId: string | null, eventId: string | null): string | null {
  if (!runId) return null;
  return eventId ? `/runs/${runId}#event-${eventId}` : `/runs/${runId}`;
}

const memorySelect = {
  id: true,
  content: true,
  scope: true,
  kind: true,
  pinned: true,
  expiresAt: true,
  createdAt: true,
  updatedAt: true,
  sourceRunId: true,
  sourceEventId: true,
  createdById: true,
  supersededById: true,
  agent: { select: { id: true, slug: true, name: true } },
  user: { select: { id: true, email: true, name: true } },
} satisfies Prisma.MemorySelect;

type MemoryRow = Prisma.MemoryGetPayload<{ select: typeof memorySelect }>;

async function peopleById(db: DbOrTx, ids: (string | null)[]): Promise<Map<string, PersonRef>> {
  const wanted = [...new Set(ids.filter((id): id is string => id !== null))];
  if (wanted.length === 0) return new Map();
  const people = await db.user.findMany({ where: { id: { in: wanted } }, select: { id: true, email: true, name: true } });
  return new Map(people.map((person) => [person.id, person]));
}

function toListItem(row: MemoryRow, people: Map<string, PersonRef>, extra: { highlight?: string; score?: number | null } = {}): MemoryListItem {
  return {
    id: row.id,
    content: row.content,
    highlight: extra.highlight ?? escapeHtml(row.content),
    scope: row.scope,
    kind: row.kind,
    pinned: row.pinned,
    expiresAt: row.expiresAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    score: extra.score ?? null,
    agent: row.agent,
    user: row.user,
    source: {
      runId: row.sourceRunId,
      eventId: row.sourceEventId,
      person: row.createdById ? (people.get(row.createdById) ?? null) : null,
      href: sourceHref(row.sourceRunId, row.sourceEventId),
    },
    supersededById: row.supersededById,
  };
}

// ─── Kernel side ─────────────────────────────────────────────────────────────────────────────────────────────────

export const WriteMemoryFromRunInput = z
  .object({
    orgId: Id,
    agentId: Id,
    onBehalfOfUserId: Id.nullable(),
    runId: Id,
    /** The run's event that wrote it (the remember tool call): writing the same event twice is a no-op. */
    eventId: Id,
    content: Content,
    kind: Kind,
    scope: Scope.optional(),
    ttlDays: TtlDays.optional(),
  })
  .refine((input) => input.scope !== "USER" || input.onBehalfOfUserId !== null, {
    message: "This run acts for nobody, so it cannot keep a personal memory; use the agent or org scope.",
    path: ["scope"],
  });
export type WriteMemoryFromRunInput = z.input<typeof WriteMemoryFromRunInput>;

/** A preference of the person a run acts for is theirs; anything else an agent learns stays with the agent. */
export function defaultScope(kind: MemoryKindName, onBehalfOfUserId: string | null): MemoryScopeName {
  return onBehalfOfUserId && kind === "PREFERENCE" ? "USER" : "AGENT";
}

/** Stemmed words without stop words, as the full-text index sees them; a set, so order and repetition do not count. */
function jaccard(a: readonly string[], b: readonly string[]): number {
  const left = new Set(a);
  const right = new Set(b);
  if (left.size === 0 && right.size === 0) return 1;
  let shared = 0;
  for (const word of left) if (right.has(word)) shared += 1;
  return shared / (left.size + right.size - shared);
}

const normalised = (text: string) => text.toLowerCase().replace(/\s+/g, " ").trim();

interface Owner {
  orgId: string;
  scope: MemoryScopeName;
  agentId: string | null;
  userId: string | null;
}

/** Live memories with the same owner whose words are (nearly) the new content's, most similar first. */
async function nearDuplicates(tx: Tx, owner: Owner, content: string, now: Date): Promise<string[]> {
  const terms = anyWordsQuery(content);
  const [target] = await tx.$queryRaw<{ lexemes: string[] }[]>`SELECT tsvector_to_array(to_tsvector('english', ${content})) AS lexemes`;
  const lexemes = target?.lexemes ?? [];
  const ownerSql = Prisma.sql`m.org_id = ${owner.orgId} AND m.scope::text = ${owner.scope}
    AND m.agent_id IS NOT DISTINCT FROM ${owner.agentId} AND m.user_id IS NOT DISTINCT FROM ${owner.userId}
    AND m.superseded_by_id IS NULL AND (m.expires_at IS NULL OR m.expires_at > ${sqlTimestamp(now)}::timestamp)`;
  const candidates =
    terms === ""
      ? await tx.$queryRaw<{ id: string; content: string; lexemes: string[] }[]>`
          SELECT m.id, m.content, tsvector_to_array(m.search_vector) AS lexemes FROM memories m
           WHERE ${ownerSql} AND lower(m.content) = ${content.toLowerCase()} LIMIT ${MERGE_CANDIDATES}`
      : await tx.$queryRaw<{ id: string; content: string; lexemes: string[] }[]>`
          SELECT m.id, m.content, tsvector_to_array(m.search_vector) AS lexemes
            FROM memories m, websearch_to_tsquery('english', ${terms}) AS q(query)
           WHERE ${ownerSql} AND m.search_vector @@ q.query
           ORDER BY ts_rank_cd(m.search_vector, q.query) DESC
           LIMIT ${MERGE_CANDIDATES}`;
  return candidates
    .map((candidate) => ({
      id: candidate.id,
      similarity: normalised(candidate.content) === normalised(content) ? 1 : lexemes.length === 0 ? 0 : jaccard(candidate.lexemes, lexemes),
    }))
    .filter((candidate) => candidate.similarity >= NEAR_DUPLICATE_JACCARD)
    .sort((a, b) => b.similarity - a.similarity)
    .map((candidate) => candidate.id);
}

/**
 * Keeps what a run learned. Idempotent on the event (a resumed worker replays the tool call), and a near-duplicate
 * of a live memory with the same owner replaces it: the older one points at the new one and is no longer recalled.
 */
export async function writeMemoryFromRun(db: DbOrTx, raw: WriteMemoryFromRunInput): Promise<{ id: string; supersededId: string | null }> {
  const input = parseInput(WriteMemoryFromRunInput, raw);
  const scope = input.scope ?? defaultScope(input.kind, input.onBehalfOfUserId);
  const owner: Owner = {
    orgId: input.orgId,
    scope,
    agentId: scope === "AGENT" ? input.agentId : null,
    userId: scope === "USER" ? input.onBehalfOfUserId : null,
  };
  const written = await inTransaction(db, async (tx) => {
    // Two workers replaying the same event must not both write: the lock makes the second see the first's row.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${"memory-event:" + input.eventId}))`;
    const existing = await tx.memory.findFirst({ where: { orgId: input.orgId, sourceEventId: input.eventId }, select: { id: true } });
    if (existing) {
      const superseded = await tx.memory.findFirst({ where: { orgId: input.orgId, supersededById: existing.id }, orderBy: { createdAt: "desc" }, select: { id: true } });
      return { id: existing.id, supersededId: superseded?.id ?? null };
    }
    const now = new Date();
    const duplicates = await nearDuplicates(tx, owner, input.content, now);
    const memory = await tx.memory.create({
      data: {
        ...owner,
        kind: input.kind,
        content: input.content,
        sourceRunId: input.runId,
        sourceEventId: input.eventId,
        expiresAt: input.ttlDays ? new Date(now.getTime() + input.ttlDays * DAY_MS) : null,
      },
      select: { id: true },
    });
    if (duplicates.length > 0) {
      await tx.memory.updateMany({ where: { orgId: input.orgId, id: { in: duplicates } }, data: { supersededById: memory.id } });
    }
    const supersededId = duplicates[0] ?? null;
    await appendAudit(tx, {
      orgId: input.orgId,
      action: "memory.created",
      actorType: "AGENT",
      actorId: input.agentId,
      targetType: "Memory",
      targetId: memory.id,
      // No content: a memory can be deleted, the audit log is forever.
      data: { scope, kind: input.kind, agentId: owner.agentId, userId: owner.userId, runId: input.runId, eventId: input.eventId, supersedes: duplicates },
    });
    return { id: memory.id, supersededId };
  });
  // After the commit, and on a replay too: a crash between the two would otherwise leave the memory unembedded.
  await embedMemory(db, { id: written.id, orgId: input.orgId, content: input.content });
  return written;
}

export const RecallForRunInput = z.object({
  orgId: Id,
  agentId: Id,
  onBehalfOfUserId: Id.nullable(),
  query: z.string().max(2_000, "Keep the recall query under 2000 characters.").default(""),
  k: z.number().int().min(1, "Recall at least one memory.").max(50, "Recall at most 50 memories at once."),
});
export type RecallForRunInput = z.input<typeof RecallForRunInput>;

export interface RecalledMemory {
  id: string;
  content: string;
  kind: MemoryKindName;
  scope: MemoryScopeName;
  score: number;
  source: { runId: string | null; eventId: string | null; userId: string | null };
  createdAt: Date;
}

/** Hybrid ranking when embeddings are configured and the database has pgvector; full text otherwise. */
export async function defaultRetriever(db: DbOrTx): Promise<Retriever> {
  return (await retrievalMode(db)).mode === "hybrid" ? hybridRetriever(embedQuery) : fullTextRetriever;
}

/** What a run may know: the org's memories, its agent's, and those of the person it acts for, best match first. */
export async function recallForRun(db: DbOrTx, raw: RecallForRunInput, retriever?: Retriever): Promise<RecalledMemory[]> {
  const input = parseInput(RecallForRunInput, raw);
  const chosen = retriever ?? (await defaultRetriever(db));
  const hits = await chosen.search(db, { orgId: input.orgId, agentId: input.agentId, userId: input.onBehalfOfUserId, text: input.query, k: input.k, now: new Date() });
  return hits.map((hit) => ({
    id: hit.id,
    content: hit.content,
    kind: hit.kind,
    scope: hit.scope,
    score: hit.score,
    source: { runId: hit.sourceRunId, eventId: hit.sourceEventId, userId: hit.createdById },
    createdAt: hit.createdAt,
  }));
}

// ─── Console and API side ────────────────────────────────────────────────────────────────────────────────────────

export const SearchMemoriesInput = z.object({
  /** websearch syntax: words (all must match), "a phrase", -excluded, or. */
  q: z.string().trim().max(500, "Keep the search under 500 characters.").optional(),
  scope: Scope.optional(),
  agentId: Id.optional(),
  userId: Id.optional(),
  kind: Kind.optional(),
  pinned: z.boolean().optional(),
  includeSuperseded: z.boolean().default(false),
  limit: z.number().int().min(1).max(100).default(50),
  /** Opaque: the position of the next page. */
  cursor: z.string().regex(/^\d{1,7}$/, "This page link is not valid; start the search again.").optional(),
});
export type SearchMemoriesInput = z.input<typeof SearchMemoriesInput>;

export async function searchMemories(db: DbOrTx, principal: Principal, raw: SearchMemoriesInput = {}): Promise<{ items: MemoryListItem[]; nextCursor: string | null }> {
  requireScope(principal, "memory:read");
  const input = parseInput(SearchMemoriesInput, raw);
  const viewer = await viewerOf(db, principal);
  const now = new Date();
  const offset = input.cursor ? Number(input.cursor) : 0;
  const filters: Prisma.Sql[] = [visibleSql(viewer), Prisma.sql`(m.expires_at IS NULL OR m.expires_at > ${sqlTimestamp(now)}::timestamp)`];
  if (input.scope) filters.push(Prisma.sql`m.scope::text = ${input.scope}`);
  if (input.agentId) filters.push(Prisma.sql`m.agent_id = ${input.agentId}`);
  if (input.userId) filters.push(Prisma.sql`m.user_id = ${input.userId}`);
  if (input.kind) filters.push(Prisma.sql`m.kind::text = ${input.kind}`);
  if (input.pinned !== undefined) filters.push(Prisma.sql`m.pinned = ${input.pinned}`);
  if (!input.includeSuperseded) filters.push(Prisma.sql`m.superseded_by_id IS NULL`);
  const where = Prisma.join(filters, " AND ");

  let page: { id: string; score: number | null; highlight: string | null }[];
  const embedded = input.q && (await retrievalMode(db)).mode === "hybrid" ? await embedQuery(input.q) : null;
  if (input.q && embedded) {
    // Both lists as deep as the page's end, fused, then cut: the same visibility filter bounds both.
    const depth = offset + input.limit + 1;
    const [textIds, nearIds] = await Promise.all([
      db.$queryRaw<{ id: string }[]>`
        SELECT m.id FROM memories m, websearch_to_tsquery('english', ${input.q}) AS q(query)
         WHERE m.search_vector @@ q.query AND ${where}
         ORDER BY ts_rank_cd(m.search_vector, q.query) DESC, m.created_at DESC, m.id DESC
         LIMIT ${depth}`,
      nearestMemoryIds(db, where, viewer.orgId, embedded, depth),
    ]);
    const fused = reciprocalRankFusion([textIds.map((row) => row.id), nearIds]).slice(offset, depth);
    const highlights = await db.$queryRaw<{ id: string; highlight: string }[]>`
      SELECT m.id,
             ts_headline('english', ${escapedContentSql(Prisma.sql`m.content`)}, websearch_to_tsquery('english', ${input.q}),
                         CASE WHEN length(m.content) <= ${SHORT_MEMORY_CHARS} THEN ${HEADLINE_WHOLE} ELSE ${HEADLINE_FRAGMENTS} END) AS highlight
        FROM memories m
       WHERE m.org_id = ${viewer.orgId} AND m.id = ANY(${fused.map((entry) => entry.id)}::text[])`;
    const highlightOf = new Map(highlights.map((row) => [row.id, row.highlight]));
    page = fused.map((entry) => ({ id: entry.id, score: entry.score, highlight: highlightOf.get(entry.id) ?? null }));
  } else if (input.q) {
    // Headlines are costly: only the page's rows get one (the inner query ranks and cuts first).
    page = await db.$queryRaw<{ id: string; score: number; highlight: string }[]>`
      SELECT p.id, p.score,
             ts_headline('english', ${escapedContentSql(Prisma.sql`p.content`)}, websearch_to_tsquery('english', ${input.q}),
                         CASE WHEN length(p.content) <= ${SHORT_MEMORY_CHARS} THEN ${HEADLINE_WHOLE} ELSE ${HEADLINE_FRAGMENTS} END) AS highlight
        FROM (SELECT m.id, m.content, m.created_at, ts_rank_cd(m.search_vector, q.query) AS score
                FROM memories m, websearch_to_tsquery('english', ${input.q}) AS q(query)
               WHERE m.search_vector @@ q.query AND ${where}
               ORDER BY score DESC, m.created_at DESC, m.id DESC
               LIMIT ${input.limit + 1} OFFSET ${offset}) p
       ORDER BY p.score DESC, p.created_at DESC, p.id DESC`;
  } else {
    page = await db.$queryRaw<{ id: string; score: null; highlight: null }[]>`
      SELECT m.id, NULL AS score, NULL AS highlight FROM memories m
       WHERE ${where}
       ORDER BY m.created_at DESC, m.id DESC
       LIMIT ${input.limit + 1} OFFSET ${offset}`;
  }
  const shown = page.slice(0, input.limit);
  const rows = await db.memory.findMany({ where: { orgId: viewer.orgId, id: { in: shown.map((row) => row.id) } }, select: memorySelect });
  const byId = new Map(rows.map((row) => [row.id, row]));
  const people = await peopleById(db, rows.map((row) => row.createdById));
  const items = shown.flatMap((hit) => {
    const row = byId.get(hit.id);
    // Deleted between the two queries: leave it out rather than fail the page.
    if (!row) return [];
    return [toListItem(row, people, { highlight: hit.highlight ?? undefined, score: hit.score === null ? null : Number(hit.score) })];
  });
  return { items, nextCursor: page.length > input.limit ? String(offset + input.limit) : null };
}

async function findVisible(db: DbOrTx, viewer: Viewer, id: string, now: Date): Promise<MemoryRow> {
  const row = await db.memory.findFirst({ where: { AND: [{ id }, visibleWhere(viewer), notExpired(now)] }, select: memorySelect });
  if (!row) throw new NotFound("Memory");
  return row;
}

/** One memory with its edit history, the near-duplicates it replaced, and where it came from. */
export async function getMemory(db: DbOrTx, principal: Principal, id: string): Promise<MemoryDetail> {
  requireScope(principal, "memory:read");
  const viewer = await viewerOf(db, principal);
  const row = await findVisible(db, viewer, parseInput(Id, id), new Date());
  const [revisions, supersedes] = await Promise.all([
    db.memoryRevision.findMany({ where: { orgId: viewer.orgId, memoryId: row.id }, orderBy: [{ createdAt: "desc" }, { id: "desc" }], select: { id: true, content: true, editedById: true, createdAt: true } }),
    db.memory.findMany({ where: { orgId: viewer.orgId, supersededById: row.id }, orderBy: { createdAt: "desc" }, select: { id: true, content: true, createdAt: true } }),
  ]);
  const people = await peopleById(db, [row.createdById, ...revisions.map((revision) => revision.editedById)]);
  return {
    ...toListItem(row, people),
    revisions: revisions.map((revision) => ({
      id: revision.id,
      content: revision.content,
      editedBy: revision.editedById ? (people.get(revision.editedById) ?? null) : null,
      createdAt: revision.createdAt,
    })),
    supersedes,
  };
}

export const CreateMemoryInput = z
  .object({
    content: Content,
    scope: Scope,
    kind: Kind.default("FACT"),
    /** AGENT scope: the agent's id or slug. */
    agentId: z.string().trim().min(1).max(100).optional(),
    /** USER scope: the person's id or email; defaults to yourself. */
    userId: z.string().trim().min(1).max(320).optional(),
    ttlDays: TtlDays.optional(),
    pinned: z.boolean().default(false),
  })
  .refine((input) => input.scope !== "AGENT" || input.agentId !== undefined, { message: "Choose the agent this memory is for.", path: ["agentId"] })
  .refine((input) => input.scope === "AGENT" || input.agentId === undefined, { message: "Only agent memories name an agent; choose the agent scope or leave the agent out.", path: ["agentId"] })
  .refine((input) => input.scope === "USER" || input.userId === undefined, { message: "Only personal memories name a person; choose the user scope or leave the person out.", path: ["userId"] });
export type CreateMemoryInput = z.input<typeof CreateMemoryInput>;

/** A memory a person wrote: they are its source. Someone else's personal memory takes an admin. */
export async function createMemory(db: DbOrTx, principal: Principal, raw: CreateMemoryInput): Promise<{ id: string }> {
  requireScope(principal, "memory:write");
  const input = parseInput(CreateMemoryInput, raw);
  const viewer = await viewerOf(db, principal);
  let agentId: string | null = null;
  let userId: string | null = null;
  if (input.scope === "AGENT") {
    const key = input.agentId ?? "";
    const agent = await db.agent.findFirst({ where: { orgId: viewer.orgId, OR: [{ id: key }, { slug: key }] }, select: { id: true, status: true } });
    if (!agent) throw new InvalidInput("There is no agent with this id or slug in your organisation.", { agentId: ["No such agent."] });
    if (agent.status === "ARCHIVED") throw new InvalidInput("This agent is archived; its memories are no longer used.", { agentId: ["The agent is archived."] });
    agentId = agent.id;
  } else if (input.scope === "USER") {
    const key = input.userId ?? viewer.userId;
    if (!key) throw new InvalidInput("This API key acts for nobody; name the person the memory belongs to.", { userId: ["Name a person."] });
    const member = await db.membership.findFirst({
      where: { orgId: viewer.orgId, revokedAt: null, user: key.includes("@") ? { email: key.toLowerCase() } : { id: key } },
      select: { userId: true },
    });
    if (!member) throw new InvalidInput("There is no active member with this id or email in your organisation.", { userId: ["Not an active member."] });
    if (member.userId !== viewer.userId && !viewer.admin) {
      throw new InvalidInput("Only admins can keep memories for someone else; leave the person out to keep it for yourself.", { userId: ["Only admins can choose another person."] });
    }
    userId = member.userId;
  }
  const created = await inTransaction(db, async (tx) => {
    const memory = await tx.memory.create({
      data: {
        orgId: viewer.orgId,
        scope: input.scope,
        agentId,
        userId,
        kind: input.kind,
        content: input.content,
        pinned: input.pinned,
        createdById: principal.userId,
        expiresAt: input.ttlDays ? new Date(Date.now() + input.ttlDays * DAY_MS) : null,
      },
      select: { id: true },
    });
    await appendAudit(tx, {
      orgId: viewer.orgId,
      action: "memory.created",
      ...actorOf(principal),
      targetType: "Memory",
      targetId: memory.id,
      data: { scope: input.scope, kind: input.kind, agentId, userId, pinned: input.pinned },
    });
    return memory;
  });
  await embedMemory(db, { id: created.id, orgId: viewer.orgId, content: input.content });
  return created;
}

export const UpdateMemoryInput = z
  .object({
    id: Id,
    content: Content.optional(),
    pinned: z.boolean().optional(),
    /** null keeps it until deleted. */
    expiresAt: z.coerce.date("Give the expiry as a date.").nullable().optional(),
  })
  .refine((input) => input.content !== undefined || input.pinned !== undefined || input.expiresAt !== undefined, { message: "Change the content, the pin or the expiry.", path: ["form"] });
export type UpdateMemoryInput = z.input<typeof UpdateMemoryInput>;

/** Edits keep what the memory said before as a revision (deleted with the memory). */
export async function updateMemory(db: DbOrTx, principal: Principal, raw: UpdateMemoryInput): Promise<MemoryListItem> {
  requireScope(principal, "memory:write");
  const input = parseInput(UpdateMemoryInput, raw);
  const viewer = await viewerOf(db, principal);
  const contentChanged = await inTransaction(db, async (tx) => {
    const current = await findVisible(tx, viewer, input.id, new Date());
    const data: Prisma.MemoryUpdateInput = {};
    const changed: string[] = [];
    if (input.content !== undefined && input.content !== current.content) {
      await tx.memoryRevision.create({ data: { orgId: viewer.orgId, memoryId: current.id, content: current.content, editedById: principal.userId } });
      data.content = input.content;
      changed.push("content");
    }
    if (input.pinned !== undefined && input.pinned !== current.pinned) {
      data.pinned = input.pinned;
      changed.push("pinned");
    }
    if (input.expiresAt !== undefined && input.expiresAt?.getTime() !== current.expiresAt?.getTime()) {
      data.expiresAt = input.expiresAt;
      changed.push("expiresAt");
    }
    if (changed.length === 0) return false;
    await tx.memory.update({ where: { id: current.id }, data });
    await appendAudit(tx, {
      orgId: viewer.orgId,
      action: "memory.updated",
      ...actorOf(principal),
      targetType: "Memory",
      targetId: current.id,
      data: { changed, scope: current.scope, ...(input.pinned !== undefined ? { pinned: input.pinned } : {}), ...(input.expiresAt !== undefined ? { expiresAt: input.expiresAt?.toISOString() ?? null } : {}) },
    });
    return changed.includes("content");
  });
  const row = await findVisible(db, viewer, input.id, new Date(0));
  if (contentChanged) await embedMemory(db, { id: row.id, orgId: viewer.orgId, content: row.content });
  return toListItem(row, await peopleById(db, [row.createdById]));
}

/**
 * Hard-deletes memories with the near-duplicates they replaced (otherwise those would come back, saying nearly
 * the same thing) and every revision; the trigger-kept full-text entries go with the rows. One audit event per
 * memory, naming its kind and owner, never its content.
 */
async function deleteWithHistory(tx: Tx, orgId: string, ids: string[], actor: { actorType: AuditActorType; actorId?: string | null }, action: string): Promise<number> {
  const all = new Set(ids);
  let frontier = ids;
  while (frontier.length > 0) {
    const older = await tx.memory.findMany({ where: { orgId, supersededById: { in: frontier } }, select: { id: true } });
    frontier = older.map((row) => row.id).filter((id) => !all.has(id));
    for (const id of frontier) all.add(id);
  }
  const doomed = await tx.memory.findMany({ where: { orgId, id: { in: [...all] } }, select: { id: true, scope: true, kind: true, agentId: true, userId: true } });
  await tx.memoryRevision.deleteMany({ where: { orgId, memoryId: { in: doomed.map((row) => row.id) } } });
  // Newer first is not needed: every member of the chain goes in one statement, so no SET NULL revives one.
  const { count } = await tx.memory.deleteMany({ where: { orgId, id: { in: doomed.map((row) => row.id) } } });
  for (const row of doomed) {
    await appendAudit(tx, { orgId, action, ...actor, targetType: "Memory", targetId: row.id, data: { scope: row.scope, kind: row.kind, agentId: row.agentId, userId: row.userId } });
  }
  return count;
}

export const DeleteMemoriesInput = z.object({
  ids: z.array(Id).min(1, "Choose at least one memory.").max(500, "Delete at most 500 memories at once."),
});
export type DeleteMemoriesInput = z.input<typeof DeleteMemoriesInput>;

/**
 * Deletes the memories the principal can see (others are left alone, as if they did not exist); none visible is a
 * 404. `deleted` counts the chosen memories, not the replaced near-duplicates that went with them.
 */
export async function deleteMemories(db: DbOrTx, principal: Principal, raw: DeleteMemoriesInput): Promise<{ deleted: number }> {
  requireScope(principal, "memory:delete");
  const input = parseInput(DeleteMemoriesInput, raw);
  const viewer = await viewerOf(db, principal);
  return inTransaction(db, async (tx) => {
    const visible = await tx.memory.findMany({ where: { AND: [{ id: { in: [...new Set(input.ids)] } }, visibleWhere(viewer)] }, select: { id: true } });
    if (visible.length === 0) throw new NotFound(input.ids.length === 1 ? "Memory" : "Memories");
    await deleteWithHistory(tx, viewer.orgId, visible.map((row) => row.id), actorOf(principal), "memory.deleted");
    return { deleted: visible.length };
  });
}

/**
 * The sweep: deletes memories whose time to live ran out, in every org, in batches, and refreshes the table's
 * statistics (recall picks its matching words by them; the embedded database has no autovacuum to do it). Returns
 * how many memories went.
 */
export async function deleteExpiredMemories(db: DbOrTx, now: Date = new Date()): Promise<number> {
  let total = 0;
  for (;;) {
    const batch = await db.memory.findMany({ where: { expiresAt: { lte: now } }, select: { id: true, orgId: true }, take: 500, orderBy: { id: "asc" } });
    if (batch.length === 0) {
      await db.$executeRaw`ANALYZE memories`;
      return total;
    }
    const byOrg = new Map<string, string[]>();
    for (const row of batch) byOrg.set(row.orgId, [...(byOrg.get(row.orgId) ?? []), row.id]);
    for (const [orgId, ids] of byOrg) {
      total += await inTransaction(db, (tx) => deleteWithHistory(tx, orgId, ids, { actorType: "SYSTEM" }, "memory.expired"));
    }
  }
}

/** Filter choices for the memory browser: the org's agents, and the people whose memories the principal may see. */
export async function memoryFacets(db: DbOrTx, principal: Principal): Promise<{ agents: { id: string; name: string }[]; users: PersonRef[] }> {
  requireScope(principal, "memory:read");
  const viewer = await viewerOf(db, principal);
  const [agents, users] = await Promise.all([
    db.agent.findMany({ where: { orgId: viewer.orgId, status: { not: "ARCHIVED" } }, orderBy: { name: "asc" }, select: { id: true, name: true } }),
    viewer.admin
      ? db.user.findMany({ where: { memberships: { some: { orgId: viewer.orgId, revokedAt: null } } }, orderBy: { email: "asc" }, select: { id: true, email: true, name: true } })
      : viewer.userId
        ? db.user.findMany({ where: { id: viewer.userId }, select: { id: true, email: true, name: true } })
        : Promise.resolve([]),
  ]);
  return { agents, users };
}
