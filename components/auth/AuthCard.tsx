import type { ReactNode } from "react";

export function AuthCard({ title, description, children }: { title: string; description?: ReactNode; children: ReactNode }) {
  return (
    <div className="flex min-h-screen items-center justify-center bg-canvas px-4">
      <div className="w-full max-w-sm">
        <div className="mb-6 flex items-center justify-center gap-2">
          <span aria-hidden="true" className="flex size-8 items-center justify-center rounded-md bg-gray-900 text-xs font-bold text-white">
            SB
          </span>
          <span className="text-base font-semibold text-gray-950">Switchboard</span>
        </div>
        <div className="rounded-xl border border-border bg-surface p-6 shadow-card">
          <h1 className="text-lg font-semibold text-gray-950">{title}</h1>
          {description ? <p className="mt-1 text-sm text-fg-muted">{description}</p> : null}
          <div className="mt-5">{children}</div>
        </div>
        <p className="mt-6 text-center text-xs text-fg-subtle">The operating system for your organisation&apos;s AI agents.</p>
      </div>
    </div>
  );
}
