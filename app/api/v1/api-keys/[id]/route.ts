import { getApiKey } from "@/server/domain/identity/api-keys";
import { endpoints } from "@/server/rest/endpoints";
import { restRoute } from "@/server/rest/handler";
import { presentApiKey } from "@/server/rest/presenters";

export const GET = restRoute(endpoints.getApiKey, async ({ db, principal, params }) => presentApiKey(await getApiKey(db, principal, params.id)));
