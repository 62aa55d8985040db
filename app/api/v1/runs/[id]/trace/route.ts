import { getRunTrace } from "@/server/domain/runs/runs";
import { endpoints } from "@/server/rest/endpoints";
import { restRoute } from "@/server/rest/handler";
import { presentTraceEvent } from "@/server/rest/presenters";

export const GET = restRoute(endpoints.getRunTrace, async ({ db, principal, params }) => ({
  events: (await getRunTrace(db, principal, params.id)).map(presentTraceEvent),
}));
