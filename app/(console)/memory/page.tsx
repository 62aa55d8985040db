import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { MemoryBrowser } from "@/components/memory/MemoryBrowser";
import { requirePageScope } from "@/server/console";

export const metadata: Metadata = { title: "Memory" };

export default async function MemoryPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  await requirePageScope("memory:read");
  // Citations in a run's timeline link to /memory?id=<id>: that is the memory's own page.
  const { id } = await searchParams;
  if (typeof id === "string" && /^[\w-]{1,100}$/.test(id)) redirect(`/memory/${id}`);
  return <MemoryBrowser />;
}
