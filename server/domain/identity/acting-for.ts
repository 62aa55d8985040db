import { ROLE_SCOPES } from "@/lib/scopes";
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
  if (!membership) return "This run acts on behalf of someone who is not a member of this organisation.";
  const who = membership.user.email;
  if (membership.user.disabledAt) return `This run acts on behalf of ${who}, whose account is disabled; the agent cannot act for them.`;
  if (membership.revokedAt) return `This run acts on behalf of ${who}, whose access to this organisation was revoked; the agent cannot act for them any more.`;
  if (!ROLE_SCOPES[membership.role].includes("runs:write")) return `This run acts on behalf of ${who}, whose role may no longer run agents.`;
  return null;
}
