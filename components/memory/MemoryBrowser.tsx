"use client";

import { keepPreviousData, useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { useEffect, useMemo, useRef, useState } from "react";
import { Badge, Button, EmptyState, IconMemory, IconPlus, PageHeader, Spinner, Table, TBody, TD, TH, THead, TR, useToast } from "@/components/ui";
import { formatDateTime, formatRelative } from "@/lib/format";
import { hasScope } from "@/lib/scopes";
import { messageOf, useTRPC } from "@/lib/trpc";
import { AddMemoryDialog, DeleteMemoriesDialog, EditMemoryDialog, type EditableMemory } from "./MemoryDialogs";
import { MemoryFilterBar, MemorySearchBox } from "./MemoryFilterBar";
import { ExpiryText, Highlighted, IconPencil, IconPin, IconTrash, KindBadge, PinnedBadge, ScopeBadge, SourceLink } from "./MemoryParts";
import { DEFAULT_FILTERS, filtersFromParams, filtersToSearch, hasNarrowingFilters, memoryCount, ownerText, searchInputOf, type MemoryFilters, type MemoryItem } from "./shared";

const SEARCH_DEBOUNCE_MS = 300;

/** Up to 120 characters of a memory, for confirmations and labels. */
function preview(content: string, max = 120): string {
  return content.length > max ? `${content.slice(0, max - 1)}…` : content;
}

export function MemoryBrowser() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { toast } = useToast();
  const searchParams = useSearchParams();
  const urlFilters = useMemo(() => filtersFromParams(searchParams), [searchParams]);
  // The filters live in the URL, but Next passes a replaceState on to useSearchParams only a moment later: the
  // controls follow local state at once (a checkbox must not flip back while the URL catches up), and the URL wins
  // when it changes for any other reason (a link, back and forward).
  const [filters, setLocalFilters] = useState(urlFilters);
  const ownSearches = useRef<string[]>([]);
  useEffect(() => {
    const search = filtersToSearch(urlFilters);
    const own = ownSearches.current.indexOf(search);
    if (own >= 0) {
      ownSearches.current = ownSearches.current.slice(own + 1);
      return;
    }
    ownSearches.current = [];
    setLocalFilters(urlFilters);
  }, [urlFilters]);

  const me = useQuery(trpc.me.get.queryOptions());
  const meId = me.data?.user?.id ?? null;
  const canWrite = hasScope(me.data, "memory:write");
  const canDelete = hasScope(me.data, "memory:delete");
  const facets = useQuery({ ...trpc.memory.facets.queryOptions(), staleTime: 60_000 });
  // An embeddings provider is configured but this PostgreSQL has no pgvector: say why search is full text only.
  const retrieval = useQuery({ ...trpc.memory.retrievalStatus.queryOptions(), staleTime: 300_000 });

  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState<EditableMemory | null>(null);
  const [deleting, setDeleting] = useState<{ ids: string[]; preview: string | null } | null>(null);

  const setFilters = (next: MemoryFilters) => {
    setSelected(new Set());
    setLocalFilters(next);
    const search = filtersToSearch(next);
    if (search === window.location.search) return;
    ownSearches.current.push(search);
    // Shallow: Next keeps useSearchParams in step with the history API, without asking the server for the page again.
    window.history.replaceState(null, "", `/memory${search}`);
  };

  // The search box is typed into freely; the URL (and so the query) follows once typing pauses.
  const [text, setText] = useState(filters.q);
  const pushedQ = useRef(filters.q);
  useEffect(() => {
    if (filters.q !== pushedQ.current) {
      pushedQ.current = filters.q;
      setText(filters.q);
    }
  }, [filters.q]);
  const latest = useRef({ filters, setFilters });
  latest.current = { filters, setFilters };
  useEffect(() => {
    if (text.trim() === pushedQ.current.trim()) return;
    const timer = window.setTimeout(() => {
      pushedQ.current = text.trim();
      latest.current.setFilters({ ...latest.current.filters, q: text });
    }, SEARCH_DEBOUNCE_MS);
    return () => window.clearTimeout(timer);
  }, [text]);

  const list = useInfiniteQuery(
    trpc.memory.search.infiniteQueryOptions(searchInputOf(filters), {
      getNextPageParam: (last) => last.nextCursor ?? undefined,
      placeholderData: keepPreviousData,
    }),
  );
  const items = useMemo(() => list.data?.pages.flatMap((page) => page.items) ?? [], [list.data]);
  const selectedItems = items.filter((item) => selected.has(item.id));
  const allSelected = items.length > 0 && selectedItems.length === items.length;
  const now = Date.now();

  const pin = useMutation(
    trpc.memory.update.mutationOptions({
      onSuccess: async (updated) => {
        toast({
          title: updated.pinned ? "Pinned" : "Unpinned",
          description: updated.pinned ? "Agents recall it before other matching memories." : "It is recalled like any other memory again.",
          tone: "success",
        });
        await queryClient.invalidateQueries(trpc.memory.pathFilter());
      },
      onError: (error) => toast({ title: "Could not change the pin", description: messageOf(error), tone: "danger" }),
    }),
  );

  const toggle = (id: string, on: boolean) =>
    setSelected((current) => {
      const next = new Set(current);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });

  const q = filters.q.trim();
  const narrowed = hasNarrowingFilters(filters);
  const searching = list.isFetching && !list.isFetchingNextPage;

  let body;
  if (list.isPending) {
    body = <Spinner label="Loading memories" showLabel />;
  } else if (list.isError) {
    body = (
      <div role="alert" className="flex flex-wrap items-center justify-between gap-3 rounded-md border border-danger-200 bg-danger-50 px-3 py-2 text-sm text-danger-700">
        <span>Could not load memories: {messageOf(list.error)}</span>
        <Button size="sm" onClick={() => void list.refetch()}>Try again</Button>
      </div>
    );
  } else if (items.length === 0) {
    body =
      q || narrowed ? (
        <EmptyState
          icon={<IconMemory />}
          title={q ? `No memories match “${q}”` : "No memories match these filters"}
          description={`Search matches whole words and their forms (“invoice” finds “invoices”).${filters.superseded ? "" : " Memories replaced by a newer one are hidden unless you show superseded ones."}`}
          action={<Button onClick={() => { setText(""); pushedQ.current = ""; setFilters(DEFAULT_FILTERS); }}>{q && narrowed ? "Clear search and filters" : q ? "Clear search" : "Clear filters"}</Button>}
        />
      ) : (
        <EmptyState
          icon={<IconMemory />}
          title="No memories yet"
          description="Agents write memories when they learn something worth keeping, like a customer’s preference or a fact about your organisation. Each one links back to the run step that wrote it."
          action={canWrite ? <Button variant="primary" icon={<IconPlus />} onClick={() => setAdding(true)}>Add memory</Button> : undefined}
        />
      );
  } else {
    body = (
      <>
        <div className="mb-2 flex min-h-7 flex-wrap items-center justify-between gap-2">
          <p className="text-xs text-fg-subtle" aria-live="polite">
            {q ? "Best matches first" : "Newest first"}
            {list.hasNextPage ? ` · showing ${items.length}` : ` · ${memoryCount(items.length)}`}
            {searching ? " · searching…" : ""}
          </p>
          {canDelete && selectedItems.length > 0 ? (
            <div className="flex items-center gap-2">
              <span className="text-xs text-fg-muted">{selectedItems.length} selected</span>
              <Button size="sm" variant="ghost" onClick={() => setSelected(new Set())}>Clear selection</Button>
              <Button
                size="sm"
                variant="danger"
                icon={<IconTrash />}
                onClick={() => setDeleting({ ids: selectedItems.map((item) => item.id), preview: selectedItems.length === 1 ? preview(selectedItems[0]!.content) : null })}
              >
                Delete selected ({selectedItems.length})
              </Button>
            </div>
          ) : null}
        </div>
        <Table containerClassName="rounded-lg border border-border bg-surface shadow-card" caption={q ? `Memories matching “${q}”` : "Memories"} className="table-fixed">
          <colgroup>
            {canDelete ? <col className="w-11" /> : null}
            <col />
            <col className="w-36" />
            <col className="w-44" />
            <col className="w-24" />
            {canWrite || canDelete ? <col className="w-28" /> : null}
          </colgroup>
          <THead>
            <TR>
              {canDelete ? (
                <TH>
                  <input
                    type="checkbox"
                    aria-label={allSelected ? "Deselect all shown memories" : "Select all shown memories"}
                    checked={allSelected}
                    ref={(el) => {
                      if (el) el.indeterminate = selectedItems.length > 0 && !allSelected;
                    }}
                    onChange={(e) => setSelected(e.target.checked ? new Set(items.map((item) => item.id)) : new Set())}
                    className="size-3.5 align-middle accent-accent-600"
                  />
                </TH>
              ) : null}
              <TH>Memory</TH>
              <TH>Belongs to</TH>
              <TH>Source</TH>
              <TH>Added</TH>
              {canWrite || canDelete ? <TH><span className="sr-only">Actions</span></TH> : null}
            </TR>
          </THead>
          <TBody>
            {items.map((item) => (
              <MemoryRow
                key={item.id}
                item={item}
                now={now}
                meId={meId}
                canWrite={canWrite}
                canDelete={canDelete}
                selected={selected.has(item.id)}
                pinning={pin.isPending && pin.variables?.id === item.id}
                onSelect={(on) => toggle(item.id, on)}
                onPin={() => pin.mutate({ id: item.id, pinned: !item.pinned })}
                onEdit={() => setEditing({ id: item.id, content: item.content, expiresAt: item.expiresAt })}
                onDelete={() => setDeleting({ ids: [item.id], preview: preview(item.content) })}
              />
            ))}
          </TBody>
        </Table>
        {list.hasNextPage ? (
          <div className="mt-3 flex justify-center">
            <Button size="sm" loading={list.isFetchingNextPage} onClick={() => void list.fetchNextPage()}>Show more</Button>
          </div>
        ) : null}
      </>
    );
  }

  return (
    <div className="space-y-6">
      <PageHeader
        title="Memory"
        description="What your agents remember between runs. Every memory links to the run step or the person that wrote it."
        actions={canWrite ? <Button variant="primary" icon={<IconPlus />} onClick={() => setAdding(true)}>Add memory</Button> : null}
      />
      {retrieval.data?.notice ? (
        <p role="status" className="rounded-md border border-warning-200 bg-warning-50 px-3 py-2 text-sm text-warning-800">{retrieval.data.notice}</p>
      ) : null}
      <div className="space-y-3">
        <MemorySearchBox value={text} onChange={setText} searching={searching} />
        <MemoryFilterBar filters={filters} facets={facets.data} meId={meId} onChange={setFilters} />
      </div>
      <section aria-label="Memories" aria-busy={searching} data-query={filtersToSearch(filters)} className={searching ? "opacity-70 transition-opacity" : "transition-opacity"}>
        {body}
      </section>

      {canWrite ? <AddMemoryDialog open={adding} onClose={() => setAdding(false)} facets={facets.data} meId={meId} /> : null}
      <EditMemoryDialog memory={editing} onClose={() => setEditing(null)} />
      <DeleteMemoriesDialog
        ids={deleting?.ids ?? []}
        preview={deleting?.preview ?? null}
        onClose={() => setDeleting(null)}
        onDeleted={(ids) => setSelected((current) => new Set([...current].filter((id) => !ids.includes(id))))}
      />
    </div>
  );
}

