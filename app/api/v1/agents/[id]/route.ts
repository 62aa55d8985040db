import { getAgent } from "@/server/domain/agents/agents";
import { endpoints } from "@/server/rest/endpoints";
import { restRoute } from "@/server/rest/handler";
import { presentAgent } from "@/server/rest/presenters";

export const GET = restRoute(endpoints.getAgent, async ({ db, principal, params }) =>
  presentAgent(await getAgent(db, principal, params.id)),
);
