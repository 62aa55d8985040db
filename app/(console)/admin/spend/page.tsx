import type { Metadata } from "next";
import { SpendAdmin } from "@/components/spend/SpendAdmin";
import { requirePageScope } from "@/server/console";

export const metadata: Metadata = { title: "Spend" };

export default async function SpendPage() {
  await requirePageScope("spend:read");
  return <SpendAdmin />;
}
