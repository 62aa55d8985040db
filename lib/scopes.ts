/**
 * Typed permission scopes, shared by the server (requireScope) and the UI (hasScope hides what a role can't do).
 * Browser-safe: no server imports.
 */
export const SCOPES = [
  "agents:read",
  "agents:write",
  "runs:read",
  "runs:write",
  "runs:cancel",
  "approvals:read",
  "approvals:decide",
  "inbox:read",
  "inbox:decide",
  "memory:read",
  "memory:write",
  "memory:delete",
  "tools:read",
  "tools:manage",
  "models:manage",
  "secrets:manage",
  "policies:read",
  "policies:manage",
  "spend:read",
  "spend:manage",
  "members:read",
  "members:manage",
  "apikeys:manage",
  "audit:read",
] as const;

export type Scope = (typeof SCOPES)[number];

export const ROLES = ["OWNER", "ADMIN", "SUPERVISOR", "MEMBER"] as const;
export type RoleName = (typeof ROLES)[number];

const READ_ALL: Scope[] = SCOPES.filter((scope) => scope.endsWith(":read"));

export const ROLE_SCOPES: Record<RoleName, readonly Scope[]> = {
  OWNER: SCOPES,
  ADMIN: SCOPES,
  SUPERVISOR: [
    ...READ_ALL,
    "runs:write",
    "runs:cancel",
    "approvals:decide",
    "inbox:decide",
    "memory:write",
    "memory:delete",
  ],
  MEMBER: ["agents:read", "runs:read", "runs:write", "runs:cancel", "approvals:read", "inbox:read", "memory:read", "tools:read"],
};

export const ROLE_LABELS: Record<RoleName, string> = {
  OWNER: "Owner",
  ADMIN: "Admin",
  SUPERVISOR: "Supervisor",
  MEMBER: "Member",
};

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

export function hasScope(holder: { scopes: readonly string[] } | null | undefined, scope: Scope): boolean {
  return Boolean(holder?.scopes.includes(scope));
}

/** Admin area = anything that changes who may do what. */
export const ADMIN_AREA_SCOPES: readonly Scope[] = ["members:manage", "apikeys:manage"];
