import type { DbOrTx } from "@/server/db";
import { appendAudit } from "../audit/audit-log";

/**
 * SSO signs in people an admin already invited or added: the verified email must belong to a user with an active
 * membership. Returns that user's id (after recording the OIDC account link), or null to refuse the sign-in.
 */
export async function linkOidcAccount(
  db: DbOrTx,
  input: { email: string; name: string | null; providerAccountId: string },
): Promise<string | null> {
  const user = await db.user.findUnique({
    where: { email: input.email.toLowerCase() },
    select: { id: true, name: true, disabledAt: true, memberships: { where: { revokedAt: null }, take: 1, select: { orgId: true } } },
  });
  const membership = user?.memberships[0];
  if (!user || user.disabledAt || !membership) return null;
  await db.account.upsert({
    where: { provider_providerAccountId: { provider: "oidc", providerAccountId: input.providerAccountId } },
    create: { userId: user.id, type: "oauth", provider: "oidc", providerAccountId: input.providerAccountId },
    update: {},
  });
  if (!user.name && input.name) await db.user.update({ where: { id: user.id }, data: { name: input.name } });
  await appendAudit(db, { orgId: membership.orgId, action: "auth.sign_in", actorType: "USER", actorId: user.id, data: { via: "oidc" } });
  return user.id;
}
