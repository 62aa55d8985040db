import type { Metadata } from "next";
import { KnowledgeWorkspace } from "@/components/knowledge/KnowledgeWorkspace";
import { requirePageScope } from "@/server/console";

export const metadata: Metadata = { title: "Knowledge" };

export default async function KnowledgePage() {
  await requirePageScope("memory:read");
  return <KnowledgeWorkspace />;
}
