import { createMemory, searchMemories, type MemoryKindName, type MemoryScopeName } from "@/server/domain/memory/memories";
import { endpoints } from "@/server/rest/endpoints";
import { restRoute } from "@/server/rest/handler";
import { presentMemory } from "@/server/rest/presenters";

export const GET = restRoute(endpoints.listMemories, async ({ db, principal, query }) => {
  const page = await searchMemories(db, principal, {
    q: query.q?.trim() || undefined,
    scope: query.scope?.toUpperCase() as MemoryScopeName | undefined,
    limit: query.k,
  });
  return { items: page.items.map(presentMemory) };
});

export const POST = restRoute(endpoints.createMemory, async ({ db, principal, body }) =>
  createMemory(db, principal, {
    content: body.content,
    scope: body.scope.toUpperCase() as MemoryScopeName,
    kind: body.kind.toUpperCase() as MemoryKindName,
    agentId: body.agent,
    userId: body.user,
    ttlDays: body.ttlDays,
    pinned: body.pinned,
  }),
);
