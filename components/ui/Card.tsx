import type { ComponentPropsWithRef, ReactNode } from "react";
import { cn } from "@/lib/cn";

export function Card({ className, ...props }: ComponentPropsWithRef<"div">) {
  return (
    <div
      className={cn(
        "overflow-hidden rounded-lg border border-border bg-surface shadow-card",
        className,
      )}
      {...props}
    />
  );
}

export interface CardHeaderProps extends Omit<
  ComponentPropsWithRef<"div">,
  "title"
> {
  title: ReactNode;
  description?: ReactNode;
  /** Buttons / links on the right. */
  actions?: ReactNode;
  /** Heading level for the title. Defaults to h2. */
  titleAs?: "h2" | "h3" | "h4";
}

export function CardHeader({
  title,
  description,
  actions,
  titleAs: Heading = "h2",
  className,
  children,
  ...props
}: CardHeaderProps) {
  return (
    <div
      className={cn(
        "flex items-start justify-between gap-4 border-b border-border px-4 py-3",
        className,
      )}
      {...props}
    >
      <div className="min-w-0 flex-1">
        <Heading className="text-sm leading-6 font-semibold text-gray-950">
          {title}
        </Heading>
        {description ? (
          <p className="mt-0.5 text-sm text-fg-muted">{description}</p>
        ) : null}
        {children}
      </div>
      {actions ? (
        <div className="flex shrink-0 items-center gap-2">{actions}</div>
      ) : null}
    </div>
  );
}

export interface CardBodyProps extends ComponentPropsWithRef<"div"> {
  /** No padding — for tables and lists that run edge to edge. */
  flush?: boolean;
}

export function CardBody({ flush, className, ...props }: CardBodyProps) {
  return <div className={cn(!flush && "p-4", className)} {...props} />;
}

export function CardFooter({
  className,
  ...props
}: ComponentPropsWithRef<"div">) {
  return (
    <div
      className={cn(
        "flex items-center justify-end gap-2 border-t border-border bg-gray-50/70 px-4 py-2.5",
        className,
      )}
      {...props}
    />
  );
}
