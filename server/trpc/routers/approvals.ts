import { z } from "zod";
import { countPendingApprovals, DecideApprovalInput, decideApproval, getApproval, listApprovals, ListApprovalsInput } from "../../domain/approvals/approvals";
import { createTRPCRouter, scopedProcedure } from "../init";

export const approvalsRouter = createTRPCRouter({
  list: scopedProcedure("approvals:read").input(ListApprovalsInput).query(({ ctx, input }) => listApprovals(ctx.db, ctx.principal, input)),
  byId: scopedProcedure("approvals:read")
    .input(z.object({ id: z.string().min(1) }))
    .query(({ ctx, input }) => getApproval(ctx.db, ctx.principal, input.id)),
  pendingCount: scopedProcedure("approvals:read").query(({ ctx }) => countPendingApprovals(ctx.db, ctx.principal)),
  // The client sends intent only (which approval, which decision, optional edits): tool and run are re-read here.
  decide: scopedProcedure("approvals:decide").input(DecideApprovalInput).mutation(({ ctx, input }) => decideApproval(ctx.db, ctx.principal, input)),
});
