import { Prisma } from "@/server/generated/prisma/client";
import type { DbOrTx } from "@/server/db";

/**
 * Retrieval of memories for a run, behind one small interface so a hybrid (full text + pgvector) retriever can
 * replace the full-text one without touching its callers. Eligibility (org, scopes, superseded, expired) is part of
 * the query, not a post-filter: a retriever never returns a memory the run may not see.
 */

export interface RetrievalQuery {
  orgId: string;
  /** What the run is looking for, in plain words; empty = no ranking (pinned, then newest). */
  text: string;
  k: number;
  /** The run's agent: its AGENT memories are eligible. */
  agentId: string;
  /** The person the run acts for: their USER memories are eligible; null = none are. */
  userId: string | null;
  now: Date;
}

export interface Hit {
  id: string;
  content: string;
  kind: "FACT" | "PREFERENCE" | "EPISODE";
  scope: "ORG" | "AGENT" | "USER";
  pinned: boolean;
  /** ts_rank_cd of the match (the hybrid retriever: the fused reciprocal-rank score); 0 when the query was empty. */
  score: number;
  sourceRunId: string | null;
  sourceEventId: string | null;
  /** The person the memory belongs to (USER scope). */
  userId: string | null;
  /** The person who wrote it (console or API); null when a run did. */
  createdById: string | null;
  createdAt: Date;
}

export interface Retriever {
  search(db: DbOrTx, query: RetrievalQuery): Promise<Hit[]>;
}

const MAX_TERMS = 32;

/** The words of a text, lower-cased, each once, at most MAX_TERMS: operators and quotes are not kept. */
export function queryWords(text: string): string[] {
  const words = new Set<string>();
  for (const match of text.toLowerCase().matchAll(/[\p{L}\p{N}]+/gu)) {
    words.add(match[0]);
    if (words.size >= MAX_TERMS) break;
  }
  return [...words];
}

/**
 * The words of a text joined with websearch "or": a run asks in sentences ("what does Dana prefer for meeting
 * times"), and requiring every word would find almost nothing. A model's quote marks are not a phrase search.
 */
export function anyWordsQuery(text: string): string {
  // "or" itself would be read as the operator.
  return queryWords(text).filter((word) => word !== "or").join(" or ");
}

/** Raw row as PostgreSQL returns it (snake_case). */
interface HitRow {
  id: string;
  content: string;
  kind: Hit["kind"];
  scope: Hit["scope"];
  pinned: boolean;
  score: number;
  source_run_id: string | null;
  source_event_id: string | null;
  user_id: string | null;
  created_by_id: string | null;
  created_at: Date;
}

const toHit = (row: HitRow): Hit => ({
  id: row.id,
  content: row.content,
  kind: row.kind,
  scope: row.scope,
  pinned: row.pinned,
  score: Number(row.score),
  sourceRunId: row.source_run_id,
  sourceEventId: row.source_event_id,
  userId: row.user_id,
  createdById: row.created_by_id,
  createdAt: row.created_at,
});

/** What a run may recall: the org's memories, its agent's, and those of the person it acts for; live ones only. */
function eligible(query: RetrievalQuery): Prisma.Sql {
  return Prisma.sql`m.org_id = ${query.orgId}
    AND m.superseded_by_id IS NULL
    AND (m.expires_at IS NULL OR m.expires_at > ${query.now.toISOString()}::timestamp)
    AND (m.scope = 'ORG' OR (m.scope = 'AGENT' AND m.agent_id = ${query.agentId}) OR (m.scope = 'USER' AND m.user_id = ${query.userId}))`;
}

/**
 * Matching goes through the GIN index, and every memory it matches is read and ranked, so a common word ("prefer",
 * the customer every memory mentions) costs much and tells little. Candidates are the memories with any of the
 * query's rarest lexemes, taken rarest first while their shares of all memories add up to at most this; ranking
 * then uses every lexeme of the query, so the best candidates are those with the common words too.
 */
export const MATCH_SHARE_BUDGET = 0.03;
const MAX_MATCH_LEXEMES = 16;
const STATS_TTL_MS = 5 * 60_000;

/** Lexeme → share of memories containing it, from the planner's statistics (ANALYZE); empty before the first one. */
const statsCache = new WeakMap<object, { at: number; shares: Map<string, number> }>();

