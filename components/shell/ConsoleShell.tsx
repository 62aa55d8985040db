"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { signOut } from "next-auth/react";
import type { ReactNode } from "react";
import {
  IconAdmin,
  IconAgents,
  IconApprovals,
  IconAudit,
  IconDashboard,
  IconInbox,
  IconKnowledge,
  IconMemory,
  IconRuns,
  IconSignOut,
  IconTools,
} from "@/components/ui";
import { cn } from "@/lib/cn";
import { ROLE_LABELS, type RoleName } from "@/lib/scopes";
import { InboxUnreadBadge } from "./InboxUnreadBadge";
import { navFor, type NavIcon } from "./nav";
import { PendingApprovalsBadge } from "./PendingApprovalsBadge";

const ICONS: Record<NavIcon, typeof IconDashboard> = {
  dashboard: IconDashboard,
  inbox: IconInbox,
  approvals: IconApprovals,
  runs: IconRuns,
  agents: IconAgents,
  memory: IconMemory,
  knowledge: IconKnowledge,
  tools: IconTools,
  admin: IconAdmin,
  audit: IconAudit,
};

export interface ConsoleViewer {
  orgName: string;
  email: string;
  name: string | null;
  role: RoleName;
  scopes: readonly string[];
}

function isActive(pathname: string, href: string): boolean {
  return href === "/" ? pathname === "/" : pathname === href || pathname.startsWith(`${href}/`);
}

export function ConsoleShell({ viewer, children }: { viewer: ConsoleViewer; children: ReactNode }) {
  const pathname = usePathname();
  const items = navFor(viewer.scopes);
  return (
    <div className="flex min-h-screen">
      <aside className="sticky top-0 flex h-screen w-56 shrink-0 flex-col border-r border-border bg-surface">
        <div className="flex h-14 items-center gap-2 border-b border-border px-4">
          <span aria-hidden="true" className="flex size-7 items-center justify-center rounded-md bg-gray-900 text-xs font-bold text-white">
            SB
          </span>
          <div className="min-w-0">
            <p className="text-sm leading-tight font-semibold text-gray-950">Switchboard</p>
            <p className="truncate text-xs leading-tight text-fg-subtle" title={viewer.orgName}>
              {viewer.orgName}
            </p>
          </div>
        </div>
        <nav aria-label="Main" className="flex-1 overflow-y-auto p-2">
          <ul className="space-y-0.5">
            {items.map((item) => {
              const Icon = ICONS[item.icon];
              const active = isActive(pathname, item.href);
              return (
                <li key={item.href}>
                  <Link
                    href={item.href}
                    aria-current={active ? "page" : undefined}
                    className={cn(
                      "flex h-8 items-center gap-2.5 rounded-md px-2.5 text-sm transition-colors",
                      active ? "bg-accent-50 font-medium text-accent-700" : "text-fg-muted hover:bg-subtle hover:text-fg",
                    )}
                  >
                    <Icon size={16} />
                    {item.label}
                    {item.badge === "pendingApprovals" ? <PendingApprovalsBadge /> : null}
                    {item.badge === "inboxUnread" ? <InboxUnreadBadge /> : null}
                  </Link>
                </li>
              );
            })}
          </ul>
        </nav>
        <div className="border-t border-border p-3">
          <div className="mb-2 min-w-0 px-1">
            <p className="truncate text-sm font-medium text-fg" title={viewer.email}>
              {viewer.name ?? viewer.email}
            </p>
            <p className="truncate text-xs text-fg-subtle">
              {viewer.email} · {ROLE_LABELS[viewer.role]}
            </p>
          </div>
          <button
            type="button"
            onClick={() => void signOut({ callbackUrl: "/sign-in" })}
            className="flex h-8 w-full items-center gap-2.5 rounded-md px-2.5 text-sm text-fg-muted hover:bg-subtle hover:text-fg"
          >
            <IconSignOut size={16} />
            Sign out
          </button>
        </div>
      </aside>
      <main className="min-w-0 flex-1">
        <div className="mx-auto max-w-6xl px-8 py-8">{children}</div>
      </main>
    </div>
  );
}
