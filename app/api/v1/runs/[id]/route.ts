import { getRun } from "@/server/domain/runs/runs";
import { endpoints } from "@/server/rest/endpoints";
import { restRoute } from "@/server/rest/handler";
import { presentRun } from "@/server/rest/presenters";

export const GET = restRoute(endpoints.getRun, async ({ db, principal, params }) => presentRun(await getRun(db, principal, params.id)));
