import Link from "next/link";
import { Badge } from "@/components/ui";
import { Highlight } from "./Highlight";

export interface SearchHit {
  chunkId: string;
  documentId: string;
  documentTitle: string;
  collection: string;
  position: number;
  highlight: string;
  href: string;
  score: number;
}

/** Passages that match a search, best first; each links to its place in the document (the citation). */
export function SearchResults({ items }: { items: SearchHit[] }) {
  return (
    <ol aria-label="Matching passages" className="divide-y divide-border overflow-hidden rounded-lg border border-border bg-surface shadow-card">
      {items.map((hit) => (
        <li key={hit.chunkId} className="px-4 py-3" data-testid="knowledge-hit">
          <div className="mb-1 flex flex-wrap items-center gap-x-2 gap-y-1">
            <Link href={hit.href} className="text-sm font-medium text-accent-700 hover:underline">
              {hit.documentTitle} · passage {hit.position}
            </Link>
            <Badge>{hit.collection}</Badge>
            <span className="ml-auto text-xs text-fg-subtle tabular-nums" title="Relevance, from 0 to 1">
              {hit.score.toFixed(2)}
            </span>
          </div>
          <Highlight html={hit.highlight} className="text-fg-muted" />
        </li>
      ))}
    </ol>
  );
}