async function lexemeShares(db: DbOrTx): Promise<Map<string, number>> {
  const cached = statsCache.get(db);
  if (cached && Date.now() - cached.at < STATS_TTL_MS) return cached.shares;
  const rows = await db.$queryRaw<{ elems: string[] | null; freqs: number[] | null }[]>`
    SELECT most_common_elems::text::text[] AS elems, most_common_elem_freqs AS freqs
      FROM pg_stats
     WHERE schemaname = current_schema() AND tablename = 'memories' AND attname = 'search_vector'`;
  const shares = new Map<string, number>();
  const row = rows[0];
  if (row?.elems && row.freqs) row.elems.forEach((lexeme, i) => shares.set(lexeme, Number(row.freqs?.[i] ?? 0)));
  statsCache.set(db, { at: Date.now(), shares });
  return shares;
}

/**
 * Word → its lexemes under the 'english' configuration (none for a stop word). Stemming never changes, and runs
 * reuse their words, so most recalls skip the round trip that would stem them.
 */
const lexemeCache = new Map<string, string[]>();
const LEXEME_CACHE_SIZE = 50_000;

async function lexemesOf(db: DbOrTx, words: string[]): Promise<string[]> {
  const unknown = words.filter((word) => !lexemeCache.has(word));
  if (unknown.length > 0) {
    const rows = await db.$queryRaw<{ word: string; lexemes: string[] }[]>`
      SELECT w.word, tsvector_to_array(to_tsvector('english', w.word)) AS lexemes FROM unnest(${unknown}::text[]) AS w(word)`;
    if (lexemeCache.size + rows.length > LEXEME_CACHE_SIZE) lexemeCache.clear();
    for (const row of rows) lexemeCache.set(row.word, row.lexemes);
  }
  return [...new Set(words.flatMap((word) => lexemeCache.get(word) ?? []))];
}

const tsqueryLiteral = (lexemes: string[], operator: "|" | "&") =>
  lexemes.map((lexeme) => `'${lexeme.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`).join(` ${operator} `);

export interface QueryPlan {
  /** Which memories are candidates (GIN index). */
  match: string;
  /** How candidates are ranked — by whichever of the query's lexemes they contain. */
  rank: string;
  /** A pinned memory comes first when it has every lexeme of the query. */
  all: string;
}

/** The query's words as the index knows them (stemmed, stop words gone), and which of them select candidates. */
export async function planQuery(db: DbOrTx, text: string): Promise<QueryPlan | null> {
  const lexemes = await lexemesOf(db, queryWords(text));
  if (lexemes.length === 0) return null;
  const shares = await lexemeShares(db);
  const share = (lexeme: string) => shares.get(lexeme) ?? 0;
  const byRarity = [...lexemes].sort((a, b) => share(a) - share(b));
  const rarest = byRarity[0] ?? "";
  let match: string;
  if (share(rarest) > MATCH_SHARE_BUDGET && byRarity.length > 1) {
    // Only common words: memories with the two rarest together are few, and are what the query is about.
    match = tsqueryLiteral(byRarity.slice(0, 2), "&");
  } else {
    const picked: string[] = [];
    let total = 0;
    for (const lexeme of byRarity) {
      if (picked.length > 0 && (total + share(lexeme) > MATCH_SHARE_BUDGET || picked.length >= MAX_MATCH_LEXEMES)) break;
      picked.push(lexeme);
      total += share(lexeme);
    }
    match = tsqueryLiteral(picked, "|");
  }
  return { match, rank: tsqueryLiteral(lexemes, "|"), all: tsqueryLiteral(lexemes, "&") };
}

const HIT_COLUMNS = Prisma.sql`m.id, m.content, m.kind::text AS kind, m.scope::text AS scope, m.pinned,
  m.source_run_id, m.source_event_id, m.user_id, m.created_by_id, m.created_at`;

export const fullTextRetriever: Retriever = {
  async search(db, query) {
    const k = Math.max(1, Math.min(50, Math.floor(query.k)));
    if (query.text.trim() === "") {
      const rows = await db.$queryRaw<HitRow[]>`
        SELECT ${HIT_COLUMNS}, 0::real AS score
          FROM memories m
         WHERE ${eligible(query)}
         ORDER BY m.pinned DESC, m.created_at DESC, m.id
         LIMIT ${k}`;
      return rows.map(toHit);
    }
    const plan = await planQuery(db, query.text);
    // Only stop words ("what is it"): nothing to look for, and newest-first would be noise.
    if (!plan) return [];
    // Pinned memories come first only when they match the whole query: pinning says "this matters", not
    // "always say this".
    const rows = await db.$queryRaw<HitRow[]>`
      SELECT ${HIT_COLUMNS}, ts_rank_cd(m.search_vector, ${plan.rank}::tsquery) AS score
        FROM memories m
       WHERE m.search_vector @@ ${plan.match}::tsquery AND ${eligible(query)}
       ORDER BY (m.pinned AND m.search_vector @@ ${plan.all}::tsquery) DESC, score DESC, m.created_at DESC, m.id
       LIMIT ${k}`;
    return rows.map(toHit);
  },
};

