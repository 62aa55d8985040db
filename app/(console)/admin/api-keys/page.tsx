import type { Metadata } from "next";
import { ApiKeysAdmin } from "@/components/admin/ApiKeysAdmin";

export const metadata: Metadata = { title: "API keys" };

export default function ApiKeysPage() {
  return <ApiKeysAdmin />;
}
