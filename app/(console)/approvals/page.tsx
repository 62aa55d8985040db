import type { Metadata } from "next";
import { ApprovalsQueue } from "@/components/approvals/ApprovalsQueue";
import { requirePageScope } from "@/server/console";

export const metadata: Metadata = { title: "Approvals" };

export default async function ApprovalsPage() {
  await requirePageScope("approvals:read");
  return <ApprovalsQueue />;
}
