import { OllamaEmbeddings } from "@langchain/ollama";
import { OpenAIEmbeddings } from "@langchain/openai";
import { isRootClient, type DbOrTx } from "@/server/db";
import { env } from "@/server/env";
import { logger } from "@/server/logger";

/**
 * Embeddings for hybrid memory search, and the vector store they live in. Both are optional: without a provider, or
 * on a PostgreSQL server without pgvector, memory search ranks by full text alone and nothing here fails a write or a
 * search. The store is created at run time, not by a migration, because a migration using pgvector would fail on
 * the PostgreSQL servers that do not have it.
 */

export type EmbeddingsProviderName = "openai" | "ollama";

export interface EmbeddingsConfig {
  provider: EmbeddingsProviderName;
  /** OpenAI-compatible: the API base including /v1; Ollama: the server (http://localhost:11434). */
  url?: string;
  model?: string;
  apiKey?: string;
}

export interface EmbeddingsProvider {
  /** Stored with each vector: vectors of different models are never compared. */
  readonly model: string;
  embedDocuments(texts: string[]): Promise<number[][]>;
  embedQuery(text: string): Promise<number[]>;
}

const DEFAULT_MODELS: Record<EmbeddingsProviderName, string> = { openai: "text-embedding-3-small", ollama: "nomic-embed-text" };
const DEFAULT_OLLAMA_URL = "http://localhost:11434";
/** A slow provider delays a write or a search by at most this, then full text carries on alone. */
const EMBED_TIMEOUT_MS = 10_000;

export function createEmbeddingsProvider(config: EmbeddingsConfig): EmbeddingsProvider {
  const model = config.model ?? DEFAULT_MODELS[config.provider];
  if (config.provider === "openai") {
    const client = new OpenAIEmbeddings({
      model,
      // OpenAI-compatible local servers need no key, but the OpenAI client refuses to start without one.
      apiKey: config.apiKey ?? "not-needed",
      // Best effort: one retry, then the caller falls back to full text.
      maxRetries: 1,
      timeout: EMBED_TIMEOUT_MS,
      ...(config.url ? { configuration: { baseURL: config.url } } : {}),
    });
    return { model, embedDocuments: (texts) => client.embedDocuments(texts), embedQuery: (text) => client.embedQuery(text) };
  }
  const client = new OllamaEmbeddings({ model, baseUrl: config.url ?? DEFAULT_OLLAMA_URL, maxRetries: 1 });
  return { model, embedDocuments: (texts) => client.embedDocuments(texts), embedQuery: (text) => client.embedQuery(text) };
}

function configFromEnv(): EmbeddingsConfig | null {
  if (!env.SWITCHBOARD_EMBEDDINGS_PROVIDER) return null;
  return {
    provider: env.SWITCHBOARD_EMBEDDINGS_PROVIDER,
    ...(env.SWITCHBOARD_EMBEDDINGS_URL ? { url: env.SWITCHBOARD_EMBEDDINGS_URL } : {}),
    ...(env.SWITCHBOARD_EMBEDDINGS_MODEL ? { model: env.SWITCHBOARD_EMBEDDINGS_MODEL } : {}),
    ...(env.SWITCHBOARD_EMBEDDINGS_API_KEY ? { apiKey: env.SWITCHBOARD_EMBEDDINGS_API_KEY } : {}),
  };
}

/** undefined = not decided yet (read the environment on first use); null = no embeddings. */
let configured: EmbeddingsProvider | null | undefined;

export function embeddingsProvider(): EmbeddingsProvider | null {
  if (configured === undefined) {
    const config = configFromEnv();
    configured = config ? createEmbeddingsProvider(config) : null;
  }
  return configured;
}

/** Replaces the environment's configuration (tests point it at a local server); null turns embeddings off. */
export function configureEmbeddings(config: EmbeddingsConfig | null): void {
  configured = config ? createEmbeddingsProvider(config) : null;
}

/** A provider's failure in one line: the stack says nothing about why the provider failed. */
export const messageOf = (error: unknown) => (error instanceof Error ? error.message.split("\n")[0] : String(error));

