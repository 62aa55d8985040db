import type { ReactNode } from "react";
import { AdminTabs } from "@/components/admin/AdminTabs";
import { allowedAdminSections } from "@/server/console";

export default async function AdminLayout({ children }: { children: ReactNode }) {
  const tabs = await allowedAdminSections();
  return (
    <div className="space-y-6">
      <AdminTabs tabs={tabs} />
      {children}
    </div>
  );
}
