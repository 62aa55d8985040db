import type { Metadata } from "next";
import { AreaPlaceholder } from "@/components/shell/AreaPlaceholder";
import { IconApprovals } from "@/components/ui";

export const metadata: Metadata = { title: "Approvals" };

export default function ApprovalsPage() {
  return (
    <AreaPlaceholder
      title="Approvals"
      description="Tool calls that policy held for a person's decision."
      icon={<IconApprovals />}
      emptyTitle="Nothing waiting for approval"
      emptyDescription="Policies and approvals are not available in this version yet. Once they are, held tool calls queue here with their arguments and reason."
    />
  );
}
