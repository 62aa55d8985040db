import type { ReactNode } from "react";

/** A text prefix/suffix drawn inside an input ("$", "/ 1M tokens"); give the input matching padding. */
export function Affix({ prefix, suffix, children }: { prefix?: string; suffix?: string; children: ReactNode }) {
  return (
    <div className="relative">
      {children}
      {prefix ? (
        <span aria-hidden="true" className="pointer-events-none absolute inset-y-0 left-2.5 flex items-center text-sm text-fg-subtle">
          {prefix}
        </span>
      ) : null}
      {suffix ? (
        <span aria-hidden="true" className="pointer-events-none absolute inset-y-0 right-2.5 flex items-center text-xs text-fg-subtle">
          {suffix}
        </span>
      ) : null}
    </div>
  );
}
