import type { ComponentPropsWithRef } from "react";
import { cn } from "@/lib/cn";
import { controlBase } from "./controlStyles";

export interface SelectProps extends ComponentPropsWithRef<"select"> {
  /** Marks the control invalid (sets aria-invalid). Field does this for you. */
  invalid?: boolean;
}

/** Native <select>; pass <option> children. */
export function Select({
  invalid,
  className,
  children,
  ...props
}: SelectProps) {
  return (
    <select
      aria-invalid={invalid || undefined}
      className={cn(
        controlBase,
        "bg-chevron appearance-none pr-8 pl-2.5",
        props.multiple ? "py-1" : "h-8",
        className,
      )}
      {...props}
    >
      {children}
    </select>
  );
}
