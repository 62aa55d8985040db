import { z } from "zod";
import { getAgent, listAgents } from "../../domain/agents/agents";
import { createTRPCRouter, scopedProcedure } from "../init";

export const agentsRouter = createTRPCRouter({
  list: scopedProcedure("agents:read").query(({ ctx }) => listAgents(ctx.db, ctx.principal)),
  byId: scopedProcedure("agents:read")
    .input(z.object({ id: z.string().min(1) }))
    .query(({ ctx, input }) => getAgent(ctx.db, ctx.principal, input.id)),
});
