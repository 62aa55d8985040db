import type { ReactNode } from "react";
import { AdminTabs } from "@/components/admin/AdminTabs";
import { requirePageScope } from "@/server/console";

export default async function AdminLayout({ children }: { children: ReactNode }) {
  await requirePageScope("members:manage");
  return (
    <div className="space-y-6">
      <AdminTabs />
      {children}
    </div>
  );
}
