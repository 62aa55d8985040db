import { decideApproval, getApproval } from "@/server/domain/approvals/approvals";
import { endpoints } from "@/server/rest/endpoints";
import { restRoute } from "@/server/rest/handler";
import { presentApproval } from "@/server/rest/presenters";

export const GET = restRoute(endpoints.getApproval, async ({ db, principal, params }) => presentApproval(await getApproval(db, principal, params.id)));

export const POST = restRoute(endpoints.decideApproval, async ({ db, principal, params, body }) =>
  presentApproval(await decideApproval(db, principal, { approvalId: params.id, decision: body.decision, args: body.args, comment: body.comment })),
);
