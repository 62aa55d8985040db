"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useState, type FormEvent } from "react";
import { Button, Field, Input, Spinner } from "@/components/ui";
import { ROLE_LABELS } from "@/lib/scopes";
import { fieldErrorsOf, messageOf, useTRPC } from "@/lib/trpc";
import { formText } from "@/lib/forms";

export function AcceptInvitationForm({ token }: { token: string }) {
  const trpc = useTRPC();
  const invitation = useQuery(trpc.members.describeInvitation.queryOptions({ token }));
  const accept = useMutation(trpc.members.acceptInvitation.mutationOptions());
  const [mismatch, setMismatch] = useState(false);

  if (invitation.isPending) return <Spinner label="Checking your invitation" />;
  if (invitation.isError) {
    return (
      <p role="alert" className="text-sm text-danger-700">
        This invitation link is invalid, already used or expired. Ask your admin for a new one.
      </p>
    );
  }
  if (accept.isSuccess) {
    return (
      <div className="space-y-4">
        <p className="text-sm text-fg">Your password is set for {accept.data.email}.</p>
        <Link href="/sign-in" className="text-sm font-medium text-accent-700 hover:underline">
          Continue to sign in →
        </Link>
      </div>
    );
  }

  const fields = fieldErrorsOf(accept.error);
  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const password = formText(form, "password");
    if (password !== formText(form, "confirm")) {
      setMismatch(true);
      return;
    }
    setMismatch(false);
    accept.mutate({ token, name: formText(form, "name"), password });
  }

  return (
    <form onSubmit={onSubmit} className="space-y-4" noValidate>
      <p className="text-sm text-fg-muted">
        You are joining <strong className="text-fg">{invitation.data.orgName}</strong> as{" "}
        {ROLE_LABELS[invitation.data.role]} with <strong className="text-fg">{invitation.data.email}</strong>.
      </p>
      {accept.isError && Object.keys(fields).length === 0 ? (
        <p role="alert" className="text-sm text-danger-700">
          {messageOf(accept.error)}
        </p>
      ) : null}
      <Field label="Your name" error={fields.name}>
        <Input name="name" autoComplete="name" required />
      </Field>
      <Field label="Password" hint="At least 10 characters." error={fields.password}>
        <Input name="password" type="password" autoComplete="new-password" required />
      </Field>
      <Field label="Confirm password" error={mismatch ? "The passwords do not match." : null}>
        <Input name="confirm" type="password" autoComplete="new-password" required />
      </Field>
      <Button type="submit" variant="primary" className="w-full" loading={accept.isPending}>
        Set password and join
      </Button>
    </form>
  );
}
