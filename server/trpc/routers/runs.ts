import { z } from "zod";
import { getRunTree } from "../../domain/runs/delegation";
import { CreateRunInput, ListRunsInput, cancelRun, createRun, getRun, getRunTrace, listRuns, resumeRun } from "../../domain/runs/runs";
import { createTRPCRouter, scopedProcedure } from "../init";

export const runsRouter = createTRPCRouter({
  list: scopedProcedure("runs:read").input(ListRunsInput).query(({ ctx, input }) => listRuns(ctx.db, ctx.principal, input)),
  byId: scopedProcedure("runs:read")
    .input(z.object({ id: z.string().min(1) }))
    .query(({ ctx, input }) => getRun(ctx.db, ctx.principal, input.id)),
  trace: scopedProcedure("runs:read")
    .input(z.object({ id: z.string().min(1) }))
    .query(({ ctx, input }) => getRunTrace(ctx.db, ctx.principal, input.id)),
  tree: scopedProcedure("runs:read")
    .input(z.object({ id: z.string().min(1) }))
    .query(({ ctx, input }) => getRunTree(ctx.db, ctx.principal, input.id)),
  create: scopedProcedure("runs:write").input(CreateRunInput).mutation(({ ctx, input }) => createRun(ctx.db, ctx.principal, input, "CONSOLE")),
  cancel: scopedProcedure("runs:cancel")
    .input(z.object({ id: z.string().min(1) }))
    .mutation(({ ctx, input }) => cancelRun(ctx.db, ctx.principal, input.id)),
  resume: scopedProcedure("runs:write")
    .input(z.object({ id: z.string().min(1) }))
    .mutation(({ ctx, input }) => resumeRun(ctx.db, ctx.principal, input.id)),
});
