import type { ReactNode } from "react";
import { cn } from "@/lib/cn";

export interface EmptyStateProps {
  /** An icon element, e.g. <IconRuns />; shown in a soft tile. */
  icon?: ReactNode;
  title: ReactNode;
  description?: ReactNode;
  /** A Button or link. */
  action?: ReactNode;
  /** Dashed frame (default). Pass false inside a Card. */
  bordered?: boolean;
  /** Heading element for the title. Defaults to h3. */
  titleAs?: "h2" | "h3" | "h4" | "p";
  className?: string;
}

export function EmptyState({
  icon,
  title,
  description,
  action,
  bordered = true,
  titleAs: Title = "h3",
  className,
}: EmptyStateProps) {
  return (
    <div
      className={cn(
        "flex flex-col items-center justify-center px-6 py-12 text-center",
        bordered &&
          "rounded-lg border border-dashed border-border-strong bg-surface/60",
        className,
      )}
    >
      {icon ? (
        <div
          aria-hidden="true"
          className="mb-4 flex size-10 items-center justify-center rounded-lg border border-border bg-surface text-fg-subtle shadow-xs [&_svg]:size-5"
        >
          {icon}
        </div>
      ) : null}
      <Title className="text-sm font-semibold text-gray-950">{title}</Title>
      {description ? (
        <p className="mt-1 max-w-sm text-sm text-pretty text-fg-muted">
          {description}
        </p>
      ) : null}
      {action ? (
        <div className="mt-5 flex items-center gap-2">{action}</div>
      ) : null}
    </div>
  );
}
