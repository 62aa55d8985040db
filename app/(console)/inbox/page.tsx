import type { Metadata } from "next";
import { AreaPlaceholder } from "@/components/shell/AreaPlaceholder";
import { IconInbox } from "@/components/ui";

export const metadata: Metadata = { title: "Inbox" };

export default function InboxPage() {
  return (
    <AreaPlaceholder
      title="Inbox"
      description="Work your agents drafted for a person to review: emails, documents, ticket replies."
      icon={<IconInbox />}
      emptyTitle="No drafts to review"
      emptyDescription="Agent drafts are not available in this version yet. When they are, every draft waiting for review lands here."
    />
  );
}
