import { z } from "zod";
import { AgentRef, clearSchedule, getAgentTriggers, PreviewScheduleInput, previewSchedule, SetScheduleInput, setSchedule } from "../../domain/triggers/schedules";
import { issueWebhookSecret, revokeWebhookSecret } from "../../domain/triggers/webhooks";
import { createTRPCRouter, scopedProcedure } from "../init";

export const triggersRouter = createTRPCRouter({
  byAgent: scopedProcedure("agents:read")
    .input(z.object({ agentId: z.string().min(1) }))
    .query(({ ctx, input }) => getAgentTriggers(ctx.db, ctx.principal, input.agentId)),
  previewSchedule: scopedProcedure("agents:read").input(PreviewScheduleInput).query(({ ctx, input }) => previewSchedule(ctx.db, ctx.principal, input)),
  setSchedule: scopedProcedure("agents:write").input(SetScheduleInput).mutation(({ ctx, input }) => setSchedule(ctx.db, ctx.principal, input)),
  clearSchedule: scopedProcedure("agents:write").input(AgentRef).mutation(({ ctx, input }) => clearSchedule(ctx.db, ctx.principal, input)),
  issueWebhook: scopedProcedure("agents:write").input(AgentRef).mutation(({ ctx, input }) => issueWebhookSecret(ctx.db, ctx.principal, input)),
  revokeWebhook: scopedProcedure("agents:write").input(AgentRef).mutation(({ ctx, input }) => revokeWebhookSecret(ctx.db, ctx.principal, input)),
});
