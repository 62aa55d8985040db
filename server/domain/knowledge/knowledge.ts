import { z } from "zod";
import { inTransaction, type DbOrTx } from "@/server/db";
import { Prisma } from "@/server/generated/prisma/client";
import { appendAudit, type AuditActorType } from "../audit/audit-log";
import { NotFound } from "../errors";
import { actorOf, requireScope, type Principal } from "../identity/principal";
import { parseInput } from "../tools/input";
import { chunkText } from "./chunking";
import { detectFormat, extractText, MIME_TYPE_OF } from "./extract";
import { embeddingsProvider } from "../memory/embeddings";
import { reciprocalRankFusion, RRF_K } from "../memory/retrieval";
import { embedDocumentChunks, nearestChunkIds } from "./vectors";

/**
 * Knowledge: collections of documents (Markdown, text, PDF) that agents and people search with citations. An
 * upload is extracted to text, cut into passages (./chunking.ts) and stored as chunks whose `search_vector` a
 * database trigger keeps (see the migration), so searching is one full-text query. Everything is org-scoped;
 * reading needs memory:read, uploading memory:write, deleting memory:delete.
 */

export { MAX_DOCUMENT_BYTES } from "./extract";

/** One search hit: a passage of a document, with what a citation needs. */
export interface Passage {
  chunkId: string;
  documentId: string;
  documentTitle: string;
  collection: string;
  position: number;
  startOffset: number;
  endOffset: number;
  content: string;
  score: number;
}

/** Where a passage is shown in the console: the document page, scrolled to (and highlighting) the chunk. */
export function citationHref(passage: Pick<Passage, "documentId" | "position">): string {
  return `/knowledge/${passage.documentId}#chunk-${passage.position}`;
}

export const CollectionName = z
  .string()
  .trim()
  .min(1, "Name the collection.")
  .max(60, "Collection names are limited to 60 characters.")
  .regex(/^[A-Za-z0-9][A-Za-z0-9 _.-]*$/, "Use letters, digits, spaces, dots, dashes and underscores in collection names.");

export const UploadDocumentInput = z.object({
  collection: CollectionName,
  title: z.string().trim().max(300, "Titles are limited to 300 characters.").optional(),
  fileName: z.string().trim().min(1, "The file needs a name.").max(255, "File names are limited to 255 characters."),
  mimeType: z.string().max(200).default(""),
  bytes: z.custom<Uint8Array>((value) => value instanceof Uint8Array, "The file content is missing."),
});
export type UploadDocumentInput = z.input<typeof UploadDocumentInput>;

// Chunk rows per INSERT: well under PostgreSQL's 65,535 bind parameters however large the document.
const INSERT_BATCH = 1_000;

/** The title a document gets when none is given: its first Markdown heading, else its file name without extension. */
function defaultTitle(text: string, fileName: string, markdown: boolean): string {
  const heading = markdown ? /^#{1,2}\s+(.+?)\s*#*\s*$/m.exec(text)?.[1] : undefined;
  const base = fileName.replace(/^.*[\\/]/, "").replace(/\.[^.]+$/, "");
  return (heading || base || "Untitled").slice(0, 300);
}

interface Ingest {
  orgId: string;
  createdById: string | null;
  actor: { actorType: AuditActorType; actorId: string | null };
  input: z.output<typeof UploadDocumentInput>;
}

/** Extract, chunk and store one document with its audit event, all or nothing. */
async function ingest(db: DbOrTx, { orgId, createdById, actor, input }: Ingest): Promise<{ id: string; title: string; chunks: number }> {
  const format = detectFormat(input.fileName, input.mimeType, input.bytes);
  const text = await extractText(format, input.fileName, input.bytes);
  const chunks = chunkText(text);
  const title = input.title || defaultTitle(text, input.fileName, format === "markdown");
  return inTransaction(db, async (tx) => {
    const document = await tx.knowledgeDocument.create({
      data: { orgId, collection: input.collection, title, mimeType: MIME_TYPE_OF[format], sizeBytes: input.bytes.byteLength, createdById },
      select: { id: true },
    });
    for (let i = 0; i < chunks.length; i += INSERT_BATCH) {
      await tx.knowledgeChunk.createMany({
        data: chunks.slice(i, i + INSERT_BATCH).map((chunk) => ({ orgId, documentId: document.id, ...chunk })),
      });
    }
    await appendAudit(tx, {
      orgId,
      action: "knowledge.uploaded",
      ...actor,
      targetType: "KnowledgeDocument",
      targetId: document.id,
      data: { collection: input.collection, title, fileName: input.fileName, mimeType: MIME_TYPE_OF[format], sizeBytes: input.bytes.byteLength, chunks: chunks.length },
    });
    return { id: document.id, title, chunks: chunks.length };
  });
}

