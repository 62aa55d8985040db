import { cn } from "@/lib/cn";

export type SpinnerSize = "sm" | "md" | "lg";

export interface SpinnerProps {
  /** What is being waited for, read by screen readers (e.g. "Loading runs"). */
  label?: string;
  /** Show the label next to the spinner instead of only to screen readers. */
  showLabel?: boolean;
  size?: SpinnerSize;
  className?: string;
}

const sizes: Record<SpinnerSize, string> = {
  sm: "size-3.5",
  md: "size-4",
  lg: "size-6",
};

/** The bare spinning ring, decorative. Used inside Button and elsewhere. */
export function SpinnerIcon({ className }: { className?: string }) {
  return (
    <svg
      data-spinner=""
      viewBox="0 0 24 24"
      fill="none"
      aria-hidden="true"
      focusable="false"
      className={cn("shrink-0 animate-spin", className)}
    >
      <circle
        cx="12"
        cy="12"
        r="9"
        stroke="currentColor"
        strokeOpacity="0.2"
        strokeWidth="3"
      />
      <path
        d="M21 12a9 9 0 0 0-9-9"
        stroke="currentColor"
        strokeWidth="3"
        strokeLinecap="round"
      />
    </svg>
  );
}

export function Spinner({
  label = "Loading",
  showLabel = false,
  size = "md",
  className,
}: SpinnerProps) {
  return (
    <span
      role="status"
      className={cn("inline-flex items-center gap-2 text-fg-subtle", className)}
    >
      <SpinnerIcon className={sizes[size]} />
      <span className={showLabel ? "text-sm text-fg-muted" : "sr-only"}>
        {label}
      </span>
    </span>
  );
}
