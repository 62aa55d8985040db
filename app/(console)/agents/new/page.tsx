import type { Metadata } from "next";
import { NewAgent } from "@/components/agents/NewAgent";
import { requirePageScope } from "@/server/console";

export const metadata: Metadata = { title: "New agent" };

export default async function NewAgentPage() {
  await requirePageScope("agents:write");
  return <NewAgent />;
}
