import type { Metadata } from "next";
import { MembersAdmin } from "@/components/admin/MembersAdmin";
import { requirePageScope } from "@/server/console";

export const metadata: Metadata = { title: "Members" };

export default async function MembersPage() {
  await requirePageScope("members:manage");
  return <MembersAdmin />;
}