// ─── The vector store ────────────────────────────────────────────────────────────────────────────────────────────

export const PGVECTOR_MISSING_NOTICE =
  "pgvector is not installed on this PostgreSQL server: memory search uses full-text ranking only. Install the pgvector extension (Debian: postgresql-15-pgvector) to enable hybrid ranking.";

type StoreState = { ready: true } | { ready: false; notice: string };

/** Per database client: the extension and table are checked once, and the warning is logged once. */
const storeStates = new WeakMap<object, Promise<StoreState>>();

/**
 * Enables pgvector and creates the embeddings table when they are missing. Never throws: a server without the
 * extension (or a role that may not create it) gets a notice instead. Must run on a root client, not inside a
 * transaction: a failed CREATE EXTENSION would abort the caller's transaction.
 */
export async function ensureVectorStore(db: DbOrTx): Promise<StoreState> {
  const [available] = await db.$queryRaw<{ available: boolean; installed: boolean }[]>`
    SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') AS available,
           EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector') AS installed`;
  if (!available?.available && !available?.installed) return { ready: false, notice: PGVECTOR_MISSING_NOTICE };
  try {
    await db.$executeRawUnsafe("CREATE EXTENSION IF NOT EXISTS vector");
    // No dimension on the column: the model (and so the dimension) is a setting, and search compares only vectors of
    // the current model. The scan is exact over one org's eligible memories, so no ANN index is needed.
    await db.$executeRawUnsafe(`CREATE TABLE IF NOT EXISTS memory_embeddings (
      memory_id text PRIMARY KEY REFERENCES memories(id) ON DELETE CASCADE,
      org_id text NOT NULL,
      model text NOT NULL,
      embedding vector NOT NULL)`);
    await db.$executeRawUnsafe("CREATE INDEX IF NOT EXISTS memory_embeddings_org_model_idx ON memory_embeddings (org_id, model)");
    // Knowledge passages, the same way (server/domain/knowledge/vectors.ts).
    await db.$executeRawUnsafe(`CREATE TABLE IF NOT EXISTS knowledge_chunk_embeddings (
      chunk_id text PRIMARY KEY REFERENCES knowledge_chunks(id) ON DELETE CASCADE,
      org_id text NOT NULL,
      model text NOT NULL,
      embedding vector NOT NULL)`);
    await db.$executeRawUnsafe("CREATE INDEX IF NOT EXISTS knowledge_chunk_embeddings_org_model_idx ON knowledge_chunk_embeddings (org_id, model)");
    return { ready: true };
  } catch (error) {
    return {
      ready: false,
      notice: `pgvector could not be enabled on this database (${messageOf(error)}): memory search uses full-text ranking only. A superuser can run CREATE EXTENSION vector to enable hybrid ranking.`,
    };
  }
}

async function storeState(db: DbOrTx): Promise<StoreState> {
  if (!isRootClient(db)) {
    // Inside a transaction only look: creating could abort it. The root client created the store if it could.
    const [row] = await db.$queryRaw<{ present: boolean }[]>`SELECT to_regclass('knowledge_chunk_embeddings') IS NOT NULL AS present`;
    return row?.present ? { ready: true } : { ready: false, notice: PGVECTOR_MISSING_NOTICE };
  }
  let pending = storeStates.get(db);
  if (!pending) {
    pending = ensureVectorStore(db).then((state) => {
      if (!state.ready) logger.warn(state.notice);
      return state;
    });
    // A failed check (database unreachable) is tried again next time rather than remembered.
    pending.catch(() => storeStates.delete(db));
    storeStates.set(db, pending);
  }
  return pending;
}

export interface RetrievalStatus {
  mode: "full_text" | "hybrid";
  /** Why hybrid ranking is off although embeddings are configured; null when all is as configured. */
  notice: string | null;
}

export async function retrievalMode(db: DbOrTx): Promise<RetrievalStatus> {
  if (!embeddingsProvider()) return { mode: "full_text", notice: null };
  const state = await storeState(db);
  return state.ready ? { mode: "hybrid", notice: null } : { mode: "full_text", notice: state.notice };
}

