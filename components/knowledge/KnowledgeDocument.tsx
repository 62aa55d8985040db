"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useEffect, useState } from "react";
import { Badge, EmptyState, IconKnowledge, PageHeader, Spinner } from "@/components/ui";
import { cn } from "@/lib/cn";
import { formatDateTime } from "@/lib/format";
import { messageOf, useTRPC } from "@/lib/trpc";
import { formatBytes, typeLabel } from "./shared";

/** The chunk position a URL fragment names (#chunk-3 → 3), or null. */
function targetedPosition(hash: string): number | null {
  const match = /^#chunk-(\d+)$/.exec(hash);
  return match ? Number(match[1]) : null;
}

/**
 * One document as its passages, in order. Each passage is `#chunk-<position>`, the target of citation links: the
 * targeted one is highlighted and scrolled to. The passages arrive after the page, so the browser's own scroll to
 * the fragment finds nothing; the effect below does it once they are there (and again when the fragment changes).
 * The highlight follows the fragment in state as well as :target, because client-side navigation (pushState)
 * does not update :target.
 */
export function KnowledgeDocument({ documentId }: { documentId: string }) {
  const trpc = useTRPC();
  const document = useQuery(trpc.knowledge.byId.queryOptions({ id: documentId }));
  const [targeted, setTargeted] = useState<number | null>(null);
  const loaded = document.isSuccess;

  useEffect(() => {
    const follow = () => {
      const position = targetedPosition(window.location.hash);
      setTargeted(position);
      if (position !== null) window.document.getElementById(`chunk-${position}`)?.scrollIntoView({ block: "start" });
    };
    if (loaded) follow();
    window.addEventListener("hashchange", follow);
    return () => window.removeEventListener("hashchange", follow);
  }, [loaded]);

  if (document.isPending) return <Spinner label="Loading the document" showLabel />;
  if (document.isError) {
    return (
      <div className="space-y-4">
        <BackLink />
        <EmptyState icon={<IconKnowledge />} title="This document cannot be shown" description={messageOf(document.error)} />
      </div>
    );
  }
  const doc = document.data;
  return (
    <div className="space-y-6">
      <PageHeader
        eyebrow={<BackLink />}
        title={doc.title}
        description={
          <span className="flex flex-wrap items-center gap-x-2 gap-y-1">
            <Badge>{doc.collection}</Badge>
            <span>{typeLabel(doc.mimeType)} · {formatBytes(doc.sizeBytes)} · {doc.chunks.length} {doc.chunks.length === 1 ? "passage" : "passages"}</span>
            <span>· added {formatDateTime(doc.createdAt)}{doc.createdBy ? ` by ${doc.createdBy.name ?? doc.createdBy.email}` : " by the demo seed"}</span>
          </span>
        }
      />
      <ol aria-label="Passages" className="space-y-3">
        {doc.chunks.map((chunk) => (
          <li
            key={chunk.id}
            id={`chunk-${chunk.position}`}
            data-targeted={targeted === chunk.position ? "true" : undefined}
            aria-current={targeted === chunk.position ? "location" : undefined}
            className={cn(
              "scroll-mt-6 rounded-lg border border-border bg-surface shadow-card transition-[box-shadow,background-color] duration-300",
              "target:border-warning-300 target:bg-warning-50 target:ring-2 target:ring-warning-300",
              "data-[targeted=true]:border-warning-300 data-[targeted=true]:bg-warning-50 data-[targeted=true]:ring-2 data-[targeted=true]:ring-warning-300",
            )}
          >
            <div className="flex items-center justify-between gap-3 border-b border-border/70 px-4 py-1.5 text-xs text-fg-subtle">
              <a href={`#chunk-${chunk.position}`} className="font-medium text-fg-muted hover:text-accent-700 hover:underline" title="Link to this passage">
                Passage {chunk.position}
              </a>
              <span className="tabular-nums" title="Character offsets in the extracted text">
                {chunk.startOffset.toLocaleString("en-US")}–{chunk.endOffset.toLocaleString("en-US")}
              </span>
            </div>
            <p className="px-4 py-3 text-sm leading-6 whitespace-pre-wrap text-fg">{chunk.content}</p>
          </li>
        ))}
      </ol>
    </div>
  );
}

function BackLink() {
  return (
    <Link href="/knowledge" className="text-fg-subtle hover:text-fg hover:underline">
      ← Knowledge
    </Link>
  );
}
