import Link from "next/link";
import type { ReactNode, SVGProps } from "react";
import { Badge } from "@/components/ui";
import { cn } from "@/lib/cn";
import { formatDateTime } from "@/lib/format";
import { expiryText, KIND_LABELS, personLabel, SCOPE_LABELS, SCOPE_TONES, splitHighlight, type MemoryItem, type MemoryKind, type MemoryScope } from "./shared";

/** Same drawing rules as the design system's icons (24-unit box, 1.75 stroke, currentColor). */
function Icon({ size = 16, children, ...props }: Omit<SVGProps<SVGSVGElement>, "children"> & { size?: number; children: ReactNode }) {
  return (
    <svg xmlns="http://www.w3.org/2000/svg" width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={1.75} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false" {...props}>
      {children}
    </svg>
  );
}

export function IconPin({ size, className, filled }: { size?: number; className?: string; filled?: boolean }) {
  return (
    <Icon size={size} className={className} fill={filled ? "currentColor" : "none"}>
      <path d="M12 17v5" />
      <path d="M9 10.76a2 2 0 0 1-1.11 1.79l-1.78.9A2 2 0 0 0 5 15.24V16a1 1 0 0 0 1 1h12a1 1 0 0 0 1-1v-.76a2 2 0 0 0-1.11-1.79l-1.78-.9A2 2 0 0 1 15 10.76V7a1 1 0 0 1 1-1 2 2 0 0 0 0-4H8a2 2 0 0 0 0 4 1 1 0 0 1 1 1z" />
    </Icon>
  );
}

export function IconPencil({ size, className }: { size?: number; className?: string }) {
  return (
    <Icon size={size} className={className}>
      <path d="M21.17 6.81a1 1 0 0 0-3.99-3.99L3.84 16.17a2 2 0 0 0-.5.83l-1.32 4.35a.5.5 0 0 0 .62.62l4.35-1.32a2 2 0 0 0 .83-.5z" />
      <path d="m15 5 4 4" />
    </Icon>
  );
}

export function IconTrash({ size, className }: { size?: number; className?: string }) {
  return (
    <Icon size={size} className={className}>
      <path d="M3 6h18" />
      <path d="M19 6v14a2 2 0 0 1-2 2H7a2 2 0 0 1-2-2V6" />
      <path d="M8 6V4a2 2 0 0 1 2-2h4a2 2 0 0 1 2 2v2" />
    </Icon>
  );
}

/** Search highlight rendered as text: matches in <mark>, nothing ever parsed as HTML. */
export function Highlighted({ highlight, className }: { highlight: string; className?: string }) {
  return (
    <span className={className}>
      {splitHighlight(highlight).map((part, index) =>
        part.marked ? (
          <mark key={index} className="rounded-sm bg-warning-100 px-0.5 text-gray-950">{part.text}</mark>
        ) : (
          <span key={index}>{part.text}</span>
        ),
      )}
    </span>
  );
}

export function ScopeBadge({ scope }: { scope: MemoryScope }) {
  return <Badge tone={SCOPE_TONES[scope]} title={`Scope: ${SCOPE_LABELS[scope]}`}>{SCOPE_LABELS[scope]}</Badge>;
}

export function KindBadge({ kind }: { kind: MemoryKind }) {
  return <Badge title={`Kind: ${KIND_LABELS[kind]}`}>{KIND_LABELS[kind]}</Badge>;
}

export function PinnedBadge() {
  return (
    <Badge tone="accent" title="Pinned: recalled before other matches">
      <IconPin size={11} filled />
      Pinned
    </Badge>
  );
}

export function ExpiryText({ expiresAt, now, className }: { expiresAt: Date | null; now: number; className?: string }) {
  const text = expiryText(expiresAt, now);
  if (!text) return null;
  return (
    <span className={cn("text-xs whitespace-nowrap", text === "expired" ? "text-danger-700" : "text-fg-subtle", className)} title={`Expires ${formatDateTime(expiresAt)}`}>
      {text}
    </span>
  );
}

/** Where a memory came from: the exact run step that wrote it, or the person who added it. */
export function SourceLink({ source, meId }: { source: MemoryItem["source"]; meId: string | null }) {
  if (source.href && source.runId) {
    return (
      <Link href={source.href} className="inline-flex items-center gap-1 text-sm whitespace-nowrap text-accent-700 hover:underline" title="Open the run at the step that wrote this memory">
        Run <span className="font-mono text-xs">{source.runId.slice(-8)}</span>
        <span aria-hidden="true">→</span>
      </Link>
    );
  }
  if (source.person) {
    const name = personLabel(source.person, meId);
    return (
      <span className="block truncate text-sm text-fg-muted" title={`Added by ${source.person.name ? `${source.person.name} (${source.person.email})` : source.person.email}`}>
        Added by {name}
      </span>
    );
  }
  return <span className="text-sm text-fg-subtle">Unknown</span>;
}
