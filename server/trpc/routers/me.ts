import { createTRPCRouter, protectedProcedure } from "../init";

export const meRouter = createTRPCRouter({
  get: protectedProcedure.query(async ({ ctx }) => {
    const org = await ctx.db.org.findUniqueOrThrow({ where: { id: ctx.principal.orgId }, select: { id: true, name: true, slug: true } });
    const { principal } = ctx;
    return {
      org,
      kind: principal.kind,
      scopes: principal.scopes,
      user:
        principal.kind === "user"
          ? { id: principal.userId, email: principal.email, name: principal.name, role: principal.role }
          : null,
    };
  }),
});
