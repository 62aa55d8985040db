import { ListAuditInput, getAuditFacets, listAuditEvents } from "../../domain/audit/audit-query";
import { createTRPCRouter, scopedProcedure } from "../init";

export const auditRouter = createTRPCRouter({
  list: scopedProcedure("audit:read").input(ListAuditInput).query(({ ctx, input }) => listAuditEvents(ctx.db, ctx.principal, input)),
  facets: scopedProcedure("audit:read").query(({ ctx }) => getAuditFacets(ctx.db, ctx.principal)),
});
