import { z } from "zod";
import {
  CreateModelConfigInput,
  UpdateModelConfigInput,
  createModelConfig,
  deleteModelConfig,
  listModelConfigs,
  updateModelConfig,
} from "../../domain/models/model-configs";
import { runtimeSecrets } from "../../env";
import { createTRPCRouter, scopedProcedure } from "../init";

export const modelsRouter = createTRPCRouter({
  list: scopedProcedure("agents:read").query(({ ctx }) => listModelConfigs(ctx.db, ctx.principal)),
  create: scopedProcedure("models:manage")
    .input(CreateModelConfigInput)
    .mutation(({ ctx, input }) => createModelConfig(ctx.db, ctx.principal, input, runtimeSecrets().encryptionKey)),
  update: scopedProcedure("models:manage")
    .input(UpdateModelConfigInput)
    .mutation(({ ctx, input }) => updateModelConfig(ctx.db, ctx.principal, input, runtimeSecrets().encryptionKey)),
  delete: scopedProcedure("models:manage")
    .input(z.object({ id: z.string().min(1) }))
    .mutation(({ ctx, input }) => deleteModelConfig(ctx.db, ctx.principal, input.id)),
});
