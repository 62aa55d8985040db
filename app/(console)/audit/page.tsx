import type { Metadata } from "next";
import { AuditLog } from "@/components/audit/AuditLog";
import { requirePageScope } from "@/server/console";

export const metadata: Metadata = { title: "Audit" };

export default async function AuditPage() {
  await requirePageScope("audit:read");
  return <AuditLog />;
}
