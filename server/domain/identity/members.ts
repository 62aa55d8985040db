import crypto from "node:crypto";
import { z } from "zod";
import { ROLES, type RoleName } from "@/lib/scopes";
import { inTransaction, type DbOrTx } from "@/server/db";
import { Conflict, Forbidden, InvalidInput, NotFound } from "../errors";
import { appendAudit } from "../audit/audit-log";
import { sha256Hex } from "../canonical";
import { hashPassword, PasswordSchema } from "./passwords";
import { actorOf, requireScope, type Principal } from "./principal";

const INVITATION_TTL_MS = 7 * 24 * 60 * 60 * 1000;

export const InviteMemberInput = z.object({
  email: z.string().trim().toLowerCase().pipe(z.email("Enter a valid email address.")),
  role: z.enum(ROLES),
});
export type InviteMemberInput = z.infer<typeof InviteMemberInput>;

export const AcceptInvitationInput = z.object({
  token: z.string().min(20).max(200),
  name: z.string().trim().min(1, "Enter your name.").max(100),
  password: PasswordSchema,
});
export type AcceptInvitationInput = z.infer<typeof AcceptInvitationInput>;

export const ChangeRoleInput = z.object({ membershipId: z.string().min(1), role: z.enum(ROLES) });
export type ChangeRoleInput = z.infer<typeof ChangeRoleInput>;

export async function listMembers(db: DbOrTx, principal: Principal) {
  requireScope(principal, "members:read");
  const [members, invitations] = await Promise.all([
    db.membership.findMany({
      where: { orgId: principal.orgId },
      select: {
        id: true,
        role: true,
        revokedAt: true,
        createdAt: true,
        user: { select: { id: true, email: true, name: true, disabledAt: true } },
      },
      orderBy: { createdAt: "asc" },
    }),
    db.invitation.findMany({
      where: { orgId: principal.orgId, acceptedAt: null, expiresAt: { gt: new Date() } },
      select: { id: true, email: true, role: true, expiresAt: true, createdAt: true },
      orderBy: { createdAt: "desc" },
    }),
  ]);
  return { members, invitations };
}

/** Only an owner may create or promote owners; admins manage everyone else. */
function assertMayAssign(principal: Principal, role: RoleName): void {
  if (role === "OWNER" && !(principal.kind === "user" && principal.role === "OWNER")) {
    throw new Forbidden("Only an owner can make someone an owner.");
  }
}

/**
 * Creates an invitation and returns the one-time token for the set-password link. Switchboard sends no email:
 * the admin passes the link on, so the token is shown once and only its hash is stored.
 */
export async function inviteMember(db: DbOrTx, principal: Principal, input: InviteMemberInput) {
  requireScope(principal, "members:manage");
  assertMayAssign(principal, input.role);
  const existing = await db.membership.findFirst({
    where: { orgId: principal.orgId, user: { email: input.email }, revokedAt: null },
    select: { id: true },
  });
  if (existing) throw new InvalidInput(`${input.email} is already a member.`, { email: ["Already a member of this organisation."] });
  const token = crypto.randomBytes(32).toString("base64url");
  const invitation = await db.invitation.create({
    data: {
      orgId: principal.orgId,
      email: input.email,
      role: input.role,
      tokenHash: sha256Hex(token),
      invitedById: principal.userId,
      expiresAt: new Date(Date.now() + INVITATION_TTL_MS),
    },
    select: { id: true, email: true, role: true, expiresAt: true },
  });
  await appendAudit(db, {
    orgId: principal.orgId,
    action: "member.invited",
    ...actorOf(principal),
    targetType: "Invitation",
    targetId: invitation.id,
    data: { email: input.email, role: input.role },
  });
  return { invitation, token };
}

export async function describeInvitation(db: DbOrTx, token: string) {
  const invitation = await db.invitation.findUnique({
    where: { tokenHash: sha256Hex(token) },
    select: { email: true, role: true, expiresAt: true, acceptedAt: true, org: { select: { name: true } } },
  });
  if (!invitation || invitation.acceptedAt || invitation.expiresAt <= new Date()) {
    throw new NotFound("Invitation");
  }
  return { email: invitation.email, role: invitation.role, orgName: invitation.org.name };
}

