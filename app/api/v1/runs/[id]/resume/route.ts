import { resumeRun } from "@/server/domain/runs/runs";
import { endpoints } from "@/server/rest/endpoints";
import { restRoute } from "@/server/rest/handler";

export const POST = restRoute(endpoints.resumeRun, async ({ db, principal, params }) => {
  const run = await resumeRun(db, principal, params.id);
  return { id: run.id, status: run.status.toLowerCase() };
});
