"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/lib/trpc";

/** How many tool calls wait for a person; hidden at zero. Polls so the sidebar notices new ones on any page. */
export function PendingApprovalsBadge() {
  const trpc = useTRPC();
  const count = useQuery({ ...trpc.approvals.pendingCount.queryOptions(), refetchInterval: 5_000, staleTime: 4_000 });
  if (!count.data) return null;
  return (
    <span
      data-testid="pending-approvals-count"
      className="ml-auto inline-flex h-5 min-w-5 items-center justify-center rounded-full bg-warning-500 px-1.5 text-[11px] leading-none font-semibold text-white tabular-nums"
    >
      {count.data > 99 ? "99+" : count.data}
      <span className="sr-only"> pending</span>
    </span>
  );
}
