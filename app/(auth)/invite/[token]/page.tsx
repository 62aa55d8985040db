import type { Metadata } from "next";
import { AcceptInvitationForm } from "@/components/auth/AcceptInvitationForm";
import { AuthCard } from "@/components/auth/AuthCard";

export const metadata: Metadata = { title: "Join your organisation" };

export default async function InvitePage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  return (
    <AuthCard title="Set your password">
      <AcceptInvitationForm token={token} />
    </AuthCard>
  );
}
