import { searchKnowledgeFor } from "@/server/domain/knowledge/knowledge";
import { endpoints } from "@/server/rest/endpoints";
import { restRoute } from "@/server/rest/handler";

export const GET = restRoute(endpoints.searchKnowledge, async ({ db, principal, query }) => {
  const { items } = await searchKnowledgeFor(db, principal, { q: query.q, k: query.k, collection: query.collection });
  return {
    items: items.map((p) => ({ chunkId: p.chunkId, documentId: p.documentId, title: p.documentTitle, collection: p.collection, position: p.position, content: p.content, score: p.score })),
  };
});
