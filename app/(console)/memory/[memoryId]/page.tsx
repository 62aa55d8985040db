import type { Metadata } from "next";
import { MemoryDetail } from "@/components/memory/MemoryDetail";
import { requirePageScope } from "@/server/console";

export const metadata: Metadata = { title: "Memory" };

export default async function MemoryDetailPage({ params }: { params: Promise<{ memoryId: string }> }) {
  await requirePageScope("memory:read");
  const { memoryId } = await params;
  return <MemoryDetail id={memoryId} />;
}
