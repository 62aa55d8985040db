import type { ComponentPropsWithRef } from "react";
import { cn } from "@/lib/cn";

export type BadgeTone =
  "neutral" | "accent" | "success" | "warning" | "danger" | "info";

export interface BadgeProps extends ComponentPropsWithRef<"span"> {
  tone?: BadgeTone;
  /** Leading status dot. */
  dot?: boolean;
}

const tones: Record<BadgeTone, { badge: string; dot: string }> = {
  neutral: {
    badge: "bg-gray-100 text-gray-700 ring-gray-200",
    dot: "bg-gray-400",
  },
  accent: {
    badge: "bg-accent-50 text-accent-700 ring-accent-200/80",
    dot: "bg-accent-500",
  },
  success: {
    badge: "bg-success-50 text-success-700 ring-success-200/80",
    dot: "bg-success-500",
  },
  warning: {
    badge: "bg-warning-50 text-warning-700 ring-warning-200",
    dot: "bg-warning-500",
  },
  danger: {
    badge: "bg-danger-50 text-danger-700 ring-danger-200/80",
    dot: "bg-danger-500",
  },
  info: {
    badge: "bg-info-50 text-info-700 ring-info-200/80",
    dot: "bg-info-500",
  },
};

export function Badge({
  tone = "neutral",
  dot,
  className,
  children,
  ...props
}: BadgeProps) {
  const t = tones[tone];
  return (
    <span
      className={cn(
        "inline-flex h-5 shrink-0 items-center gap-1.5 rounded-md px-1.5 text-xs leading-none font-medium whitespace-nowrap ring-1 ring-inset",
        t.badge,
        className,
      )}
      {...props}
    >
      {dot ? (
        <span
          aria-hidden="true"
          className={cn("size-1.5 rounded-full", t.dot)}
        />
      ) : null}
      {children}
    </span>
  );
}
