import { z } from "zod";
import {
  AcceptInvitationInput,
  ChangeRoleInput,
  InviteMemberInput,
  acceptInvitation,
  changeRole,
  describeInvitation,
  inviteMember,
  listMembers,
  revokeMember,
} from "../../domain/identity/members";
import { createTRPCRouter, publicProcedure, scopedProcedure } from "../init";

export const membersRouter = createTRPCRouter({
  list: scopedProcedure("members:read").query(({ ctx }) => listMembers(ctx.db, ctx.principal)),
  invite: scopedProcedure("members:manage")
    .input(InviteMemberInput)
    .mutation(({ ctx, input }) => inviteMember(ctx.db, ctx.principal, input)),
  changeRole: scopedProcedure("members:manage")
    .input(ChangeRoleInput)
    .mutation(({ ctx, input }) => changeRole(ctx.db, ctx.principal, input)),
  revoke: scopedProcedure("members:manage")
    .input(z.object({ membershipId: z.string().min(1) }))
    .mutation(({ ctx, input }) => revokeMember(ctx.db, ctx.principal, input.membershipId)),
  // Public: the invitee has no account yet; the unguessable token is the credential.
  describeInvitation: publicProcedure
    .input(z.object({ token: z.string().min(20).max(200) }))
    .query(({ ctx, input }) => describeInvitation(ctx.db, input.token)),
  acceptInvitation: publicProcedure.input(AcceptInvitationInput).mutation(({ ctx, input }) => acceptInvitation(ctx.db, input)),
});
