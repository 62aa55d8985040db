import type { Metadata } from "next";
import { AreaPlaceholder } from "@/components/shell/AreaPlaceholder";
import { IconTools } from "@/components/ui";

export const metadata: Metadata = { title: "Tools" };

export default function ToolsPage() {
  return (
    <AreaPlaceholder
      title="Tools"
      description="MCP servers registered with Switchboard and the tools they provide."
      icon={<IconTools />}
      emptyTitle="No tool servers registered"
      emptyDescription="Registering MCP servers arrives with the agent kernel. Their tools, schemas and status will be listed here."
    />
  );
}
