import type { Metadata } from "next";
import { KnowledgeDocument } from "@/components/knowledge/KnowledgeDocument";
import { requirePageScope } from "@/server/console";

export const metadata: Metadata = { title: "Document" };

export default async function KnowledgeDocumentPage({ params }: { params: Promise<{ documentId: string }> }) {
  await requirePageScope("memory:read");
  const { documentId } = await params;
  return <KnowledgeDocument documentId={documentId} />;
}
