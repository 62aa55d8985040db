import { z } from "zod";
import { CreateMemoryInput, createMemory, DeleteMemoriesInput, deleteMemories, getMemory, memoryFacets, SearchMemoriesInput, searchMemories, UpdateMemoryInput, updateMemory } from "../../domain/memory/memories";
import { retrievalMode } from "../../domain/memory/embeddings";
import { createTRPCRouter, scopedProcedure } from "../init";

const MemoryId = z.object({ id: z.string().min(1).max(100) });

export const memoryRouter = createTRPCRouter({
  search: scopedProcedure("memory:read").input(SearchMemoriesInput).query(({ ctx, input }) => searchMemories(ctx.db, ctx.principal, input)),
  get: scopedProcedure("memory:read").input(MemoryId).query(({ ctx, input }) => getMemory(ctx.db, ctx.principal, input.id)),
  facets: scopedProcedure("memory:read").query(({ ctx }) => memoryFacets(ctx.db, ctx.principal)),
  /** Full text or hybrid ranking, and why hybrid is off when embeddings are configured (for the console to show). */
  retrievalStatus: scopedProcedure("memory:read").query(({ ctx }) => retrievalMode(ctx.db)),
  create: scopedProcedure("memory:write").input(CreateMemoryInput).mutation(({ ctx, input }) => createMemory(ctx.db, ctx.principal, input)),
  update: scopedProcedure("memory:write").input(UpdateMemoryInput).mutation(({ ctx, input }) => updateMemory(ctx.db, ctx.principal, input)),
  delete: scopedProcedure("memory:delete").input(DeleteMemoriesInput).mutation(({ ctx, input }) => deleteMemories(ctx.db, ctx.principal, input)),
});
