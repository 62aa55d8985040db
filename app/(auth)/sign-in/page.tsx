import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { Suspense } from "react";
import { AuthCard } from "@/components/auth/AuthCard";
import { SignInForm } from "@/components/auth/SignInForm";
import { oidcEnabled, sessionPrincipal } from "@/server/auth";
import { env } from "@/server/env";

export const metadata: Metadata = { title: "Sign in" };
export const dynamic = "force-dynamic";

export default async function SignInPage() {
  if (await sessionPrincipal()) redirect("/");
  return (
    <AuthCard title="Sign in" description="Use the account your admin gave you.">
      <Suspense>
        <SignInForm oidc={oidcEnabled() ? { name: env.OIDC_NAME } : null} />
      </Suspense>
    </AuthCard>
  );
}
