import { listInbox, type DraftKindName, type InboxStatusName } from "@/server/domain/inbox/inbox";
import { endpoints } from "@/server/rest/endpoints";
import { restRoute } from "@/server/rest/handler";
import { presentInboxSummary } from "@/server/rest/presenters";

export const GET = restRoute(endpoints.listInbox, async ({ db, principal, query }) => {
  const page = await listInbox(db, principal, {
    status: query.status?.toUpperCase() as InboxStatusName | "OPEN" | undefined,
    assignee: query.assignee,
    minAgeHours: query.minAgeHours,
    kind: query.kind?.toUpperCase() as DraftKindName | undefined,
    agentId: query.agent,
    limit: query.limit,
    cursor: query.cursor,
  });
  return { items: page.items.map(presentInboxSummary), nextCursor: page.nextCursor };
});
