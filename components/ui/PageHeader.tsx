import type { ReactNode } from "react";
import { cn } from "@/lib/cn";

export interface PageHeaderProps {
  title: ReactNode;
  description?: ReactNode;
  /** Buttons / links, right-aligned (wraps under the title on narrow screens). */
  actions?: ReactNode;
  /** Small line above the title, e.g. a section name or breadcrumb. */
  eyebrow?: ReactNode;
  className?: string;
}

/** Page title block (renders the page's <h1>). Has no outer margin. */
export function PageHeader({
  title,
  description,
  actions,
  eyebrow,
  className,
}: PageHeaderProps) {
  return (
    <header
      className={cn(
        "flex flex-wrap items-end justify-between gap-x-6 gap-y-3",
        className,
      )}
    >
      <div className="min-w-0 flex-1">
        {eyebrow ? (
          <div className="mb-1 text-xs font-medium text-fg-subtle">
            {eyebrow}
          </div>
        ) : null}
        <h1 className="text-xl leading-7 font-semibold tracking-[-0.01em] text-gray-950">
          {title}
        </h1>
        {description ? (
          <p className="mt-1 max-w-2xl text-sm text-fg-muted">{description}</p>
        ) : null}
      </div>
      {actions ? (
        <div className="flex shrink-0 items-center gap-2">{actions}</div>
      ) : null}
    </header>
  );
}
