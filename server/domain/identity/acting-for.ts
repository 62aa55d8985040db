import { ROLE_SCOPES, type RoleName } from "@/lib/scopes";
import type { DbOrTx } from "@/server/db";

/**
 * The identity gate of every tool call: an agent acts on behalf of a user, so it may act only while that user may —
 * an active account with an unrevoked membership whose role can run agents. Approval never widens this.
 * Returns null when the user may act, else the reason in words a supervisor understands.
 */
export async function userMayActFor(db: DbOrTx, orgId: string, userId: string): Promise<string | null> {
  const membership = await db.membership.findFirst({
    where: { orgId, userId },
    select: { role: true, revokedAt: true, user: { select: { email: true, disabledAt: true } } },
  });
  return refusalToActFor(membership ? { role: membership.role, revokedAt: membership.revokedAt, email: membership.user.email, disabledAt: membership.user.disabledAt } : null);
}

/** The membership facts the identity gate judges (null: not a member at all). */
export interface ActingMembership {
  role: RoleName;
  revokedAt: Date | string | null;
  email: string;
  disabledAt: Date | string | null;
}

/** userMayActFor's judgement on facts already read (the kernel reads them with the rest of a tool call's gate). */
export function refusalToActFor(membership: ActingMembership | null): string | null {
  if (!membership) return "This run acts on behalf of someone who is not a member of this organisation.";
  const who = membership.email;
  if (membership.disabledAt) return `This run acts on behalf of ${who}, whose account is disabled; the agent cannot act for them.`;
  if (membership.revokedAt) return `This run acts on behalf of ${who}, whose access to this organisation was revoked; the agent cannot act for them any more.`;
  if (!ROLE_SCOPES[membership.role].includes("runs:write")) return `This run acts on behalf of ${who}, whose role may no longer run agents.`;
  return null;
}
