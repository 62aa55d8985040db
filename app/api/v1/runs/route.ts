import { getAgent } from "@/server/domain/agents/agents";
import { createRun, listRuns, type RUN_STATUSES } from "@/server/domain/runs/runs";
import { endpoints } from "@/server/rest/endpoints";
import { restRoute } from "@/server/rest/handler";
import { presentRunSummary } from "@/server/rest/presenters";

export const GET = restRoute(endpoints.listRuns, async ({ db, principal, query }) => {
  const agentId = query.agent ? (await getAgent(db, principal, query.agent)).id : undefined;
  const status = query.status?.toUpperCase() as (typeof RUN_STATUSES)[number] | undefined;
  const page = await listRuns(db, principal, { status, agentId, limit: query.limit, cursor: query.cursor });
  return { items: page.items.map(presentRunSummary), nextCursor: page.nextCursor ?? null };
});

export const POST = restRoute(endpoints.createRun, async ({ db, principal, body }) => {
  const run = await createRun(db, principal, body, "API");
  return { id: run.id, status: run.status.toLowerCase() };
});
