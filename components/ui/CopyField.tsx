"use client";

import { useEffect, useId, useRef, useState, type ReactNode } from "react";
import { cn } from "@/lib/cn";
import { Label } from "./Label";
import { controlBase } from "./controlStyles";
import { IconCheck, IconCopy } from "./icons";
import { buttonStyles } from "./Button";

export interface CopyFieldProps {
  /** The secret / link to show. */
  value: string;
  /** Visible label, also the accessible name of the field. */
  label: ReactNode;
  /** Help text under the field, e.g. "Shown once. Store it somewhere safe." */
  hint?: ReactNode;
  /** Called after a successful copy. */
  onCopy?: () => void;
  id?: string;
  className?: string;
}

type CopyState = "idle" | "copied" | "failed";

/** Legacy fallback for plain-http deployments where navigator.clipboard is absent. */
function copyWithSelection(input: HTMLInputElement): boolean {
  input.focus();
  input.select();
  try {
    return document.execCommand("copy");
  } catch {
    return false;
  }
}

export function CopyField({
  value,
  label,
  hint,
  onCopy,
  id,
  className,
}: CopyFieldProps) {
  const generatedId = useId();
  const inputId = id ?? `copy${generatedId.replace(/[^a-zA-Z0-9_-]/g, "")}`;
  const hintId = `${inputId}-hint`;
  const inputRef = useRef<HTMLInputElement>(null);
  const [state, setState] = useState<CopyState>("idle");

  useEffect(() => {
    if (state === "idle") return;
    const timer = window.setTimeout(
      () => setState("idle"),
      state === "copied" ? 2000 : 6000,
    );
    return () => window.clearTimeout(timer);
  }, [state]);

  async function copy() {
    let ok = false;
    if (
      typeof navigator !== "undefined" &&
      navigator.clipboard &&
      window.isSecureContext
    ) {
      try {
        await navigator.clipboard.writeText(value);
        ok = true;
      } catch {
        ok = false;
      }
    }
    if (!ok && inputRef.current) ok = copyWithSelection(inputRef.current);
    if (ok) {
      setState("copied");
      onCopy?.();
    } else {
      inputRef.current?.focus();
      inputRef.current?.select();
      setState("failed");
    }
  }

  return (
    <div className={cn("flex flex-col gap-1.5", className)}>
      <Label htmlFor={inputId}>{label}</Label>
      <div className="flex gap-2">
        <input
          ref={inputRef}
          id={inputId}
          readOnly
          value={value}
          spellCheck={false}
          autoComplete="off"
          aria-describedby={hint ? hintId : undefined}
          onFocus={(e) => e.currentTarget.select()}
          className={cn(
            controlBase,
            "h-8 flex-1 bg-gray-50 px-2.5 font-mono text-[0.8125rem] tracking-tight",
          )}
        />
        <button
          type="button"
          onClick={copy}
          className={buttonStyles({
            variant: "secondary",
            className: "w-[5.5rem]",
          })}
        >
          {state === "copied" ? (
            <IconCheck className="text-success-600" />
          ) : (
            <IconCopy />
          )}
          {state === "copied" ? "Copied" : "Copy"}
        </button>
      </div>
      {hint ? (
        <p id={hintId} className="text-xs leading-4 text-fg-subtle">
          {hint}
        </p>
      ) : null}
      <p
        role="status"
        aria-live="polite"
        className={
          state === "failed" ? "text-xs leading-4 text-warning-700" : "sr-only"
        }
      >
        {state === "copied"
          ? "Copied to clipboard."
          : state === "failed"
            ? "Couldn’t copy automatically. The text is selected — press Ctrl+C (⌘C on Mac)."
            : ""}
      </p>
    </div>
  );
}
