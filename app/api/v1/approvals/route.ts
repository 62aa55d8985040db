import { listApprovals, type ApprovalStatusName } from "@/server/domain/approvals/approvals";
import { endpoints } from "@/server/rest/endpoints";
import { restRoute } from "@/server/rest/handler";
import { presentApproval } from "@/server/rest/presenters";

export const GET = restRoute(endpoints.listApprovals, async ({ db, principal, query }) => {
  const status = query.status?.toUpperCase() as ApprovalStatusName | undefined;
  const page = await listApprovals(db, principal, { status, runId: query.runId, limit: query.limit, cursor: query.cursor });
  return { items: page.items.map(presentApproval), nextCursor: page.nextCursor };
});
