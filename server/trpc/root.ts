import { createCallerFactory, createTRPCRouter } from "./init";
import { agentsRouter } from "./routers/agents";
import { apiKeysRouter } from "./routers/api-keys";
import { approvalsRouter } from "./routers/approvals";
import { auditRouter } from "./routers/audit";
import { dashboardRouter } from "./routers/dashboard";
import { inboxRouter } from "./routers/inbox";
import { knowledgeRouter } from "./routers/knowledge";
import { meRouter } from "./routers/me";
import { membersRouter } from "./routers/members";
import { memoryRouter } from "./routers/memory";
import { modelsRouter } from "./routers/models";
import { policiesRouter } from "./routers/policies";
import { runsRouter } from "./routers/runs";
import { spendRouter } from "./routers/spend";
import { toolsRouter } from "./routers/tools";
import { triggersRouter } from "./routers/triggers";

export const appRouter = createTRPCRouter({
  me: meRouter,
  members: membersRouter,
  apiKeys: apiKeysRouter,
  agents: agentsRouter,
  inbox: inboxRouter,
  memory: memoryRouter,
  knowledge: knowledgeRouter,
  models: modelsRouter,
  runs: runsRouter,
  approvals: approvalsRouter,
  audit: auditRouter,
  tools: toolsRouter,
  triggers: triggersRouter,
  policies: policiesRouter,
  spend: spendRouter,
  dashboard: dashboardRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
