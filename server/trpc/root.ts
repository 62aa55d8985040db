import { createCallerFactory, createTRPCRouter } from "./init";
import { agentsRouter } from "./routers/agents";
import { apiKeysRouter } from "./routers/api-keys";
import { auditRouter } from "./routers/audit";
import { meRouter } from "./routers/me";
import { membersRouter } from "./routers/members";
import { modelsRouter } from "./routers/models";
import { runsRouter } from "./routers/runs";
import { toolsRouter } from "./routers/tools";

export const appRouter = createTRPCRouter({
  me: meRouter,
  members: membersRouter,
  apiKeys: apiKeysRouter,
  agents: agentsRouter,
  models: modelsRouter,
  runs: runsRouter,
  audit: auditRouter,
  tools: toolsRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
