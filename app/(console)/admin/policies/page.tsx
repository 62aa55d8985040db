import type { Metadata } from "next";
import { PoliciesAdmin } from "@/components/policies/PoliciesAdmin";
import { requirePageScope } from "@/server/console";

export const metadata: Metadata = { title: "Policies" };

export default async function PoliciesPage() {
  await requirePageScope("policies:read");
  return <PoliciesAdmin />;
}
