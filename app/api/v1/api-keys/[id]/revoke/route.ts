import { revokeApiKey } from "@/server/domain/identity/api-keys";
import { endpoints } from "@/server/rest/endpoints";
import { restRoute } from "@/server/rest/handler";
import { presentApiKey } from "@/server/rest/presenters";

export const POST = restRoute(endpoints.revokeApiKey, async ({ db, principal, params }) =>
  presentApiKey(await revokeApiKey(db, principal, params.id)),
);
