import { decideInboxItem, getInboxItem } from "@/server/domain/inbox/inbox";
import { endpoints } from "@/server/rest/endpoints";
import { restRoute } from "@/server/rest/handler";
import { presentInboxItem } from "@/server/rest/presenters";

export const GET = restRoute(endpoints.getInboxItem, async ({ db, principal, params }) => presentInboxItem(await getInboxItem(db, principal, params.id)));

export const POST = restRoute(endpoints.decideInboxItem, async ({ db, principal, params, body }) =>
  presentInboxItem(await decideInboxItem(db, principal, { itemId: params.id, ...body })),
);