export async function uploadDocument(db: DbOrTx, principal: Principal, raw: UploadDocumentInput): Promise<{ id: string; title: string; chunks: number }> {
  requireScope(principal, "memory:write");
  const input = parseInput(UploadDocumentInput, raw);
  const uploaded = await ingest(db, { orgId: principal.orgId, createdById: principal.userId, actor: actorOf(principal), input });
  await embedDocumentChunks(db, uploaded.id);
  return uploaded;
}

/**
 * The demo seed's documents: added once per (collection, title) and never touched again, so an operator's edits
 * or deletions of other documents are left alone and running the seed twice adds nothing.
 */
export async function ensureKnowledgeDocument(
  db: DbOrTx,
  orgId: string,
  doc: { collection: string; title: string; fileName: string; mimeType: string; text: string },
): Promise<boolean> {
  const existing = await db.knowledgeDocument.findFirst({ where: { orgId, collection: doc.collection, title: doc.title }, select: { id: true } });
  if (existing) return false;
  const input = parseInput(UploadDocumentInput, { ...doc, bytes: new TextEncoder().encode(doc.text) });
  const seeded = await ingest(db, { orgId, createdById: null, actor: { actorType: "SYSTEM", actorId: null }, input });
  await embedDocumentChunks(db, seeded.id);
  return true;
}

// ─── Reading ─────────────────────────────────────────────────────────────────────────────────────────────────────

export async function listCollections(db: DbOrTx, principal: Principal) {
  requireScope(principal, "memory:read");
  const groups = await db.knowledgeDocument.groupBy({
    by: ["collection"],
    where: { orgId: principal.orgId },
    _count: { _all: true },
    _max: { createdAt: true },
    orderBy: { collection: "asc" },
  });
  return groups.map((group) => ({ name: group.collection, documents: group._count._all, lastUploadAt: group._max.createdAt }));
}

export const ListDocumentsInput = z.object({ collection: z.string().trim().max(60).optional() });
export type ListDocumentsInput = z.input<typeof ListDocumentsInput>;

async function peopleById(db: DbOrTx, ids: (string | null)[]) {
  const wanted = [...new Set(ids.filter((id): id is string => id !== null))];
  if (wanted.length === 0) return new Map<string, { id: string; email: string; name: string | null }>();
  const users = await db.user.findMany({ where: { id: { in: wanted } }, select: { id: true, email: true, name: true } });
  return new Map(users.map((user) => [user.id, user]));
}

export async function listDocuments(db: DbOrTx, principal: Principal, raw: ListDocumentsInput = {}) {
  requireScope(principal, "memory:read");
  const input = parseInput(ListDocumentsInput, raw);
  const documents = await db.knowledgeDocument.findMany({
    where: { orgId: principal.orgId, ...(input.collection ? { collection: input.collection } : {}) },
    orderBy: [{ collection: "asc" }, { createdAt: "desc" }],
    take: 500,
    select: { id: true, collection: true, title: true, mimeType: true, sizeBytes: true, createdById: true, createdAt: true, _count: { select: { chunks: true } } },
  });
  const people = await peopleById(db, documents.map((d) => d.createdById));
  return documents.map(({ _count, createdById, ...document }) => ({
    ...document,
    chunks: _count.chunks,
    createdBy: createdById ? (people.get(createdById) ?? null) : null,
  }));
}

export async function getDocument(db: DbOrTx, principal: Principal, id: string) {
  requireScope(principal, "memory:read");
  const document = await db.knowledgeDocument.findFirst({
    where: { id, orgId: principal.orgId },
    select: {
      id: true,
      collection: true,
      title: true,
      mimeType: true,
      sizeBytes: true,
      createdById: true,
      createdAt: true,
      chunks: { orderBy: { position: "asc" }, select: { id: true, position: true, content: true, startOffset: true, endOffset: true } },
    },
  });
  if (!document) throw new NotFound("Document");
  const { createdById, ...rest } = document;
  const people = await peopleById(db, [createdById]);
  return { ...rest, createdBy: createdById ? (people.get(createdById) ?? null) : null };
}

