"use client";

import type { ReactNode } from "react";
import { ToastProvider } from "@/components/ui";
import { TRPCReactProvider } from "@/lib/trpc";

export function AppProviders({ children }: { children: ReactNode }) {
  return (
    <TRPCReactProvider>
      <ToastProvider>{children}</ToastProvider>
    </TRPCReactProvider>
  );
}
