import type { Metadata } from "next";
import { EditAgent } from "@/components/agents/EditAgent";
import { requirePageScope } from "@/server/console";

export const metadata: Metadata = { title: "Edit agent" };

export default async function EditAgentPage({ params }: { params: Promise<{ agentId: string }> }) {
  await requirePageScope("agents:write");
  const { agentId } = await params;
  return <EditAgent agentId={agentId} />;
}
