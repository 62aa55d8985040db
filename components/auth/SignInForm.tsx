"use client";

import { signIn } from "next-auth/react";
import { useRouter, useSearchParams } from "next/navigation";
import { useState, type FormEvent } from "react";
import { Button, Field, Input } from "@/components/ui";
import { formText } from "@/lib/forms";

const GENERIC_FAILURE = "Email or password is incorrect.";

function messageFor(error: string | null | undefined): string | null {
  if (!error) return null;
  if (error === "CredentialsSignin" || error === "AccessDenied") return GENERIC_FAILURE;
  if (error === "OAuthSignin" || error === "OAuthCallback" || error === "Callback") return "Single sign-on failed. Try again or ask your admin.";
  // Rate limiting and other domain messages are written for people.
  return error.length < 200 ? error : GENERIC_FAILURE;
}

export function SignInForm({ oidc }: { oidc: { name: string } | null }) {
  const router = useRouter();
  const params = useSearchParams();
  const [error, setError] = useState<string | null>(messageFor(params.get("error")));
  const [pending, setPending] = useState(false);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setPending(true);
    setError(null);
    const result = await signIn("credentials", {
      email: formText(form, "email"),
      password: formText(form, "password"),
      redirect: false,
    });
    setPending(false);
    if (!result || result.error) {
      setError(messageFor(result?.error) ?? GENERIC_FAILURE);
      return;
    }
    const next = params.get("callbackUrl");
    router.replace(next && next.startsWith("/") ? next : "/");
    router.refresh();
  }

  return (
    <form onSubmit={onSubmit} className="space-y-4" noValidate>
      {error ? (
        <p role="alert" className="rounded-md border border-danger-200 bg-danger-50 px-3 py-2 text-sm text-danger-700">
          {error}
        </p>
      ) : null}
      <Field label="Email">
        <Input name="email" type="email" autoComplete="username" required autoFocus />
      </Field>
      <Field label="Password">
        <Input name="password" type="password" autoComplete="current-password" required />
      </Field>
      <Button type="submit" variant="primary" className="w-full" loading={pending}>
        Sign in
      </Button>
      {oidc ? (
        <>
          <div className="flex items-center gap-3 text-xs text-fg-subtle">
            <span className="h-px flex-1 bg-border" />
            or
            <span className="h-px flex-1 bg-border" />
          </div>
          <Button variant="secondary" className="w-full" onClick={() => void signIn("oidc", { callbackUrl: "/" })}>
            Continue with {oidc.name}
          </Button>
        </>
      ) : null}
    </form>
  );
}
