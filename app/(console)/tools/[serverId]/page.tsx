import type { Metadata } from "next";
import { ServerDetail } from "@/components/tools/ServerDetail";

export const metadata: Metadata = { title: "Tool server" };

export default async function ToolServerPage({ params }: { params: Promise<{ serverId: string }> }) {
  const { serverId } = await params;
  return <ServerDetail serverId={serverId} />;
}
