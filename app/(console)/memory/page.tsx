import type { Metadata } from "next";
import { AreaPlaceholder } from "@/components/shell/AreaPlaceholder";
import { IconMemory } from "@/components/ui";

export const metadata: Metadata = { title: "Memory" };

export default function MemoryPage() {
  return (
    <AreaPlaceholder
      title="Memory"
      description="Long-term memories and knowledge your agents recall, each with where it came from."
      icon={<IconMemory />}
      emptyTitle="No memories yet"
      emptyDescription="The memory layer is not available in this version yet. Memories agents write will be searchable here, with a link to the run that wrote them."
    />
  );
}
