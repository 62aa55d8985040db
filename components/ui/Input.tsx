import type { ComponentPropsWithRef } from "react";
import { cn } from "@/lib/cn";
import { controlBase } from "./controlStyles";

export interface InputProps extends ComponentPropsWithRef<"input"> {
  /** Marks the control invalid (sets aria-invalid). Field does this for you. */
  invalid?: boolean;
}

export function Input({
  invalid,
  className,
  type = "text",
  ...props
}: InputProps) {
  return (
    <input
      type={type}
      aria-invalid={invalid || undefined}
      className={cn(controlBase, "read-only:bg-gray-50 h-8 px-2.5", className)}
      {...props}
    />
  );
}
