import type { Metadata } from "next";
import { ApiKeysAdmin } from "@/components/admin/ApiKeysAdmin";
import { requirePageScope } from "@/server/console";

export const metadata: Metadata = { title: "API keys" };

export default async function ApiKeysPage() {
  await requirePageScope("apikeys:manage");
  return <ApiKeysAdmin />;
}
