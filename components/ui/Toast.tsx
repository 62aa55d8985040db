"use client";

import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
  type ReactNode,
} from "react";
import { cn } from "@/lib/cn";
import {
  IconAlertCircle,
  IconAlertTriangle,
  IconCheckCircle,
  IconClose,
  IconInfo,
} from "./icons";

export type ToastTone = "neutral" | "success" | "warning" | "danger" | "info";

export interface ToastOptions {
  title: string;
  description?: string;
  tone?: ToastTone;
  /** Milliseconds before auto-dismiss. Default 5000. Paused while hovered or focused. */
  duration?: number;
}

interface ToastItem extends Required<Omit<ToastOptions, "description">> {
  id: number;
  description?: string;
}

export interface ToastApi {
  /** Shows a toast; returns its id. */
  toast: (options: ToastOptions) => number;
  dismiss: (id: number) => void;
}

const ToastContext = createContext<ToastApi | null>(null);

export function useToast(): ToastApi {
  const api = useContext(ToastContext);
  if (!api) throw new Error("useToast() must be used inside <ToastProvider>.");
  return api;
}

const MAX_VISIBLE = 4;

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<ToastItem[]>([]);
  const nextId = useRef(1);

  const dismiss = useCallback((id: number) => {
    setToasts((list) => list.filter((t) => t.id !== id));
  }, []);

  const toast = useCallback((options: ToastOptions) => {
    const id = nextId.current++;
    const item: ToastItem = {
      id,
      title: options.title,
      description: options.description,
      tone: options.tone ?? "neutral",
      duration: options.duration ?? 5000,
    };
    setToasts((list) => [...list, item].slice(-MAX_VISIBLE));
    return id;
  }, []);

  const api = useMemo(() => ({ toast, dismiss }), [toast, dismiss]);

  return (
    <ToastContext value={api}>
      {children}
      <div
        role="status"
        aria-live="polite"
        aria-label="Notifications"
        className="pointer-events-none fixed right-0 bottom-0 z-[100] flex w-full max-w-sm flex-col gap-2 p-4 sm:p-5"
      >
        {toasts.map((t) => (
          <Toast key={t.id} item={t} onDismiss={() => dismiss(t.id)} />
        ))}
      </div>
    </ToastContext>
  );
}

const toneStyles: Record<ToastTone, { icon: ReactNode; color: string }> = {
  neutral: { icon: <IconInfo />, color: "text-fg-subtle" },
  info: { icon: <IconInfo />, color: "text-info-600" },
  success: { icon: <IconCheckCircle />, color: "text-success-600" },
  warning: { icon: <IconAlertTriangle />, color: "text-warning-600" },
  danger: { icon: <IconAlertCircle />, color: "text-danger-600" },
};

function Toast({
  item,
  onDismiss,
}: {
  item: ToastItem;
  onDismiss: () => void;
}) {
  const [paused, setPaused] = useState(false);
  const onDismissRef = useRef(onDismiss);
  useEffect(() => {
    onDismissRef.current = onDismiss;
  });

  useEffect(() => {
    if (paused || item.duration <= 0 || !Number.isFinite(item.duration)) return;
    const timer = window.setTimeout(
      () => onDismissRef.current(),
      item.duration,
    );
    return () => window.clearTimeout(timer);
  }, [paused, item.duration]);

  const tone = toneStyles[item.tone];

  return (
    <div
      onMouseEnter={() => setPaused(true)}
      onMouseLeave={() => setPaused(false)}
      onFocus={() => setPaused(true)}
      onBlur={() => setPaused(false)}
      className="pointer-events-auto flex animate-toast-in items-start gap-3 rounded-lg border border-border bg-surface py-3 pr-2.5 pl-3.5 shadow-overlay"
    >
      <span className={cn("mt-0.5 shrink-0 [&_svg]:size-4", tone.color)}>
        {tone.icon}
      </span>
      <div className="min-w-0 flex-1">
        <p className="text-sm leading-5 font-medium text-gray-950">
          {item.title}
        </p>
        {item.description ? (
          <p className="mt-0.5 text-sm text-fg-muted">{item.description}</p>
        ) : null}
      </div>
      <button
        type="button"
        onClick={onDismiss}
        aria-label="Dismiss notification"
        className="-my-0.5 inline-flex size-6 shrink-0 items-center justify-center rounded-md text-fg-subtle transition-colors hover:bg-gray-100 hover:text-fg"
      >
        <IconClose size={14} />
      </button>
    </div>
  );
}
