"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/lib/trpc";

/**
 * Drafts nobody has opened yet, in the accent colour; when all are read but some still wait for a decision, their
 * number in grey. Hidden when nothing waits. Polls so the sidebar notices new drafts on any page.
 */
export function InboxUnreadBadge() {
  const trpc = useTRPC();
  const counts = useQuery({ ...trpc.inbox.counts.queryOptions(), refetchInterval: 5_000, staleTime: 4_000 });
  if (!counts.data || counts.data.pending === 0) return null;
  const { pending, unread } = counts.data;
  const shown = (n: number) => (n > 99 ? "99+" : n);
  if (unread > 0) {
    return (
      <span
        data-testid="inbox-unread-count"
        title={`${unread} unread of ${pending} waiting for review`}
        className="ml-auto inline-flex h-5 min-w-5 items-center justify-center rounded-full bg-accent-600 px-1.5 text-[11px] leading-none font-semibold text-white tabular-nums"
      >
        {shown(unread)}
        <span className="sr-only"> unread</span>
      </span>
    );
  }
  return (
    <span
      data-testid="inbox-pending-count"
      title={`${pending} waiting for review, all opened`}
      className="ml-auto inline-flex h-5 min-w-5 items-center justify-center rounded-full bg-gray-200 px-1.5 text-[11px] leading-none font-semibold text-gray-700 tabular-nums"
    >
      {shown(pending)}
      <span className="sr-only"> waiting</span>
    </span>
  );
}
