import { cn } from "@/lib/cn";

/**
 * A passage with its matches marked. The server HTML-escapes the passage and adds only <mark> elements
 * (server/domain/knowledge/knowledge.ts highlightHtml), so this HTML carries no markup from the document.
 */
export function Highlight({ html, className }: { html: string; className?: string }) {
  return (
    <p
      className={cn("text-sm text-fg [&_mark]:rounded-sm [&_mark]:bg-warning-100 [&_mark]:px-0.5 [&_mark]:text-gray-950", className)}
      dangerouslySetInnerHTML={{ __html: html }}
    />
  );
}
