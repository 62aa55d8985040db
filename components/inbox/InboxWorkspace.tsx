"use client";

import { keepPreviousData, useInfiniteQuery, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useParams, useRouter, useSearchParams } from "next/navigation";
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { Button, EmptyState, IconInbox, IconInfo, PageHeader, Spinner } from "@/components/ui";
import { hasScope } from "@/lib/scopes";
import { messageOf, useTRPC } from "@/lib/trpc";
import { KeyHints } from "./DecisionParts";
import { InboxFilterBar, InboxTabs } from "./InboxFilterBar";
import { InboxList } from "./InboxList";
import { InboxReview, type ReviewHandle } from "./InboxReview";
import {
  DEFAULT_FILTERS,
  filtersFromParams,
  filtersToSearch,
  hasNarrowingFilters,
  isTypingTarget,
  itemHref,
  LIST_POLL_MS,
  listInputOf,
  neighbourId,
  TAB_LABELS,
  type InboxFilters,
  type Person,
} from "./shared";

/** The current time, re-read every `everyMs`, so "waiting 3 min" moves on between polls that change nothing. */
function useNow(everyMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), everyMs);
    return () => window.clearInterval(timer);
  }, [everyMs]);
  return now;
}

const EMPTY_TEXT: Record<InboxFilters["tab"], { title: string; description: string }> = {
  open: {
    title: "Nothing to review",
    description: "When an agent drafts an email, a document or a ticket reply for a person to check, it waits here until someone accepts it, asks for changes or discards it.",
  },
  accepted: { title: "Nothing accepted yet", description: "Drafts someone accepted are listed here, newest first, with what the run did with them." },
  discarded: { title: "Nothing discarded", description: "Drafts someone discarded (or whose run ended before anyone decided) are listed here." },
  all: { title: "No drafts yet", description: "Every draft an agent submits for review is listed here, whatever became of it." },
};

/**
 * The inbox: the list of drafts and, for the one in the URL (/inbox/<id>), its review. Side by side on wide screens
 * (j/k walk the list), one at a time on narrow ones. Filters live in the query string so links can preset them.
 */
