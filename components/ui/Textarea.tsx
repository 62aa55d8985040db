import type { ComponentPropsWithRef } from "react";
import { cn } from "@/lib/cn";
import { controlBase } from "./controlStyles";

export interface TextareaProps extends ComponentPropsWithRef<"textarea"> {
  /** Marks the control invalid (sets aria-invalid). Field does this for you. */
  invalid?: boolean;
}

export function Textarea({
  invalid,
  className,
  rows = 4,
  ...props
}: TextareaProps) {
  return (
    <textarea
      rows={rows}
      aria-invalid={invalid || undefined}
      className={cn(
        controlBase,
        "read-only:bg-gray-50 resize-y px-2.5 py-1.5 leading-5",
        className,
      )}
      {...props}
    />
  );
}
