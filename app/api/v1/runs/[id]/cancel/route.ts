import { cancelRun } from "@/server/domain/runs/runs";
import { endpoints } from "@/server/rest/endpoints";
import { restRoute } from "@/server/rest/handler";

export const POST = restRoute(endpoints.cancelRun, async ({ db, principal, params }) => {
  const run = await cancelRun(db, principal, params.id);
  return { id: run.id, status: run.status.toLowerCase() };
});