export function InboxWorkspace({ children }: { children?: ReactNode }) {
  const trpc = useTRPC();
  const router = useRouter();
  const params = useParams<{ id?: string }>();
  const selectedId = typeof params.id === "string" ? params.id : null;
  const searchParams = useSearchParams();
  const filters = useMemo(() => filtersFromParams(searchParams), [searchParams]);
  const search = filtersToSearch(filters);
  const now = useNow(5_000);

  const me = useQuery(trpc.me.get.queryOptions());
  const meId = me.data?.user?.id ?? null;
  const canDecide = hasScope(me.data, "inbox:decide");
  const agents = useQuery(trpc.agents.list.queryOptions());
  const membersQuery = useQuery({ ...trpc.members.list.queryOptions(), enabled: hasScope(me.data, "members:read"), staleTime: 60_000 });
  const members = useMemo<Person[]>(
    () => (membersQuery.data?.members ?? []).filter((m) => m.revokedAt === null && m.user.disabledAt === null).map((m) => ({ id: m.user.id, email: m.user.email, name: m.user.name })),
    [membersQuery.data],
  );
  const counts = useQuery({ ...trpc.inbox.counts.queryOptions(), refetchInterval: 5_000, staleTime: 4_000 });

  const list = useInfiniteQuery(
    trpc.inbox.list.infiniteQueryOptions(listInputOf(filters), {
      getNextPageParam: (last) => last.nextCursor ?? undefined,
      placeholderData: keepPreviousData,
      refetchInterval: filters.tab === "open" || filters.tab === "all" ? LIST_POLL_MS : 10_000,
    }),
  );
  const items = useMemo(() => list.data?.pages.flatMap((page) => page.items) ?? [], [list.data]);
  const ids = useMemo(() => items.map((item) => item.id), [items]);

  // Where the open item sat in the list, so j/k still work once a decision has taken it out of the Open tab.
  const lastIndex = useRef<{ id: string; index: number } | null>(null);
  const currentIndex = selectedId ? ids.indexOf(selectedId) : -1;
  if (selectedId && currentIndex >= 0 && (lastIndex.current?.id !== selectedId || lastIndex.current.index !== currentIndex)) {
    lastIndex.current = { id: selectedId, index: currentIndex };
  }
  const rememberedIndex = selectedId && lastIndex.current?.id === selectedId ? lastIndex.current.index : null;
  const nextId = neighbourId(ids, selectedId, rememberedIndex, 1);
  const previousId = neighbourId(ids, selectedId, rememberedIndex, -1);

  const go = useCallback(
    (id: string | null) => {
      if (!id) return;
      router.push(itemHref(id, search), { scroll: false });
      window.scrollTo({ top: 0 });
      document.getElementById(`inbox-row-${id}`)?.scrollIntoView({ block: "nearest" });
    },
    [router, search],
  );
  const setFilters = (next: InboxFilters) => router.replace(itemHref(selectedId, filtersToSearch(next)), { scroll: false });

  const review = useRef<ReviewHandle>(null);
  const keys = useRef({ nextId, previousId, go });
  keys.current = { nextId, previousId, go };
  useEffect(() => {
    function onKey(event: KeyboardEvent) {
      if (event.defaultPrevented || event.metaKey || event.ctrlKey || event.altKey || isTypingTarget(event.target)) return;
      // A dialog (discard confirmation) owns the keyboard while it is open.
      if (document.querySelector("dialog[open]")) return;
      const { nextId: next, previousId: previous, go: open } = keys.current;
      const actions: Record<string, (() => void) | undefined> = {
        j: next ? () => open(next) : undefined,
        k: previous ? () => open(previous) : undefined,
        a: review.current?.accept,
        e: review.current?.edit,
        r: review.current?.requestChanges,
        d: review.current?.discard,
      };
      const action = actions[event.key];
      if (!action) return;
      event.preventDefault();
      action();
    }
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  const selectedInList = currentIndex >= 0;
  const emptyText = EMPTY_TEXT[filters.tab];
  const narrowed = hasNarrowingFilters(filters);

  const listPane = list.isPending ? (
    <Spinner label="Loading the inbox" showLabel />
  ) : list.isError ? (
    <p role="alert" className="text-sm text-danger-700">{messageOf(list.error)}</p>
  ) : items.length === 0 ? (
    narrowed ? (
      <EmptyState
        icon={<IconInbox />}
        title="No drafts match these filters"
        description={`Nothing under ${TAB_LABELS[filters.tab]} fits them right now. New drafts appear as soon as agents submit them.`}
        action={<Button onClick={() => setFilters({ ...DEFAULT_FILTERS, tab: filters.tab })}>Clear filters</Button>}
      />
    ) : (
      <EmptyState icon={<IconInbox />} title={emptyText.title} description={emptyText.description} />
    )
  ) : (
    <>
      <p className="mb-2 text-xs text-fg-subtle">
        {filters.tab === "open" ? "Oldest first" : "Newest first"} · updates live
        {list.hasNextPage ? ` · showing ${items.length}` : ` · ${items.length} draft${items.length === 1 ? "" : "s"}`}
      </p>
      <InboxList items={items} selectedId={selectedId} search={search} now={now} meId={meId} label={`${TAB_LABELS[filters.tab]} drafts`} />
      {list.hasNextPage ? (
        <div className="mt-3 flex justify-center">
          <Button size="sm" loading={list.isFetchingNextPage} onClick={() => void list.fetchNextPage()}>Show more</Button>
        </div>
      ) : null}
    </>
  );

  return (
    <div className="space-y-6">
      <PageHeader
        title="Inbox"
        description="Work your agents drafted for a person to review. Accepting carries it out; asking for changes sends it back to the agent with your feedback."
      />

      {me.isSuccess && !canDecide && !selectedId ? (
        <p role="note" className="flex items-start gap-2 rounded-md border border-info-200 bg-info-50 px-3 py-2 text-sm text-info-800">
          <IconInfo className="mt-0.5 shrink-0" />
          You can read the drafts, but deciding needs a supervisor, admin or owner.
        </p>
      ) : null}

      <div className={selectedId ? "hidden space-y-4 xl:block" : "space-y-4"}>
        <InboxTabs tab={filters.tab} pending={counts.data?.pending} onChange={(tab) => setFilters({ ...filters, tab, openView: "open" })} />
        <InboxFilterBar filters={filters} agents={agents.data ?? []} members={members} meId={meId} onChange={setFilters} />
      </div>

      <div className="xl:grid xl:grid-cols-[minmax(0,24rem)_minmax(0,1fr)] xl:items-start xl:gap-6">
        <section id="inbox-panel" role="tabpanel" aria-labelledby={`inbox-tab-${filters.tab}`} className={selectedId ? "hidden xl:block" : undefined}>
          <div className="xl:sticky xl:top-6 xl:max-h-[calc(100dvh-3rem)] xl:overflow-y-auto xl:pb-1">
            {listPane}
            <div className="mt-3 hidden md:block">
              <KeyHints move decide={false} />
            </div>
          </div>
        </section>

        <section aria-label="Review" className={selectedId ? undefined : "hidden xl:block"}>
          {selectedId ? (
            <>
              <Link href={itemHref(null, search)} className="mb-3 inline-flex items-center gap-1 text-sm font-medium text-accent-700 hover:underline xl:hidden">
                ← All drafts
              </Link>
              <InboxReview
                key={selectedId}
                id={selectedId}
                ref={review}
                meId={meId}
                canDecide={canDecide}
                members={members}
                position={selectedInList ? { index: currentIndex, total: items.length } : null}
                onNext={nextId ? () => go(nextId) : null}
                onPrevious={previousId ? () => go(previousId) : null}
                backHref={itemHref(null, search)}
              />
            </>
          ) : (
            <EmptyState
              icon={<IconInbox />}
              title={items.length > 0 ? "Pick a draft to review" : "Nothing selected"}
              description={items.length > 0 ? "Open one from the list, or press j to start with the first." : "Drafts open here, next to the list, as you work through them."}
            />
          )}
        </section>
      </div>
      {children}
    </div>
  );
}
