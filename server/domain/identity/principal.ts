import { ROLE_SCOPES, type RoleName, type Scope } from "@/lib/scopes";
import type { DbOrTx } from "@/server/db";
import { Forbidden, Unauthorized } from "../errors";

/** Who is acting: a signed-in person (through a membership) or an API key. Every query is scoped by `orgId`. */
export type Principal =
  | {
      kind: "user";
      orgId: string;
      userId: string;
      email: string;
      name: string | null;
      role: RoleName;
      scopes: readonly Scope[];
    }
  | {
      kind: "apiKey";
      orgId: string;
      apiKeyId: string;
      /** The admin who created the key: actions through it are attributed and acted "on behalf of" them. */
      userId: string | null;
      scopes: readonly Scope[];
    };

export function requireScope(principal: Principal | null, scope: Scope): asserts principal is Principal {
  if (!principal) throw new Unauthorized();
  if (!principal.scopes.includes(scope)) {
    throw new Forbidden(`This needs the "${scope}" permission, which ${describePrincipal(principal)} does not have.`);
  }
}

export function describePrincipal(principal: Principal): string {
  if (principal.kind === "apiKey") return "this API key";
  return `the ${principal.role.toLowerCase()} role`;
}

export function actorOf(principal: Principal): { actorType: "USER" | "API_KEY"; actorId: string } {
  return principal.kind === "user"
    ? { actorType: "USER", actorId: principal.userId }
    : { actorType: "API_KEY", actorId: principal.apiKeyId };
}

/**
 * Builds the principal for a signed-in user from the database on every request, so a role change or a revoked
 * membership takes effect at once (a session cookie never carries permissions).
 */
export async function principalForUser(db: DbOrTx, userId: string, preferredOrgId?: string): Promise<Principal | null> {
  const memberships = await db.membership.findMany({
    where: { userId, revokedAt: null, user: { disabledAt: null } },
    include: { user: { select: { email: true, name: true } } },
    orderBy: { createdAt: "asc" },
  });
  const membership = memberships.find((m) => m.orgId === preferredOrgId) ?? memberships[0];
  if (!membership) return null;
  return {
    kind: "user",
    orgId: membership.orgId,
    userId,
    email: membership.user.email,
    name: membership.user.name,
    role: membership.role,
    scopes: ROLE_SCOPES[membership.role],
  };
}
