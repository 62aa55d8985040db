import { z } from "zod";
import { CreateSecretInput, UpdateSecretInput, createSecret, deleteSecret, listSecrets, updateSecret } from "../../domain/secrets/secrets";
import {
  ApproveToolDefinitionInput,
  RegisterToolServerInput,
  SetToolServerEnabledInput,
  UpdateToolServerInput,
  approveToolDefinition,
  deleteToolServer,
  getToolDefinitionReview,
  getToolServer,
  listToolServers,
  listTools,
  refreshToolServer,
  registerToolServer,
  setToolServerEnabled,
  updateToolServer,
} from "../../domain/tools/servers";
import { ClassifyToolInput, SetAgentToolGrantsInput, classifyTool, listAgentToolGrants, setAgentToolGrants } from "../../domain/tools/tools";
import { runtimeSecrets } from "../../env";
import { getMcpPool } from "../../runtime/mcp/pool";
import { createTRPCRouter, scopedProcedure } from "../init";

const IdInput = z.object({ id: z.string().min(1) });
const encryption = () => ({ encryptionKey: runtimeSecrets().encryptionKey });

const secretsRouter = createTRPCRouter({
  list: scopedProcedure("secrets:manage").query(({ ctx }) => listSecrets(ctx.db, ctx.principal)),
  create: scopedProcedure("secrets:manage")
    .input(CreateSecretInput)
    .mutation(({ ctx, input }) => createSecret(ctx.db, ctx.principal, input, encryption())),
  update: scopedProcedure("secrets:manage")
    .input(UpdateSecretInput)
    .mutation(({ ctx, input }) => updateSecret(ctx.db, ctx.principal, input, encryption())),
  delete: scopedProcedure("secrets:manage").input(IdInput).mutation(({ ctx, input }) => deleteSecret(ctx.db, ctx.principal, input.id)),
});

const grantsRouter = createTRPCRouter({
  get: scopedProcedure("tools:read")
    .input(z.object({ agentId: z.string().min(1) }))
    .query(({ ctx, input }) => listAgentToolGrants(ctx.db, ctx.principal, input.agentId)),
  set: scopedProcedure("tools:manage")
    .input(SetAgentToolGrantsInput)
    .mutation(({ ctx, input }) => setAgentToolGrants(ctx.db, ctx.principal, input)),
});

export const toolsRouter = createTRPCRouter({
  list: scopedProcedure("tools:read").query(({ ctx }) => listToolServers(ctx.db, ctx.principal)),
  byId: scopedProcedure("tools:read").input(IdInput).query(({ ctx, input }) => getToolServer(ctx.db, ctx.principal, input.id)),
  allTools: scopedProcedure("tools:read").query(({ ctx }) => listTools(ctx.db, ctx.principal)),
  register: scopedProcedure("tools:manage")
    .input(RegisterToolServerInput)
    .mutation(({ ctx, input }) => registerToolServer(ctx.db, ctx.principal, input)),
  update: scopedProcedure("tools:manage")
    .input(UpdateToolServerInput)
    .mutation(({ ctx, input }) => updateToolServer(ctx.db, ctx.principal, input, { mcp: getMcpPool() })),
  delete: scopedProcedure("tools:manage").input(IdInput).mutation(({ ctx, input }) => deleteToolServer(ctx.db, ctx.principal, input.id, { mcp: getMcpPool() })),
  setEnabled: scopedProcedure("tools:manage")
    .input(SetToolServerEnabledInput)
    .mutation(({ ctx, input }) => setToolServerEnabled(ctx.db, ctx.principal, input, { mcp: getMcpPool() })),
  refresh: scopedProcedure("tools:manage")
    .input(IdInput)
    .mutation(({ ctx, input }) => refreshToolServer(ctx.db, ctx.principal, input.id, { mcp: getMcpPool(), ...encryption() })),
  classify: scopedProcedure("tools:manage").input(ClassifyToolInput).mutation(({ ctx, input }) => classifyTool(ctx.db, ctx.principal, input)),
  definitionReview: scopedProcedure("tools:read")
    .input(z.object({ toolId: z.string().min(1) }))
    .query(({ ctx, input }) => getToolDefinitionReview(ctx.db, ctx.principal, input.toolId)),
  approveDefinition: scopedProcedure("tools:manage")
    .input(ApproveToolDefinitionInput)
    .mutation(({ ctx, input }) => approveToolDefinition(ctx.db, ctx.principal, input)),
  secrets: secretsRouter,
  grants: grantsRouter,
});
