"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import type { FormEvent } from "react";
import { Button, Dialog, Field, Select, Textarea } from "@/components/ui";
import { formText } from "@/lib/forms";
import { fieldErrorsOf, messageOf, useTRPC } from "@/lib/trpc";

export function StartRunDialog({ open, onClose, defaultAgent }: { open: boolean; onClose: () => void; defaultAgent?: string }) {
  const trpc = useTRPC();
  const router = useRouter();
  const agents = useQuery({ ...trpc.agents.list.queryOptions(), enabled: open });
  const start = useMutation(
    trpc.runs.create.mutationOptions({
      onSuccess: (run) => {
        onClose();
        router.push(`/runs/${run.id}`);
      },
    }),
  );
  const fields = fieldErrorsOf(start.error);
  const active = (agents.data ?? []).filter((agent) => agent.status === "ACTIVE");

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    start.mutate({ agent: formText(form, "agent"), input: formText(form, "input") });
  }

  return (
    <Dialog
      open={open}
      onClose={() => {
        start.reset();
        onClose();
      }}
      size="lg"
      title="Start a run"
      description="The agent works on your behalf with the tools it has been granted. You can watch every step."
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="primary" type="submit" form="start-run-form" loading={start.isPending}>
            Start run
          </Button>
        </>
      }
    >
      <form id="start-run-form" onSubmit={onSubmit} className="space-y-4" noValidate>
        {start.isError && Object.keys(fields).length === 0 ? (
          <p role="alert" className="text-sm text-danger-700">{messageOf(start.error)}</p>
        ) : null}
        <Field label="Agent" error={fields.agent}>
          <Select name="agent" defaultValue={defaultAgent} key={defaultAgent ?? active[0]?.slug}>
            {active.map((agent) => (
              <option key={agent.id} value={agent.slug}>
                {agent.name} ({agent.slug})
              </option>
            ))}
          </Select>
        </Field>
        <Field label="Input" error={fields.input} hint="What should the agent do?">
          <Textarea name="input" rows={4} required data-autofocus />
        </Field>
      </form>
    </Dialog>
  );
}
