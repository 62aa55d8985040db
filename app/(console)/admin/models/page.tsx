import type { Metadata } from "next";
import { ModelsAdmin } from "@/components/models/ModelsAdmin";
import { requirePageScope } from "@/server/console";

export const metadata: Metadata = { title: "Models" };

export default async function ModelsPage() {
  await requirePageScope("models:manage");
  return <ModelsAdmin />;
}
