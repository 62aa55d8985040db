import { z } from "zod";
import type { CreateAgentInput, UpdateAgentInput } from "../../domain/agents/agent-input";
import {
  archiveAgent,
  createAgent,
  disableAgent,
  enableAgent,
  getAgentDetail,
  getAgentForEditing,
  listAgents,
  listGrantableTools,
  restoreAgent,
  updateAgent,
} from "../../domain/agents/agents";
import { AgentVersionRef, DiffAgentVersionsInput, diffAgentVersions, getAgentVersion, listAgentVersions } from "../../domain/agents/versions";
import { createTRPCRouter, scopedProcedure } from "../init";

const AgentIdInput = z.object({ id: z.string().min(1) });
// The domain validates agent input itself: its field errors carry nested paths (config.limits.maxSteps) that
// tRPC's flattened zod errors would lose.
const isObject = (value: unknown) => typeof value === "object" && value !== null && !Array.isArray(value);

export const agentsRouter = createTRPCRouter({
  list: scopedProcedure("agents:read")
    .input(z.object({ includeArchived: z.boolean().default(false) }).optional())
    .query(({ ctx, input }) => listAgents(ctx.db, ctx.principal, { includeArchived: input?.includeArchived ?? false })),
  byId: scopedProcedure("agents:read").input(AgentIdInput).query(({ ctx, input }) => getAgentDetail(ctx.db, ctx.principal, input.id)),
  forEditing: scopedProcedure("agents:write").input(AgentIdInput).query(({ ctx, input }) => getAgentForEditing(ctx.db, ctx.principal, input.id)),
  grantableTools: scopedProcedure("agents:read").query(({ ctx }) => listGrantableTools(ctx.db, ctx.principal)),
  create: scopedProcedure("agents:write")
    .input(z.custom<CreateAgentInput>(isObject, "Send the agent as an object."))
    .mutation(({ ctx, input }) => createAgent(ctx.db, ctx.principal, input)),
  update: scopedProcedure("agents:write")
    .input(z.custom<UpdateAgentInput>(isObject, "Send the agent as an object."))
    .mutation(({ ctx, input }) => updateAgent(ctx.db, ctx.principal, input)),
  archive: scopedProcedure("agents:write").input(AgentIdInput).mutation(({ ctx, input }) => archiveAgent(ctx.db, ctx.principal, input.id)),
  restore: scopedProcedure("agents:write").input(AgentIdInput).mutation(({ ctx, input }) => restoreAgent(ctx.db, ctx.principal, input.id)),
  disable: scopedProcedure("agents:write").input(AgentIdInput).mutation(({ ctx, input }) => disableAgent(ctx.db, ctx.principal, input.id)),
  enable: scopedProcedure("agents:write").input(AgentIdInput).mutation(({ ctx, input }) => enableAgent(ctx.db, ctx.principal, input.id)),
  versions: scopedProcedure("agents:read").input(AgentIdInput).query(({ ctx, input }) => listAgentVersions(ctx.db, ctx.principal, input.id)),
  version: scopedProcedure("agents:read").input(AgentVersionRef).query(({ ctx, input }) => getAgentVersion(ctx.db, ctx.principal, input)),
  diff: scopedProcedure("agents:read").input(DiffAgentVersionsInput).query(({ ctx, input }) => diffAgentVersions(ctx.db, ctx.principal, input)),
});