/** Sets the invitee's password (creating the user when new) and grants the membership, exactly once. */
export async function acceptInvitation(root: DbOrTx, input: AcceptInvitationInput) {
  // Look the token up before hashing the password: hashing is slow on purpose, and anyone (this is public) could
  // otherwise make the server hash passwords for made-up tokens. The transaction below checks the token again.
  const known = await root.invitation.findUnique({ where: { tokenHash: sha256Hex(input.token) }, select: { id: true } });
  if (!known) throw new NotFound("Invitation");
  const passwordHash = await hashPassword(input.password);
  return inTransaction(root, async (db) => {
  const tokenHash = sha256Hex(input.token);
  const invitation = await db.invitation.findUnique({ where: { tokenHash }, omit: { tokenHash: true } });
  if (!invitation || invitation.acceptedAt || invitation.expiresAt <= new Date()) {
    throw new NotFound("Invitation");
  }
  // CAS on acceptedAt: two tabs submitting the same link must not both succeed.
  const { count } = await db.invitation.updateMany({
    where: { id: invitation.id, acceptedAt: null },
    data: { acceptedAt: new Date() },
  });
  if (count === 0) throw new Conflict("This invitation has already been used.");
  const user = await db.user.upsert({
    where: { email: invitation.email },
    create: { email: invitation.email, name: input.name, passwordHash },
    update: { name: input.name, passwordHash },
    select: { id: true, email: true },
  });
  await db.membership.upsert({
    where: { orgId_userId: { orgId: invitation.orgId, userId: user.id } },
    create: { orgId: invitation.orgId, userId: user.id, role: invitation.role },
    update: { role: invitation.role, revokedAt: null },
  });
  await appendAudit(db, {
    orgId: invitation.orgId,
    action: "member.joined",
    actorType: "USER",
    actorId: user.id,
    targetType: "Invitation",
    targetId: invitation.id,
    data: { email: user.email, role: invitation.role },
  });
  return { email: user.email };
  });
}

async function findMembership(db: DbOrTx, principal: Principal, membershipId: string) {
  const membership = await db.membership.findFirst({
    where: { id: membershipId, orgId: principal.orgId },
    select: { id: true, role: true, userId: true, revokedAt: true, user: { select: { email: true } } },
  });
  if (!membership) throw new NotFound("Member");
  return membership;
}

async function assertNotLastOwner(db: DbOrTx, orgId: string, membership: { role: RoleName; id: string }) {
  if (membership.role !== "OWNER") return;
  const owners = await db.membership.count({ where: { orgId, role: "OWNER", revokedAt: null, id: { not: membership.id } } });
  if (owners === 0) throw new Conflict("An organisation needs at least one owner. Make someone else an owner first.");
}

export async function changeRole(db: DbOrTx, principal: Principal, input: ChangeRoleInput) {
  requireScope(principal, "members:manage");
  const membership = await findMembership(db, principal, input.membershipId);
  assertMayAssign(principal, input.role);
  if (membership.role === "OWNER") assertMayAssign(principal, "OWNER");
  if (input.role !== "OWNER") await assertNotLastOwner(db, principal.orgId, membership);
  const { count } = await db.membership.updateMany({
    where: { id: membership.id, orgId: principal.orgId, role: membership.role },
    data: { role: input.role },
  });
  if (count === 0) throw new Conflict("Someone else changed this member's role just now. Reload and try again.");
  await appendAudit(db, {
    orgId: principal.orgId,
    action: "member.role_changed",
    ...actorOf(principal),
    targetType: "Membership",
    targetId: membership.id,
    data: { email: membership.user.email, from: membership.role, to: input.role },
  });
}

export async function revokeMember(db: DbOrTx, principal: Principal, membershipId: string) {
  requireScope(principal, "members:manage");
  const membership = await findMembership(db, principal, membershipId);
  if (principal.kind === "user" && membership.userId === principal.userId) {
    throw new InvalidInput("You cannot remove yourself. Ask another admin.");
  }
  if (membership.role === "OWNER") assertMayAssign(principal, "OWNER");
  await assertNotLastOwner(db, principal.orgId, membership);
  const { count } = await db.membership.updateMany({
    where: { id: membership.id, orgId: principal.orgId, revokedAt: null },
    data: { revokedAt: new Date() },
  });
  if (count === 0) throw new Conflict("This member's access is already revoked.");
  await appendAudit(db, {
    orgId: principal.orgId,
    action: "member.revoked",
    ...actorOf(principal),
    targetType: "Membership",
    targetId: membership.id,
    data: { email: membership.user.email },
  });
}
