import { createCallerFactory, createTRPCRouter } from "./init";
import { agentsRouter } from "./routers/agents";
import { apiKeysRouter } from "./routers/api-keys";
import { auditRouter } from "./routers/audit";
import { meRouter } from "./routers/me";
import { membersRouter } from "./routers/members";
import { runsRouter } from "./routers/runs";

export const appRouter = createTRPCRouter({
  me: meRouter,
  members: membersRouter,
  apiKeys: apiKeysRouter,
  agents: agentsRouter,
  runs: runsRouter,
  audit: auditRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
