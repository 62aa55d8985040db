import type { ComponentPropsWithRef, ReactNode } from "react";
import { cn } from "@/lib/cn";
import { SpinnerIcon } from "./Spinner";

export type ButtonVariant = "primary" | "secondary" | "ghost" | "danger";
export type ButtonSize = "sm" | "md";

export interface ButtonProps extends ComponentPropsWithRef<"button"> {
  variant?: ButtonVariant;
  size?: ButtonSize;
  /** Shows a spinner in place of `icon`, disables the button and sets aria-busy. */
  loading?: boolean;
  /** Leading icon (e.g. <IconPlus />). For an icon-only button, also pass aria-label. */
  icon?: ReactNode;
}

const base =
  "relative inline-flex shrink-0 items-center justify-center gap-1.5 whitespace-nowrap rounded-md font-medium select-none " +
  "transition-[background-color,border-color,color,box-shadow] duration-100 " +
  "disabled:cursor-not-allowed disabled:opacity-55 [&_svg]:shrink-0";

const variants: Record<ButtonVariant, string> = {
  primary:
    "bg-accent-600 text-white shadow-xs ring-1 ring-inset ring-accent-700/40 " +
    "hover:bg-accent-700 active:bg-accent-800 disabled:hover:bg-accent-600",
  secondary:
    "bg-surface text-fg shadow-xs ring-1 ring-inset ring-border-strong " +
    "hover:bg-gray-50 hover:ring-gray-400/60 active:bg-gray-100 disabled:hover:bg-surface",
  ghost:
    "text-fg-muted hover:bg-gray-100 hover:text-fg active:bg-gray-200/70 disabled:hover:bg-transparent",
  danger:
    "bg-danger-600 text-white shadow-xs ring-1 ring-inset ring-danger-700/40 " +
    "hover:bg-danger-700 active:bg-danger-800 disabled:hover:bg-danger-600",
};

const sizes: Record<ButtonSize, string> = {
  sm: "h-7 px-2.5 text-xs [&_svg]:size-3.5",
  md: "h-8 px-3 text-sm [&_svg]:size-4",
};

const iconOnlySizes: Record<ButtonSize, string> = {
  sm: "w-7 px-0",
  md: "w-8 px-0",
};

/**
 * Class string for button styling on non-button elements, e.g.
 * `<Link className={buttonStyles({ variant: "secondary" })}>`.
 */
export function buttonStyles({
  variant = "secondary",
  size = "md",
  iconOnly = false,
  className,
}: {
  variant?: ButtonVariant;
  size?: ButtonSize;
  iconOnly?: boolean;
  className?: string;
} = {}) {
  return cn(
    base,
    variants[variant],
    sizes[size],
    iconOnly && iconOnlySizes[size],
    className,
  );
}

export function Button({
  variant = "secondary",
  size = "md",
  loading = false,
  icon,
  type = "button",
  disabled,
  className,
  children,
  ...props
}: ButtonProps) {
  const iconOnly = children == null || children === false;
  return (
    <button
      type={type}
      disabled={disabled || loading}
      aria-busy={loading || undefined}
      className={buttonStyles({ variant, size, iconOnly, className })}
      {...props}
    >
      {loading ? <SpinnerIcon /> : icon}
      {children}
    </button>
  );
}