export async function deleteDocument(db: DbOrTx, principal: Principal, id: string): Promise<{ id: string }> {
  requireScope(principal, "memory:delete");
  return inTransaction(db, async (tx) => {
    const document = await tx.knowledgeDocument.findFirst({
      where: { id, orgId: principal.orgId },
      select: { id: true, collection: true, title: true, mimeType: true, sizeBytes: true, _count: { select: { chunks: true } } },
    });
    if (!document) throw new NotFound("Document");
    // Chunks go with the document (ON DELETE CASCADE), and with them their terms in the search index.
    const { count } = await tx.knowledgeDocument.deleteMany({ where: { id, orgId: principal.orgId } });
    if (count !== 1) throw new NotFound("Document");
    // Metadata only: the deleted text never goes into the audit log.
    await appendAudit(tx, {
      orgId: principal.orgId,
      action: "knowledge.deleted",
      ...actorOf(principal),
      targetType: "KnowledgeDocument",
      targetId: id,
      data: { collection: document.collection, title: document.title, mimeType: document.mimeType, sizeBytes: document.sizeBytes, chunks: document._count.chunks },
    });
    return { id };
  });
}

// ─── Search ──────────────────────────────────────────────────────────────────────────────────────────────────────

export const MAX_SEARCH_RESULTS = 50;

interface PassageRow {
  chunk_id: string;
  document_id: string;
  document_title: string;
  collection: string;
  position: number;
  start_offset: number;
  end_offset: number;
  content: string;
  score: number;
  highlight?: string;
}

// Private-use characters mark the matches in ts_headline's output; they are swapped for <mark> after escaping.
const MARK_START = "\uE000";
const MARK_END = "\uE001";
const HEADLINE_OPTIONS = `StartSel=${MARK_START}, StopSel=${MARK_END}, MaxWords=40, MinWords=18, ShortWord=3, MaxFragments=2, FragmentDelimiter=" … "`;

function toPassage(row: PassageRow): Passage {
  return {
    chunkId: row.chunk_id,
    documentId: row.document_id,
    documentTitle: row.document_title,
    collection: row.collection,
    position: Number(row.position),
    startOffset: Number(row.start_offset),
    endOffset: Number(row.end_offset),
    content: row.content,
    score: Number(row.score),
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c);
}

/** ts_headline output → HTML-escaped text with the matches in <mark>…</mark>. */
export function highlightHtml(headline: string): string {
  return escapeHtml(headline).replaceAll(MARK_START, "<mark>").replaceAll(MARK_END, "</mark>");
}

/** Quoted phrases, -exclusions and "or" are web-search syntax: such a query means exactly what it says. */
function usesSearchSyntax(query: string): boolean {
  return /"|(^|\s)-\S|\sor\s/i.test(query);
}

