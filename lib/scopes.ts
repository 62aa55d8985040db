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

/** The admin area's sections and the scope each needs; a section is shown only to those who hold it. */
export const ADMIN_SECTIONS = [
  { href: "/admin/members", label: "Members", scope: "members:manage" },
  { href: "/admin/api-keys", label: "API keys", scope: "apikeys:manage" },
  { href: "/admin/models", label: "Models", scope: "models:manage" },
  // Supervisors read the rules they work under and the budgets they resume runs against.
  { href: "/admin/policies", label: "Policies", scope: "policies:read" },
  { href: "/admin/spend", label: "Spend", scope: "spend:read" },
] as const satisfies readonly { href: string; label: string; scope: Scope }[];

/** Admin area = anything that changes (or, for supervisors, shows) who may do what and what it may cost. */
export const ADMIN_AREA_SCOPES: readonly Scope[] = ADMIN_SECTIONS.map((section) => section.scope);
