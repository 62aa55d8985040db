"use client";

import {
  useEffect,
  useId,
  useRef,
  type ReactNode,
  type RefObject,
} from "react";
import { cn } from "@/lib/cn";
import { IconClose } from "./icons";

export type DialogSize = "sm" | "md" | "lg";

export interface DialogProps {
  open: boolean;
  /** Called on Escape, the close button, a backdrop click, or a `<form method="dialog">` submit. */
  onClose: () => void;
  title: ReactNode;
  description?: ReactNode;
  children?: ReactNode;
  /**
   * Action buttons, right-aligned in the footer. A submit button here sits
   * outside any <form> in `children`: give the form an id and the button `form="that-id"`.
   */
  footer?: ReactNode;
  size?: DialogSize;
  /** Element to focus on open. Default: first `[autofocus]`/`[data-autofocus]`, else the first focusable in body/footer. */
  initialFocusRef?: RefObject<HTMLElement | null>;
  /** Close when clicking the backdrop. Default true; set false while a form is dirty or submitting. */
  dismissible?: boolean;
  className?: string;
}

const sizes: Record<DialogSize, string> = {
  sm: "max-w-sm",
  md: "max-w-md",
  lg: "max-w-2xl",
};

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

export function Dialog({
  open,
  onClose,
  title,
  description,
  children,
  footer,
  size = "md",
  initialFocusRef,
  dismissible = true,
  className,
}: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const contentRef = useRef<HTMLDivElement>(null);
  const onCloseRef = useRef(onClose);
  const restoreRef = useRef<HTMLElement | null>(null);
  const pressedBackdropRef = useRef(false);
  const titleId = useId();
  const descriptionId = useId();

  useEffect(() => {
    onCloseRef.current = onClose;
  });

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      restoreRef.current =
        document.activeElement instanceof HTMLElement
          ? document.activeElement
          : null;
      dialog.showModal();
      const target =
        initialFocusRef?.current ??
        dialog.querySelector<HTMLElement>("[autofocus], [data-autofocus]") ??
        contentRef.current?.querySelector<HTMLElement>(FOCUSABLE) ??
        dialog;
      target.focus();
    } else if (!open && dialog.open) {
      dialog.close();
    }
  }, [open, initialFocusRef]);

  // Return focus to the opener when the dialog closes (or unmounts while open).
  useEffect(() => {
    if (open) return;
    const el = restoreRef.current;
    restoreRef.current = null;
    if (el && el.isConnected) el.focus();
  }, [open]);

  useEffect(() => {
    const dialog = ref.current;
    return () => {
      if (dialog?.open) dialog.close();
    };
  }, []);

  return (
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      aria-describedby={description ? descriptionId : undefined}
      tabIndex={-1}
      onCancel={(event) => {
        // Escape: keep the element in sync with the `open` prop; the parent decides.
        event.preventDefault();
        onCloseRef.current();
      }}
      onClose={() => {
        // Closed natively (e.g. <form method="dialog">) while the prop still says open.
        if (open) onCloseRef.current();
      }}
      onPointerDown={(event) => {
        // The panel fills the <dialog> box, so the element itself is only hit on the backdrop.
        pressedBackdropRef.current = event.target === event.currentTarget;
      }}
      onClick={(event) => {
        const fromBackdrop =
          pressedBackdropRef.current && event.target === event.currentTarget;
        pressedBackdropRef.current = false;
        if (dismissible && fromBackdrop) onCloseRef.current();
      }}
      className={cn(
        "m-auto max-h-[calc(100dvh-4rem)] w-[calc(100%-2rem)] overflow-hidden rounded-xl border border-border bg-surface p-0 text-fg shadow-overlay",
        "backdrop:bg-gray-950/35 open:flex open:animate-dialog-in open:flex-col open:backdrop:animate-fade-in",
        "focus:outline-none",
        sizes[size],
        className,
      )}
    >
      <div className="flex items-start gap-4 px-5 pt-4 pb-3">
        <div className="min-w-0 flex-1">
          <h2
            id={titleId}
            className="text-base leading-6 font-semibold text-gray-950"
          >
            {title}
          </h2>
          {description ? (
            <p id={descriptionId} className="mt-1 text-sm text-fg-muted">
              {description}
            </p>
          ) : null}
        </div>
        <button
          type="button"
          onClick={() => onCloseRef.current()}
          aria-label="Close dialog"
          className="-mt-0.5 -mr-2 inline-flex size-7 shrink-0 items-center justify-center rounded-md text-fg-subtle transition-colors hover:bg-gray-100 hover:text-fg"
        >
          <IconClose size={16} />
        </button>
      </div>
      <div ref={contentRef} className="flex min-h-0 flex-1 flex-col">
        {children ? (
          <div className="min-h-0 flex-1 overflow-y-auto px-5 pb-5 text-sm">
            {children}
          </div>
        ) : null}
        {footer ? (
          <div className="flex shrink-0 items-center justify-end gap-2 border-t border-border bg-gray-50/80 px-5 py-3">
            {footer}
          </div>
        ) : null}
      </div>
    </dialog>
  );
}
