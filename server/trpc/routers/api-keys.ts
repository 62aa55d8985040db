import { z } from "zod";
import { CreateApiKeyInput, createApiKey, getApiKey, listApiKeys, revokeApiKey } from "../../domain/identity/api-keys";
import { createTRPCRouter, scopedProcedure } from "../init";

const ApiKeyIdInput = z.object({ id: z.string().min(1) });

export const apiKeysRouter = createTRPCRouter({
  list: scopedProcedure("apikeys:manage").query(({ ctx }) => listApiKeys(ctx.db, ctx.principal)),
  byId: scopedProcedure("apikeys:manage").input(ApiKeyIdInput).query(({ ctx, input }) => getApiKey(ctx.db, ctx.principal, input.id)),
  create: scopedProcedure("apikeys:manage")
    .input(CreateApiKeyInput)
    .mutation(({ ctx, input }) => createApiKey(ctx.db, ctx.principal, input)),
  revoke: scopedProcedure("apikeys:manage").input(ApiKeyIdInput).mutation(({ ctx, input }) => revokeApiKey(ctx.db, ctx.principal, input.id)),
});
