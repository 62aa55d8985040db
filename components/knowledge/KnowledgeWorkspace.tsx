"use client";

import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useDeferredValue, useState } from "react";
import {
  Badge,
  Button,
  Dialog,
  EmptyState,
  IconKnowledge,
  IconSearch,
  Input,
  PageHeader,
  Spinner,
  Table,
  TBody,
  TD,
  TH,
  THead,
  TR,
  useToast,
} from "@/components/ui";
import { cn } from "@/lib/cn";
import { formatRelative } from "@/lib/format";
import { hasScope } from "@/lib/scopes";
import { messageOf, useTRPC } from "@/lib/trpc";
import { SearchResults } from "./SearchResults";
import { formatBytes, typeLabel } from "./shared";
import { UploadForm } from "./UploadForm";

/** /knowledge: collections and their documents, an upload form, and search with highlighted, cited passages. */
export function KnowledgeWorkspace() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { toast } = useToast();
  const me = useQuery(trpc.me.get.queryOptions());
  const [collection, setCollection] = useState<string | null>(null);
  const [query, setQuery] = useState("");
  const deferredQuery = useDeferredValue(query.trim());
  const [deleting, setDeleting] = useState<{ id: string; title: string } | null>(null);

  const collections = useQuery(trpc.knowledge.collections.queryOptions());
  const documents = useQuery({ ...trpc.knowledge.documents.queryOptions(collection ? { collection } : {}), placeholderData: keepPreviousData });
  const search = useQuery({
    ...trpc.knowledge.search.queryOptions({ q: deferredQuery, k: 10, ...(collection ? { collection } : {}) }),
    enabled: deferredQuery !== "",
    placeholderData: keepPreviousData,
  });
  const remove = useMutation(
    trpc.knowledge.delete.mutationOptions({
      onSuccess: () => {
        toast({ title: `Deleted “${deleting?.title ?? "the document"}”`, description: "Its passages are no longer searchable.", tone: "success" });
        setDeleting(null);
        void queryClient.invalidateQueries({ queryKey: trpc.knowledge.pathKey() });
      },
      onError: (error) => toast({ title: "Could not delete the document", description: messageOf(error), tone: "danger" }),
    }),
  );

  const canUpload = hasScope(me.data, "memory:write");
  const canDelete = hasScope(me.data, "memory:delete");
  const collectionNames = collections.data?.map((c) => c.name) ?? [];
  const totalDocuments = collections.data?.reduce((sum, c) => sum + c.documents, 0) ?? 0;

  return (
    <div className="space-y-6">
      <PageHeader
        title="Knowledge"
        description="Documents your agents search and cite: policies, FAQs and manuals, split into passages. Search finds the passages; each result links to its place in the document."
      />

      <div className="grid gap-6 lg:grid-cols-[13rem_minmax(0,1fr)]">
        <nav aria-label="Collections" className="space-y-1">
          <h2 className="px-2 pb-1 text-xs font-medium tracking-wide text-fg-subtle uppercase">Collections</h2>
          <CollectionButton label="All collections" count={totalDocuments} active={collection === null} onClick={() => setCollection(null)} />
          {collections.data?.map((c) => (
            <CollectionButton key={c.name} label={c.name} count={c.documents} active={collection === c.name} onClick={() => setCollection(c.name)} />
          ))}
          {collections.isError ? <p role="alert" className="px-2 text-sm text-danger-700">{messageOf(collections.error)}</p> : null}
        </nav>

        <div className="min-w-0 space-y-6">
          <section aria-labelledby="knowledge-search-heading" className="space-y-3">
            <h2 id="knowledge-search-heading" className="sr-only">Search</h2>
            <form role="search" aria-label="Search knowledge" onSubmit={(e) => e.preventDefault()} className="relative">
              <IconSearch className="pointer-events-none absolute top-1/2 left-2.5 -translate-y-1/2 text-fg-subtle" />
              <Input
                type="search"
                value={query}
                onChange={(e) => setQuery(e.target.value)}
                placeholder={collection ? `Search “${collection}”, e.g. refund over $100` : "Search all documents, e.g. refund over $100"}
                aria-label="Search knowledge"
                className="pl-8"
              />
            </form>
            {deferredQuery === "" ? null : search.isPending ? (
              <Spinner label="Searching" showLabel />
            ) : search.isError ? (
              <p role="alert" className="text-sm text-danger-700">{messageOf(search.error)}</p>
            ) : search.data.items.length === 0 ? (
              <EmptyState icon={<IconSearch />} title="No passage matches" description="Try other words, or fewer of them." />
            ) : (
              <SearchResults items={search.data.items} />
            )}
          </section>

          <section aria-labelledby="knowledge-documents-heading" className="space-y-3">
            <h2 id="knowledge-documents-heading" className="text-sm font-semibold text-gray-950">
              {collection ? `Documents in “${collection}”` : "Documents"}
            </h2>
            {documents.isPending ? (
              <Spinner label="Loading documents" showLabel />
            ) : documents.isError ? (
              <p role="alert" className="text-sm text-danger-700">{messageOf(documents.error)}</p>
            ) : documents.data.length === 0 ? (
              <EmptyState
                icon={<IconKnowledge />}
                title="No documents yet"
                description={canUpload ? "Upload a Markdown, text or PDF file below." : "Someone with permission to write memory can upload documents."}
              />
            ) : (
              <Table containerClassName="rounded-lg border border-border bg-surface shadow-card" caption="Documents">
                <THead>
                  <TR>
                    <TH>Title</TH>
                    <TH>Collection</TH>
                    <TH>Type</TH>
                    <TH numeric>Size</TH>
                    <TH numeric>Passages</TH>
                    <TH>Added</TH>
                    {canDelete ? <TH><span className="sr-only">Actions</span></TH> : null}
                  </TR>
                </THead>
                <TBody>
                  {documents.data.map((doc) => (
                    <TR key={doc.id} data-testid="knowledge-document-row">
                      <TD>
                        <Link href={`/knowledge/${doc.id}`} className="font-medium text-fg hover:text-accent-700 hover:underline">
                          {doc.title}
                        </Link>
                      </TD>
                      <TD><Badge>{doc.collection}</Badge></TD>
                      <TD muted>{typeLabel(doc.mimeType)}</TD>
                      <TD numeric muted className="whitespace-nowrap">{formatBytes(doc.sizeBytes)}</TD>
                      <TD numeric muted>{doc.chunks}</TD>
                      <TD muted className="whitespace-nowrap">
                        {formatRelative(doc.createdAt)}
                        {doc.createdBy ? <span className="text-fg-subtle"> · {doc.createdBy.name ?? doc.createdBy.email}</span> : <span className="text-fg-subtle"> · seed</span>}
                      </TD>
                      {canDelete ? (
                        <TD className="text-right">
                          <Button size="sm" variant="ghost" onClick={() => setDeleting({ id: doc.id, title: doc.title })} aria-label={`Delete ${doc.title}`}>
                            Delete
                          </Button>
                        </TD>
                      ) : null}
                    </TR>
                  ))}
                </TBody>
              </Table>
            )}
          </section>

          {canUpload ? <UploadForm collections={collectionNames} defaultCollection={collection ?? collectionNames[0] ?? "support"} key={collection ?? ""} /> : null}
        </div>
      </div>

      <Dialog
        open={deleting !== null}
        onClose={() => setDeleting(null)}
        title={`Delete “${deleting?.title ?? ""}”?`}
        description="The document and all its passages are deleted; agents can no longer find or cite them. This cannot be undone."
        size="sm"
        footer={
          <>
            <Button variant="secondary" onClick={() => setDeleting(null)}>Cancel</Button>
            <Button variant="danger" loading={remove.isPending} onClick={() => deleting && remove.mutate({ id: deleting.id })}>
              Delete document
            </Button>
          </>
        }
      />
    </div>
  );
}

function CollectionButton({ label, count, active, onClick }: { label: string; count: number; active: boolean; onClick: () => void }) {
  return (
    <button
      type="button"
      onClick={onClick}
      aria-pressed={active}
      className={cn(
        "flex w-full items-center justify-between rounded-md px-2 py-1.5 text-left text-sm",
        active ? "bg-accent-50 font-medium text-accent-800" : "text-fg-muted hover:bg-gray-100 hover:text-fg",
      )}
    >
      <span className="truncate">{label}</span>
      <span className="text-xs text-fg-subtle tabular-nums">{count}</span>
    </button>
  );
}
