"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { DiffView } from "@/components/agents/DiffView";
import { Button, Dialog, IconAlertTriangle, Spinner, useToast } from "@/components/ui";
import { formatRelative } from "@/lib/format";
import { messageOf, useTRPC } from "@/lib/trpc";
import type { RouterOutputs } from "./shared";

type Review = RouterOutputs["tools"]["definitionReview"];
type TextDiff = NonNullable<Review["diff"]>["description"];

/**
 * Rug-pull review: what a tool's server changed since an admin approved it, as line diffs of the description and
 * the input schema, with the one action that lets agents call it again.
 */
export function ToolReviewDialog({
  toolId,
  toolName,
  open,
  onClose,
  canManage,
}: {
  toolId: string;
  toolName: string;
  open: boolean;
  onClose: () => void;
  canManage: boolean;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { toast } = useToast();
  const review = useQuery({ ...trpc.tools.definitionReview.queryOptions({ toolId }), enabled: open });
  const approve = useMutation(
    trpc.tools.approveDefinition.mutationOptions({
      onSuccess: (tool) => {
        toast({ title: `Approved the new definition of ${tool.name}`, description: "Agents granted this tool can call it again.", tone: "success" });
        onClose();
      },
      onError: (error) => toast({ title: `Could not approve ${toolName}`, description: messageOf(error), tone: "danger" }),
      onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.tools.pathKey() }),
    }),
  );
  const data = review.data;
  const canApprove = canManage && data !== undefined && data.changed && data.tool.status !== "DISABLED";

  return (
    <Dialog
      open={open}
      onClose={onClose}
      size="lg"
      dismissible={!approve.isPending}
      className="sm:max-w-4xl"
      title={
        <>
          Review change to <code className="font-mono text-[15px]">{toolName}</code>
        </>
      }
      description={
        data
          ? `On server “${data.tool.server.name}” · definition changed ${formatRelative(data.tool.updatedAt)}. Until it is approved, agents cannot call this tool.`
          : undefined
      }
      footer={
        <>
          <Button variant="ghost" onClick={onClose} disabled={approve.isPending}>
            {canApprove ? "Cancel" : "Close"}
          </Button>
          {canApprove ? (
            <Button
              variant="primary"
              loading={approve.isPending}
              onClick={() => approve.mutate({ toolId, definitionHash: data.current.hash })}
            >
              Approve new definition
            </Button>
          ) : null}
        </>
      }
    >
      {review.isPending ? (
        <Spinner label="Loading the definition" showLabel />
      ) : review.isError ? (
        <p role="alert" className="text-danger-700">{messageOf(review.error)}</p>
      ) : (
        <ReviewBody review={review.data} canManage={canManage} />
      )}
    </Dialog>
  );
}

function ReviewBody({ review, canManage }: { review: Review; canManage: boolean }) {
  return (
    <div className="space-y-5">
      {!review.changed ? (
        <p className="rounded-md bg-success-50 px-3 py-2 text-success-800">The current definition is the approved one; nothing to review.</p>
      ) : null}
      {review.diff ? (
        <>
          <DiffSection title="Description" diff={review.diff.description} />
          <DiffSection title="Input schema (JSON)" diff={review.diff.inputSchema} />
        </>
      ) : (
        <>
          <div role="status" className="flex gap-2.5 rounded-md border border-warning-200 bg-warning-50 px-3 py-2.5 text-warning-800">
            <IconAlertTriangle className="mt-0.5 size-4 shrink-0" />
            <p>{review.note}</p>
          </div>
          <Section title="Current description">
            <pre className="px-4 py-3 font-mono text-xs leading-5 whitespace-pre-wrap break-words text-fg">{review.current.description || "(empty)"}</pre>
          </Section>
          <Section title="Current input schema (JSON)">
            <pre className="px-4 py-3 font-mono text-xs leading-5 whitespace-pre-wrap break-words text-fg">{review.current.inputSchema}</pre>
          </Section>
        </>
      )}
      <p className="text-xs text-fg-subtle">
        Approved <code className="font-mono">{shortHash(review.approved.hash)}</code> → current <code className="font-mono">{shortHash(review.current.hash)}</code>
        {canManage && review.changed ? " · After approving, check that the tool's risk classification still fits what it now does." : null}
      </p>
    </div>
  );
}

function shortHash(hash: string | null): string {
  return hash ? hash.slice(0, 12) : "none";
}

function Section({ title, actions, children }: { title: string; actions?: ReactNode; children: ReactNode }) {
  return (
    <section className="overflow-hidden rounded-lg border border-border">
      <header className="flex items-center justify-between gap-3 border-b border-border bg-gray-50/80 px-4 py-2">
        <h3 className="text-sm font-semibold text-gray-950">{title}</h3>
        {actions}
      </header>
      <div className="max-h-80 overflow-y-auto py-1">{children}</div>
    </section>
  );
}

function DiffSection({ title, diff }: { title: string; diff: TextDiff }) {
  const stats = diff.changed ? (
    <span className="text-xs tabular-nums">
      <span className="font-medium text-success-700">+{diff.added}</span> <span className="font-medium text-danger-700">−{diff.removed}</span>
    </span>
  ) : (
    <span className="text-xs text-fg-subtle">unchanged</span>
  );
  return (
    <Section title={title} actions={stats}>
      <DiffView lines={diff.lines} label={`${title} diff`} />
    </Section>
  );
}
