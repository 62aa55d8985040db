import { z } from "zod";
import { ListRunsInput, getRun, listRuns } from "../../domain/runs/runs";
import { createTRPCRouter, scopedProcedure } from "../init";

export const runsRouter = createTRPCRouter({
  list: scopedProcedure("runs:read").input(ListRunsInput).query(({ ctx, input }) => listRuns(ctx.db, ctx.principal, input)),
  byId: scopedProcedure("runs:read")
    .input(z.object({ id: z.string().min(1) }))
    .query(({ ctx, input }) => getRun(ctx.db, ctx.principal, input.id)),
});