/** pgvector's text form; numbers are finite floats from the provider. */
export function vectorLiteral(vector: readonly number[]): string {
  return `[${vector.map((value) => (Number.isFinite(value) ? value : 0)).join(",")}]`;
}

/**
 * Embeds a memory's content and stores it. Best effort: the memory is already written and full text finds it, so a
 * failure (provider down, memory deleted meanwhile) is a warning. Inside a transaction it does nothing: the HTTP
 * call would hold the transaction open, and the row is not committed yet.
 */
export async function embedMemory(db: DbOrTx, memory: { id: string; orgId: string; content: string }): Promise<boolean> {
  const provider = embeddingsProvider();
  if (!provider || !isRootClient(db)) return false;
  try {
    if ((await retrievalMode(db)).mode !== "hybrid") return false;
    const [vector] = await provider.embedDocuments([memory.content]);
    if (!vector || vector.length === 0) throw new Error("the embeddings provider returned no vector");
    await db.$executeRaw`
      INSERT INTO memory_embeddings (memory_id, org_id, model, embedding)
      VALUES (${memory.id}, ${memory.orgId}, ${provider.model}, ${vectorLiteral(vector)}::vector)
      ON CONFLICT (memory_id) DO UPDATE SET org_id = EXCLUDED.org_id, model = EXCLUDED.model, embedding = EXCLUDED.embedding`;
    return true;
  } catch (error) {
    logger.warn("could not embed a memory: full-text search still finds it", { memoryId: memory.id, error: messageOf(error) });
    return false;
  }
}

/** The query as a vector for nearest-neighbour search; null (full text only) when the provider fails. */
export async function embedQuery(text: string): Promise<{ model: string; vector: string } | null> {
  const provider = embeddingsProvider();
  if (!provider) return null;
  try {
    const vector = await provider.embedQuery(text);
    if (vector.length === 0) return null;
    return { model: provider.model, vector: vectorLiteral(vector) };
  } catch (error) {
    logger.warn("could not embed a search query: ranking by full text only", { error: messageOf(error) });
    return null;
  }
}

/**
 * Embeds live memories that have no vector for the current model: those written before embeddings were configured,
 * while the provider was down, or under another model. For a periodic sweep (the worker's memory sweep); returns how
 * many were embedded. A failing provider stops the batch with a warning; the next sweep tries again.
 */
export async function embedMissingMemories(db: DbOrTx, limit = 100): Promise<number> {
  const provider = embeddingsProvider();
  if (!provider || !isRootClient(db) || (await retrievalMode(db)).mode !== "hybrid") return 0;
  const rows = await db.$queryRaw<{ id: string; org_id: string; content: string }[]>`
    SELECT m.id, m.org_id, m.content
      FROM memories m LEFT JOIN memory_embeddings e ON e.memory_id = m.id AND e.model = ${provider.model}
     WHERE e.memory_id IS NULL AND m.superseded_by_id IS NULL AND (m.expires_at IS NULL OR m.expires_at > now())
     ORDER BY m.created_at DESC, m.id
     LIMIT ${limit}`;
  if (rows.length === 0) return 0;
  let vectors: number[][];
  try {
    vectors = await provider.embedDocuments(rows.map((row) => row.content));
  } catch (error) {
    logger.warn("could not embed memories missing a vector; retrying on the next sweep", { count: rows.length, error: messageOf(error) });
    return 0;
  }
  let embedded = 0;
  for (const [index, row] of rows.entries()) {
    const vector = vectors[index];
    if (!vector || vector.length === 0) continue;
    // ON CONFLICT: a concurrent write may have embedded it meanwhile; the memory may also be gone (no row inserted).
    embedded += await db.$executeRaw`
      INSERT INTO memory_embeddings (memory_id, org_id, model, embedding)
      SELECT m.id, m.org_id, ${provider.model}, ${vectorLiteral(vector)}::vector FROM memories m WHERE m.id = ${row.id}
      ON CONFLICT (memory_id) DO UPDATE SET model = EXCLUDED.model, embedding = EXCLUDED.embedding`;
  }
  return embedded;
}