async function queryPassages(
  db: DbOrTx,
  {
    orgId,
    query,
    k,
    collections,
    withHeadline,
    plainLanguage = false,
  }: { orgId: string; query: string; k: number; collections?: string[]; withHeadline: boolean; plainLanguage?: boolean },
): Promise<PassageRow[]> {
  const q = query.trim().slice(0, 1_000);
  if (q === "" || k <= 0) return [];
  const limit = Math.min(Math.max(1, Math.floor(k)), MAX_SEARCH_RESULTS);
  // In plain language "or" is a word ("email or phone"), not an operator that asks for exact matching.
  const strict = usesSearchSyntax(plainLanguage ? q.replace(/\sor\s/gi, " ") : q);
  const inCollections = collections && collections.length > 0 ? Prisma.sql`AND d.collection IN (${Prisma.join(collections)})` : Prisma.empty;
  const orAnyWord = strict ? Prisma.empty : Prisma.sql`OR c.search_vector @@ q.any_word`;
  const headline = withHeadline
    ? Prisma.sql`, ts_headline('english', c.content, ${strict ? Prisma.sql`q.all_words` : Prisma.sql`coalesce(q.any_word, q.all_words)`}, ${HEADLINE_OPTIONS}) AS highlight`
    : Prisma.empty;
  // Two queries from what was typed. all_words: websearch_to_tsquery, which accepts anything people type
  // ("quoted phrases", or, -not) without syntax errors and needs every word. any_word: the same stemmed words
  // joined by OR, so a question in plain language ("refund within how many days") still finds the passage that
  // has most of its words. Passages with every word rank above those with some (score 0.5 + …), then by
  // ts_rank_cd (normalisation 32 maps it into [0, 1)); ties go to the newer document, then document order.
  // With embeddings, a deeper full-text list is fused with the passages nearest in meaning (not for search syntax,
  // which means exactly what it says).
  const hybrid = !strict && embeddingsProvider() !== null;
  const pool = hybrid ? Math.min(50, Math.max(20, limit * 4)) : limit;
  const textRows = await db.$queryRaw<PassageRow[]>`
    WITH q AS (
      SELECT websearch_to_tsquery('english', ${q}) AS all_words,
             (SELECT string_agg(quote_literal(lexeme), ' | ')
                FROM unnest(tsvector_to_array(to_tsvector('english', ${q}))) AS lexeme)::tsquery AS any_word
    )
    SELECT c.id AS chunk_id, c.document_id, d.title AS document_title, d.collection, c.position,
           c.start_offset, c.end_offset, c.content,
           (CASE WHEN c.search_vector @@ q.all_words THEN 0.5 + 0.5 * ts_rank_cd(c.search_vector, q.all_words, 32)
                 ELSE 0.5 * ts_rank_cd(c.search_vector, q.any_word, 32) END)::float8 AS score
           ${headline}
    FROM q, knowledge_chunks c
    JOIN knowledge_documents d ON d.id = c.document_id AND d.org_id = ${orgId}
    WHERE c.org_id = ${orgId} AND (c.search_vector @@ q.all_words ${orAnyWord}) ${inCollections}
    ORDER BY score DESC, d.created_at DESC, c.position ASC
    LIMIT ${pool}`;
  if (!hybrid) return textRows;
  const nearIds = await nearestChunkIds(db, { orgId, query: q, collections, limit: pool });
  if (nearIds.length === 0) return textRows.slice(0, limit);
  const fused = reciprocalRankFusion([textRows.map((row) => row.chunk_id), nearIds]).slice(0, limit);
  const byId = new Map(textRows.map((row) => [row.chunk_id, row]));
  const missing = fused.map((entry) => entry.id).filter((id) => !byId.has(id));
  if (missing.length > 0) {
    const found = await db.$queryRaw<PassageRow[]>`
      SELECT c.id AS chunk_id, c.document_id, d.title AS document_title, d.collection, c.position,
             c.start_offset, c.end_offset, c.content, 0::float8 AS score
      FROM knowledge_chunks c JOIN knowledge_documents d ON d.id = c.document_id AND d.org_id = ${orgId}
      WHERE c.org_id = ${orgId} AND c.id = ANY(${missing}::text[])`;
    for (const row of found) byId.set(row.chunk_id, row);
  }
  // Fused scores, scaled so that first place in both lists is 1.
  const best = 2 / (RRF_K + 1);
  return fused.flatMap((entry) => {
    const row = byId.get(entry.id);
    return row ? [{ ...row, score: entry.score / best }] : [];
  });
}

/**
 * The kernel's search (the search_knowledge tool): the best-matching passages of the org's documents. The caller
 * has already established which org acts; nothing here reads a principal. Models ask in plain language, so an "or"
 * in their question ("email or phone") does not switch to exact web-search matching; quotes and -words still do.
 */
export async function searchKnowledge(
  db: DbOrTx,
  { orgId, query, k, collections }: { orgId: string; query: string; k: number; collections?: string[] },
): Promise<Passage[]> {
  const rows = await queryPassages(db, { orgId, query, k, collections, withHeadline: false, plainLanguage: true });
  return rows.map(toPassage);
}

export const SearchKnowledgeInput = z.object({
  q: z.string().max(1_000, "Search for at most 1,000 characters."),
  k: z.number().int().min(1).max(MAX_SEARCH_RESULTS).default(10),
  collection: z.string().trim().max(60).optional(),
});
export type SearchKnowledgeInput = z.input<typeof SearchKnowledgeInput>;

/** The console's and REST's search: passages with highlighted matches and the link that cites them. */
export async function searchKnowledgeFor(db: DbOrTx, principal: Principal, raw: SearchKnowledgeInput) {
  requireScope(principal, "memory:read");
  const input = parseInput(SearchKnowledgeInput, raw);
  const rows = await queryPassages(db, {
    orgId: principal.orgId,
    query: input.q,
    k: input.k,
    collections: input.collection ? [input.collection] : undefined,
    withHeadline: true,
  });
  return {
    items: rows.map((row) => {
      const passage = toPassage(row);
      return { ...passage, highlight: highlightHtml(row.highlight ?? passage.content), href: citationHref(passage) };
    }),
  };
}
