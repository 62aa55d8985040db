import type { ComponentPropsWithRef } from "react";
import { cn } from "@/lib/cn";

export interface LabelProps extends ComponentPropsWithRef<"label"> {
  /** Appends a muted "Optional" marker. */
  optional?: boolean;
}

export function Label({ optional, className, children, ...props }: LabelProps) {
  return (
    <label
      className={cn(
        "inline-flex items-baseline gap-1.5 text-sm font-medium text-fg",
        className,
      )}
      {...props}
    >
      {children}
      {optional ? (
        <span className="text-xs font-normal text-fg-subtle">Optional</span>
      ) : null}
    </label>
  );
}
