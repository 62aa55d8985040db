import { isRootClient, type DbOrTx } from "@/server/db";
import { logger } from "@/server/logger";
import { embeddingsProvider, messageOf, retrievalMode, vectorLiteral } from "../memory/embeddings";
import { MAX_VECTOR_DISTANCE } from "../memory/retrieval";

/**
 * Vectors of knowledge passages, for hybrid passage search. Like memories' (server/domain/memory/embeddings.ts) they
 * are optional and best effort: without a provider or pgvector, or when the provider fails, passages are found by
 * full text alone and nothing fails an upload or a search.
 */

const EMBED_BATCH = 64;

interface ChunkText {
  id: string;
  content: string;
}

async function storeVectors(db: DbOrTx, model: string, chunks: readonly ChunkText[], vectors: readonly number[][]): Promise<number> {
  let stored = 0;
  for (const [index, chunk] of chunks.entries()) {
    const vector = vectors[index];
    if (!vector || vector.length === 0) continue;
    // The chunk may be gone meanwhile (its document deleted): then nothing is inserted.
    stored += await db.$executeRaw`
      INSERT INTO knowledge_chunk_embeddings (chunk_id, org_id, model, embedding)
      SELECT c.id, c.org_id, ${model}, ${vectorLiteral(vector)}::vector FROM knowledge_chunks c WHERE c.id = ${chunk.id}
      ON CONFLICT (chunk_id) DO UPDATE SET model = EXCLUDED.model, embedding = EXCLUDED.embedding`;
  }
  return stored;
}

async function embedChunks(db: DbOrTx, chunks: readonly ChunkText[]): Promise<number> {
  const provider = embeddingsProvider();
  if (!provider || chunks.length === 0) return 0;
  let stored = 0;
  for (let i = 0; i < chunks.length; i += EMBED_BATCH) {
    const batch = chunks.slice(i, i + EMBED_BATCH);
    stored += await storeVectors(db, provider.model, batch, await provider.embedDocuments(batch.map((chunk) => chunk.content)));
  }
  return stored;
}

/** After an upload: embeds the document's passages. Never throws; the worker's sweep embeds what is missed. */
export async function embedDocumentChunks(db: DbOrTx, documentId: string): Promise<number> {
  if (!embeddingsProvider() || !isRootClient(db)) return 0;
  try {
    if ((await retrievalMode(db)).mode !== "hybrid") return 0;
    const chunks = await db.knowledgeChunk.findMany({ where: { documentId }, select: { id: true, content: true }, orderBy: { position: "asc" } });
    return await embedChunks(db, chunks);
  } catch (error) {
    logger.warn("could not embed a document's passages; search finds them by full text until the next sweep", { documentId, error: messageOf(error) });
    return 0;
  }
}

/** For the worker's sweep: passages without a vector of the current model (uploaded before, or while the provider failed). */
export async function embedMissingChunks(db: DbOrTx, limit = 200): Promise<number> {
  const provider = embeddingsProvider();
  if (!provider || !isRootClient(db) || (await retrievalMode(db)).mode !== "hybrid") return 0;
  const chunks = await db.$queryRaw<ChunkText[]>`
    SELECT c.id, c.content
      FROM knowledge_chunks c LEFT JOIN knowledge_chunk_embeddings e ON e.chunk_id = c.id AND e.model = ${provider.model}
     WHERE e.chunk_id IS NULL
     ORDER BY c.id
     LIMIT ${limit}`;
  try {
    return await embedChunks(db, chunks);
  } catch (error) {
    logger.warn("could not embed passages missing a vector; retrying on the next sweep", { count: chunks.length, error: messageOf(error) });
    return 0;
  }
}

/**
 * Passages nearest to the query by meaning (cosine distance within MAX_VECTOR_DISTANCE), nearest first; [] when
 * hybrid search is off or the query cannot be embedded.
 */
export async function nearestChunkIds(db: DbOrTx, input: { orgId: string; query: string; collections?: string[]; limit: number }): Promise<string[]> {
  const provider = embeddingsProvider();
  if (!provider || (await retrievalMode(db)).mode !== "hybrid") return [];
  let vector: string;
  try {
    vector = vectorLiteral(await provider.embedQuery(input.query));
  } catch (error) {
    logger.warn("could not embed a knowledge search; ranking by full text alone", { error: messageOf(error) });
    return [];
  }
  const collections = input.collections && input.collections.length > 0 ? input.collections : null;
  const rows = await db.$queryRaw<{ id: string }[]>`
    SELECT c.id
      FROM knowledge_chunk_embeddings e
      JOIN knowledge_chunks c ON c.id = e.chunk_id
      JOIN knowledge_documents d ON d.id = c.document_id
     WHERE e.org_id = ${input.orgId} AND c.org_id = ${input.orgId} AND e.model = ${provider.model}
       AND (${collections}::text[] IS NULL OR d.collection = ANY(${collections}::text[]))
       AND vector_dims(e.embedding) = vector_dims(${vector}::vector)
       AND (e.embedding <=> ${vector}::vector) <= ${MAX_VECTOR_DISTANCE}
     ORDER BY e.embedding <=> ${vector}::vector, c.id
     LIMIT ${input.limit}`;
  return rows.map((row) => row.id);
}