// ─── Hybrid: full text + pgvector, fused by rank ─────────────────────────────────────────────────────────────────

/** The usual constant of reciprocal rank fusion: ranks far down either list still count, a little. */
export const RRF_K = 60;

/**
 * Reciprocal rank fusion: each id scores Σ 1/(k + rank) over the lists it is in (rank from 1). Ranks, not scores,
 * are fused because ts_rank_cd and cosine distance are on unrelated scales. Ties keep the order of first appearance,
 * earlier lists first, so fusion is deterministic.
 */
export function reciprocalRankFusion(lists: readonly (readonly string[])[], k: number = RRF_K): { id: string; score: number }[] {
  const scores = new Map<string, { score: number; first: number }>();
  let seen = 0;
  for (const list of lists) {
    list.forEach((id, index) => {
      const entry = scores.get(id) ?? { score: 0, first: seen++ };
      entry.score += 1 / (k + index + 1);
      scores.set(id, entry);
    });
  }
  return [...scores.entries()].sort((a, b) => b[1].score - a[1].score || a[1].first - b[1].first).map(([id, entry]) => ({ id, score: entry.score }));
}

/**
 * Beyond this cosine distance a memory is not a neighbour worth recalling: without it every query would recall k
 * memories, however unrelated, and fill a run's context with noise.
 */
export const MAX_VECTOR_DISTANCE = 0.8;

/**
 * Nearest memories to a query vector among those `filter` admits (the caller's visibility rules, on alias m),
 * nearest first. Only vectors of the current model are compared (other models' have other dimensions and meanings).
 */
export async function nearestMemoryIds(db: DbOrTx, filter: Prisma.Sql, orgId: string, query: { model: string; vector: string }, limit: number): Promise<string[]> {
  const rows = await db.$queryRaw<{ id: string }[]>`
    SELECT m.id
      FROM memory_embeddings e JOIN memories m ON m.id = e.memory_id
     WHERE e.org_id = ${orgId} AND e.model = ${query.model}
       AND vector_dims(e.embedding) = vector_dims(${query.vector}::vector)
       AND (e.embedding <=> ${query.vector}::vector) <= ${MAX_VECTOR_DISTANCE}
       AND ${filter}
     ORDER BY e.embedding <=> ${query.vector}::vector, m.id
     LIMIT ${limit}`;
  return rows.map((row) => row.id);
}

/** Embeds a search query; null when it cannot be (the hybrid retriever then ranks by full text alone). */
export type QueryEmbedder = (text: string) => Promise<{ model: string; vector: string } | null>;

/**
 * Full-text candidates and vector neighbours under the same eligibility, fused by reciprocal rank. Pinned memories
 * full text matched come first, as with full text alone; `score` is the fused score.
 */
export function hybridRetriever(embed: QueryEmbedder): Retriever {
  return {
    async search(db, query) {
      if (query.text.trim() === "") return fullTextRetriever.search(db, query);
      const k = Math.max(1, Math.min(50, Math.floor(query.k)));
      // Deeper lists than k, so a memory ranked fairly by both can overtake one ranked first by only one.
      const pool = Math.min(50, Math.max(20, k * 4));
      const [textHits, embedded] = await Promise.all([fullTextRetriever.search(db, { ...query, k: pool }), embed(query.text)]);
      if (!embedded) return textHits.slice(0, k);
      const nearIds = await nearestMemoryIds(db, eligible(query), query.orgId, embedded, pool);
      const fused = reciprocalRankFusion([textHits.map((hit) => hit.id), nearIds]);
      const byId = new Map(textHits.map((hit) => [hit.id, hit]));
      const missing = fused.map((entry) => entry.id).filter((id) => !byId.has(id));
      if (missing.length > 0) {
        const rows = await db.$queryRaw<HitRow[]>`
          SELECT ${HIT_COLUMNS}, 0::real AS score FROM memories m WHERE m.id = ANY(${missing}::text[]) AND ${eligible(query)}`;
        for (const row of rows) byId.set(row.id, toHit(row));
      }
      const matchedByText = new Set(textHits.map((hit) => hit.id));
      return fused
        .flatMap((entry) => {
          const hit = byId.get(entry.id);
          return hit ? [{ ...hit, score: entry.score }] : [];
        })
        .sort((a, b) => Number(b.pinned && matchedByText.has(b.id)) - Number(a.pinned && matchedByText.has(a.id)))
        .slice(0, k);
    },
  };
}
