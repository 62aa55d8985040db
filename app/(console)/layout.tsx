import { redirect } from "next/navigation";
import type { ReactNode } from "react";
import { ConsoleShell } from "@/components/shell/ConsoleShell";
import { consoleViewer } from "@/server/console";

export const dynamic = "force-dynamic";

export default async function ConsoleLayout({ children }: { children: ReactNode }) {
  const viewer = await consoleViewer();
  if (!viewer) redirect("/sign-in");
  return <ConsoleShell viewer={viewer}>{children}</ConsoleShell>;
}
