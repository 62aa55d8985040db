import { DashboardInput, getDashboard } from "../../domain/dashboard/dashboard";
import { createTRPCRouter, scopedProcedure } from "../init";

export const dashboardRouter = createTRPCRouter({
  get: scopedProcedure("runs:read").input(DashboardInput).query(({ ctx, input }) => getDashboard(ctx.db, ctx.principal, input)),
});
