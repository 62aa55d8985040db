import { z } from "zod";
import { AssignInboxItemInput, assignInboxItem, DecideInboxItemInput, decideInboxItem, getInboxItem, inboxCounts, listInbox, ListInboxInput, markInboxItemRead } from "../../domain/inbox/inbox";
import { createTRPCRouter, scopedProcedure } from "../init";

const ItemId = z.object({ id: z.string().min(1).max(100) });

export const inboxRouter = createTRPCRouter({
  list: scopedProcedure("inbox:read").input(ListInboxInput).query(({ ctx, input }) => listInbox(ctx.db, ctx.principal, input)),
  byId: scopedProcedure("inbox:read").input(ItemId).query(({ ctx, input }) => getInboxItem(ctx.db, ctx.principal, input.id)),
  counts: scopedProcedure("inbox:read").query(({ ctx }) => inboxCounts(ctx.db, ctx.principal)),
  markRead: scopedProcedure("inbox:read").input(ItemId).mutation(({ ctx, input }) => markInboxItemRead(ctx.db, ctx.principal, input.id)),
  assign: scopedProcedure("inbox:decide").input(AssignInboxItemInput).mutation(({ ctx, input }) => assignInboxItem(ctx.db, ctx.principal, input)),
  // Intent only (which item, which decision, the reviewer's edit or feedback): run and commit action are re-read here.
  decide: scopedProcedure("inbox:decide").input(DecideInboxItemInput).mutation(({ ctx, input }) => decideInboxItem(ctx.db, ctx.principal, input)),
});
