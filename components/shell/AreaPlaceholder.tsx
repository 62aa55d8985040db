import type { ReactNode } from "react";
import { EmptyState, PageHeader } from "@/components/ui";

/** An area whose capability has not shipped yet: says plainly what will appear here and nothing more. */
export function AreaPlaceholder({ title, description, icon, emptyTitle, emptyDescription }: {
  title: string;
  description: string;
  icon: ReactNode;
  emptyTitle: string;
  emptyDescription: string;
}) {
  return (
    <div className="space-y-6">
      <PageHeader title={title} description={description} />
      <EmptyState icon={icon} title={emptyTitle} description={emptyDescription} />
    </div>
  );
}
