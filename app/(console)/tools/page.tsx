import type { Metadata } from "next";
import { ToolServersView } from "@/components/tools/ToolServersView";

export const metadata: Metadata = { title: "Tools" };

export default function ToolsPage() {
  return <ToolServersView />;
}
