import { ADMIN_AREA_SCOPES, hasScope, type Scope } from "@/lib/scopes";

export type NavIcon = "dashboard" | "inbox" | "approvals" | "runs" | "agents" | "memory" | "knowledge" | "tools" | "admin" | "audit";

export interface NavItem {
  href: string;
  label: string;
  icon: NavIcon;
  /** Shown when the viewer holds any of these scopes. */
  anyOf: readonly Scope[];
  /** A live count shown next to the label. */
  badge?: "pendingApprovals" | "inboxUnread";
}

export const NAV_ITEMS: readonly NavItem[] = [
  { href: "/", label: "Dashboard", icon: "dashboard", anyOf: ["runs:read"] },
  { href: "/inbox", label: "Inbox", icon: "inbox", anyOf: ["inbox:read"], badge: "inboxUnread" },
  { href: "/approvals", label: "Approvals", icon: "approvals", anyOf: ["approvals:read"], badge: "pendingApprovals" },
  { href: "/runs", label: "Runs", icon: "runs", anyOf: ["runs:read"] },
  { href: "/agents", label: "Agents", icon: "agents", anyOf: ["agents:read"] },
  { href: "/memory", label: "Memory", icon: "memory", anyOf: ["memory:read"] },
  { href: "/knowledge", label: "Knowledge", icon: "knowledge", anyOf: ["memory:read"] },
  { href: "/tools", label: "Tools", icon: "tools", anyOf: ["tools:read"] },
  { href: "/admin", label: "Admin", icon: "admin", anyOf: ADMIN_AREA_SCOPES },
  { href: "/audit", label: "Audit", icon: "audit", anyOf: ["audit:read"] },
];

export function navFor(scopes: readonly string[]): NavItem[] {
  return NAV_ITEMS.filter((item) => item.anyOf.some((scope) => hasScope({ scopes }, scope)));
}
