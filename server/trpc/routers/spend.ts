import {
  CreateSpendLimitInput,
  DeleteSpendLimitInput,
  UpdateSpendLimitInput,
  createSpendLimit,
  deleteSpendLimit,
  listSpendLimits,
  listSpendTargets,
  spendSummary,
  updateSpendLimit,
} from "../../domain/spend/limits";
import { createTRPCRouter, scopedProcedure } from "../init";

export const spendRouter = createTRPCRouter({
  summary: scopedProcedure("spend:read").query(({ ctx }) => spendSummary(ctx.db, ctx.principal)),
  limits: scopedProcedure("spend:read").query(({ ctx }) => listSpendLimits(ctx.db, ctx.principal)),
  targets: scopedProcedure("spend:read").query(({ ctx }) => listSpendTargets(ctx.db, ctx.principal)),
  createLimit: scopedProcedure("spend:manage")
    .input(CreateSpendLimitInput)
    .mutation(({ ctx, input }) => createSpendLimit(ctx.db, ctx.principal, input)),
  updateLimit: scopedProcedure("spend:manage")
    .input(UpdateSpendLimitInput)
    .mutation(({ ctx, input }) => updateSpendLimit(ctx.db, ctx.principal, input)),
  deleteLimit: scopedProcedure("spend:manage")
    .input(DeleteSpendLimitInput)
    .mutation(({ ctx, input }) => deleteSpendLimit(ctx.db, ctx.principal, input.id)),
});
