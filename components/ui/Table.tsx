import type { ComponentPropsWithRef, ReactNode } from "react";
import { cn } from "@/lib/cn";

export interface TableProps extends ComponentPropsWithRef<"table"> {
  /** Accessible caption, visually hidden unless `showCaption`. Recommended. */
  caption?: ReactNode;
  showCaption?: boolean;
  /** Class for the horizontally scrolling wrapper. */
  containerClassName?: string;
}

/**
 * Borderless, compact table. Put it in a <Card> (with <CardBody flush>) for a
 * framed list, or directly on the page.
 */
export function Table({
  caption,
  showCaption,
  containerClassName,
  className,
  children,
  ...props
}: TableProps) {
  return (
    <div className={cn("w-full overflow-x-auto", containerClassName)}>
      <table
        className={cn("w-full border-collapse text-left text-sm", className)}
        {...props}
      >
        {caption ? (
          <caption
            className={
              showCaption
                ? "px-3 py-2 text-left text-sm font-medium text-fg"
                : "sr-only"
            }
          >
            {caption}
          </caption>
        ) : null}
        {children}
      </table>
    </div>
  );
}

export function THead({ className, ...props }: ComponentPropsWithRef<"thead">) {
  return (
    <thead
      className={cn("border-b border-border bg-gray-50/80", className)}
      {...props}
    />
  );
}

export function TBody({ className, ...props }: ComponentPropsWithRef<"tbody">) {
  return (
    <tbody
      className={cn(
        "[&>tr]:border-b [&>tr]:border-border/70 [&>tr:last-child]:border-b-0",
        "[&>tr]:transition-colors [&>tr:hover]:bg-gray-50",
        className,
      )}
      {...props}
    />
  );
}

export interface TRProps extends ComponentPropsWithRef<"tr"> {
  /** Highlights the row and sets aria-selected (e.g. the open item in a queue). */
  selected?: boolean;
}

export function TR({ selected, className, ...props }: TRProps) {
  return (
    <tr
      aria-selected={selected ?? undefined}
      className={cn(
        selected && "bg-accent-50/70 hover:bg-accent-50!",
        className,
      )}
      {...props}
    />
  );
}

export interface THProps extends ComponentPropsWithRef<"th"> {
  /** Right-align (numbers, durations, costs). */
  numeric?: boolean;
}

export function TH({ numeric, scope = "col", className, ...props }: THProps) {
  return (
    <th
      scope={scope}
      className={cn(
        "h-8 px-3 text-xs font-medium whitespace-nowrap text-fg-muted first:pl-4 last:pr-4",
        numeric ? "text-right" : "text-left",
        className,
      )}
      {...props}
    />
  );
}

export interface TDProps extends ComponentPropsWithRef<"td"> {
  /** Right-align with tabular figures. */
  numeric?: boolean;
  /** Muted secondary text (timestamps, ids). */
  muted?: boolean;
}

export function TD({ numeric, muted, className, ...props }: TDProps) {
  return (
    <td
      className={cn(
        "h-10 px-3 py-2 align-middle first:pl-4 last:pr-4",
        numeric && "text-right tabular-nums",
        muted ? "text-fg-muted" : "text-fg",
        className,
      )}
      {...props}
    />
  );
}
