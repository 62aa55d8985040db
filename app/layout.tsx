import type { Metadata } from "next";
import type { ReactNode } from "react";
import { AppProviders } from "@/components/shell/AppProviders";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Switchboard", template: "%s · Switchboard" },
  description: "The operator console of Switchboard, the AI operating system.",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <AppProviders>{children}</AppProviders>
      </body>
    </html>
  );
}
