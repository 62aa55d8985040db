import type { Metadata } from "next";
import { MembersAdmin } from "@/components/admin/MembersAdmin";

export const metadata: Metadata = { title: "Members" };

export default function MembersPage() {
  return <MembersAdmin />;
}
