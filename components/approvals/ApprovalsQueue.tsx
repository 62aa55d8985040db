"use client";

import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { Button, EmptyState, IconApprovals, IconInfo, PageHeader, Spinner, useToast } from "@/components/ui";
import { cn } from "@/lib/cn";
import { hasScope } from "@/lib/scopes";
import { messageOf, useTRPC } from "@/lib/trpc";
import { DecidedApprovalCard, PendingApprovalCard } from "./ApprovalCards";
import { EditApproveDialog, RejectDialog, type DecisionDialogState } from "./DecisionDialogs";
import { QUEUE_POLL_MS, type ApprovalItem } from "./shared";

type Tab = "pending" | "decided";

/** The current time, re-read every `everyMs`, so "waiting 3 min" moves on between polls that change nothing. */
function useNow(everyMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), everyMs);
    return () => window.clearInterval(timer);
  }, [everyMs]);
  return now;
}

export function ApprovalsQueue() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { toast } = useToast();
  const me = useQuery(trpc.me.get.queryOptions());
  const canDecide = hasScope(me.data, "approvals:decide");
  const [tab, setTab] = useState<Tab>("pending");
  const [dialog, setDialog] = useState<DecisionDialogState | null>(null);
  const sessions = useRef(0);
  const now = useNow(5_000);

  // The queue is worked oldest first (the server orders PENDING by age).
  const pending = useQuery({
    ...trpc.approvals.list.queryOptions({ status: "PENDING", limit: 100 }),
    refetchInterval: tab === "pending" ? QUEUE_POLL_MS : 10_000,
  });
  const decided = useInfiniteQuery(
    trpc.approvals.list.infiniteQueryOptions(
      { decided: true, limit: 25 },
      { getNextPageParam: (last) => last.nextCursor ?? undefined, enabled: tab === "decided", refetchInterval: tab === "decided" ? 3_000 : false },
    ),
  );
  const pendingCount = pending.data?.items.length;

  const refresh = () => queryClient.invalidateQueries(trpc.approvals.pathFilter());
  const pendingKey = trpc.approvals.list.queryKey({ status: "PENDING", limit: 100 });
  const onDecided = (approval: ApprovalItem, how: "approved" | "edited" | "rejected") => {
    setDialog(null);
    // Out of the queue at once; the refetch below brings it back only if the server disagrees.
    queryClient.setQueryData(pendingKey, (page) => (page ? { ...page, items: page.items.filter((item) => item.id !== approval.id) } : page));
    toast({
      tone: how === "rejected" ? "info" : "success",
      title: how === "rejected" ? `Rejected ${approval.toolName}` : how === "edited" ? `Approved ${approval.toolName} with your changes` : `Approved ${approval.toolName}`,
      description:
        how === "rejected"
          ? `${approval.run.agent.name} gets your comment and carries on without the call.`
          : `${approval.run.agent.name} continues; the call runs with the approved arguments. It is under Decided now.`,
    });
    void refresh();
  };
  const onFailed = () => void refresh();

  const approve = useMutation(
    trpc.approvals.decide.mutationOptions({
      onSuccess: (approval) => onDecided(approval, "approved"),
      onError: (error) => {
        toast({ tone: "danger", title: "Could not approve", description: messageOf(error), duration: 10_000 });
        onFailed();
      },
    }),
  );
  const openDialog = (kind: DecisionDialogState["kind"], approval: ApprovalItem) => {
    sessions.current += 1;
    setDialog({ kind, approval, session: sessions.current });
  };

  // A link like /approvals#approval-<id> (from a run page) scrolls to that approval once it has loaded.
  const scrolledTo = useRef<string | null>(null);
  const loadedIds = [...(pending.data?.items ?? []), ...(decided.data?.pages.flatMap((page) => page.items) ?? [])].map((a) => a.id).join(",");
  useEffect(() => {
    const hash = window.location.hash.slice(1);
    if (!hash.startsWith("approval-") || scrolledTo.current === hash) return;
    const element = document.getElementById(hash);
    if (element) {
      scrolledTo.current = hash;
      element.scrollIntoView({ block: "start" });
    } else if (pending.isSuccess && tab === "pending") {
      // Not waiting any more: look for it among the decided ones.
      setTab("decided");
    }
  }, [loadedIds, pending.isSuccess, tab]);

  const decidedItems = decided.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <div className="space-y-6">
      <PageHeader title="Approvals" description="Tool calls that policy held for a person's decision. The run waits until someone decides or the approval expires." />

      {me.isSuccess && !canDecide ? (
        <p role="note" className="flex items-start gap-2 rounded-md border border-info-200 bg-info-50 px-3 py-2 text-sm text-info-800">
          <IconInfo className="mt-0.5 shrink-0" />
          You can follow the queue, but deciding needs a supervisor, admin or owner. Ask one of them to approve or reject these calls.
        </p>
      ) : null}

      <div role="tablist" aria-label="Approvals" className="flex gap-1 border-b border-border">
        {(["pending", "decided"] as const).map((name) => (
          <button
            key={name}
            type="button"
            role="tab"
            id={`tab-${name}`}
            aria-selected={tab === name}
            aria-controls={`panel-${name}`}
            onClick={() => setTab(name)}
            className={cn(
              "-mb-px flex items-center gap-2 border-b-2 px-3 py-2 text-sm",
              tab === name ? "border-accent-600 font-medium text-accent-700" : "border-transparent text-fg-muted hover:text-fg",
            )}
          >
            {name === "pending" ? "Pending" : "Decided"}
            {name === "pending" && pendingCount ? (
              <span className="rounded-full bg-warning-100 px-1.5 text-xs leading-5 font-semibold text-warning-800 tabular-nums">{pendingCount}</span>
            ) : null}
          </button>
        ))}
      </div>

      {tab === "pending" ? (
        <section role="tabpanel" id="panel-pending" aria-labelledby="tab-pending">
          {pending.isPending ? (
            <Spinner label="Loading the queue" showLabel />
          ) : pending.isError ? (
            <p role="alert" className="text-sm text-danger-700">{messageOf(pending.error)}</p>
          ) : pending.data.items.length === 0 ? (
            <EmptyState
              icon={<IconApprovals />}
              title="Nothing waiting for approval"
              description="When a policy holds a tool call for a person, it waits here with its arguments, the rule that held it, and the run it belongs to."
            />
          ) : (
            <>
              <p className="mb-3 text-xs text-fg-subtle">
                Oldest first · updates live{pending.data.nextCursor ? ` · showing the oldest ${pending.data.items.length}` : ""}
              </p>
              <ul className="space-y-4">
                {pending.data.items.map((approval) => (
                  <PendingApprovalCard
                    key={approval.id}
                    approval={approval}
                    now={now}
                    canDecide={canDecide}
                    approving={approve.isPending && approve.variables.approvalId === approval.id}
                    onApprove={() => approve.mutate({ approvalId: approval.id, decision: "approve" })}
                    onEdit={() => openDialog("edit", approval)}
                    onReject={() => openDialog("reject", approval)}
                  />
                ))}
              </ul>
            </>
          )}
        </section>
      ) : (
        <section role="tabpanel" id="panel-decided" aria-labelledby="tab-decided">
          {decided.isPending ? (
            <Spinner label="Loading decided approvals" showLabel />
          ) : decided.isError ? (
            <p role="alert" className="text-sm text-danger-700">{messageOf(decided.error)}</p>
          ) : decidedItems.length === 0 && !decided.hasNextPage ? (
            <EmptyState icon={<IconApprovals />} title="No decisions yet" description="Approved, rejected and expired calls are listed here, newest first, with who decided and what changed." />
          ) : (
            <>
              <p className="mb-3 text-xs text-fg-subtle">Newest first</p>
              <ul className="space-y-4">
                {decidedItems.map((approval) => <DecidedApprovalCard key={approval.id} approval={approval} />)}
              </ul>
              {decided.hasNextPage ? (
                <div className="mt-4 flex justify-center">
                  <Button loading={decided.isFetchingNextPage} onClick={() => void decided.fetchNextPage()}>Show older</Button>
                </div>
              ) : null}
            </>
          )}
        </section>
      )}

      <EditApproveDialog state={dialog} onClose={() => setDialog(null)} onDecided={onDecided} onFailed={onFailed} />
      <RejectDialog state={dialog} onClose={() => setDialog(null)} onDecided={onDecided} onFailed={onFailed} />
    </div>
  );
}