function MemoryRow({ item, now, meId, canWrite, canDelete, selected, pinning, onSelect, onPin, onEdit, onDelete }: {
  item: MemoryItem;
  now: number;
  meId: string | null;
  canWrite: boolean;
  canDelete: boolean;
  selected: boolean;
  pinning: boolean;
  onSelect: (on: boolean) => void;
  onPin: () => void;
  onEdit: () => void;
  onDelete: () => void;
}) {
  const label = preview(item.content, 60);
  const superseded = item.supersededById !== null;
  return (
    <TR id={`memory-row-${item.id}`} data-memory-id={item.id} selected={selected} className="align-top">
      {canDelete ? (
        <TD className="align-top">
          <input type="checkbox" aria-label={`Select: ${label}`} checked={selected} onChange={(e) => onSelect(e.target.checked)} className="mt-0.5 size-3.5 accent-accent-600" />
        </TD>
      ) : null}
      <TD className="align-top">
        <Link href={`/memory/${item.id}`} className="group block" aria-label={`Open memory: ${label}`}>
          <Highlighted highlight={item.highlight} className={superseded ? "line-clamp-3 text-fg-muted group-hover:text-accent-700" : "line-clamp-3 text-fg group-hover:text-accent-700"} />
        </Link>
        <div className="mt-1.5 flex flex-wrap items-center gap-1.5">
          {item.pinned ? <PinnedBadge /> : null}
          <ScopeBadge scope={item.scope} />
          <KindBadge kind={item.kind} />
          {superseded ? <Badge tone="neutral" title="A newer, near-identical memory replaced it; agents no longer recall it">superseded</Badge> : null}
          <ExpiryText expiresAt={item.expiresAt} now={now} />
        </div>
      </TD>
      <TD muted className="align-top">
        <span className="line-clamp-2 break-words" title={item.user?.email ?? item.agent?.name}>{ownerText(item, meId)}</span>
      </TD>
      <TD className="align-top">
        <SourceLink source={item.source} meId={meId} />
      </TD>
      <TD muted className="align-top whitespace-nowrap">
        <span title={formatDateTime(item.createdAt)}>{formatRelative(item.createdAt, now)}</span>
      </TD>
      {canWrite || canDelete ? (
        <TD className="align-top">
          <div className="-my-1 flex items-center justify-end gap-0.5">
            {canWrite && !superseded ? (
              <>
                <Button
                  size="sm"
                  variant="ghost"
                  aria-label={item.pinned ? `Unpin: ${label}` : `Pin: ${label}`}
                  title={item.pinned ? "Unpin" : "Pin: recalled before other matches"}
                  aria-pressed={item.pinned}
                  loading={pinning}
                  icon={<IconPin filled={item.pinned} className={item.pinned ? "text-accent-600" : undefined} />}
                  onClick={onPin}
                />
                <Button size="sm" variant="ghost" aria-label={`Edit: ${label}`} title="Edit" icon={<IconPencil />} onClick={onEdit} />
              </>
            ) : null}
            {canDelete ? (
              <Button size="sm" variant="ghost" aria-label={`Delete: ${label}`} title="Delete" icon={<IconTrash className="text-danger-600" />} onClick={onDelete} />
            ) : null}
          </div>
        </TD>
      ) : null}
    </TR>
  );
}
