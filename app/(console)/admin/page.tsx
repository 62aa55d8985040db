import { redirect } from "next/navigation";
import { allowedAdminSections } from "@/server/console";

export default async function AdminIndex() {
  const [first] = await allowedAdminSections();
  redirect(first?.href ?? "/");
}
