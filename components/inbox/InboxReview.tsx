"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { TRPCClientError } from "@trpc/client";
import Link from "next/link";
import { useEffect, useImperativeHandle, useRef, useState, type ReactNode, type Ref } from "react";
import { isLive } from "@/components/runs/runStatus";
import { Badge, Button, Card, EmptyState, IconChevronRight, IconInbox, IconInfo, Select, Spinner, useToast } from "@/components/ui";
import { cn } from "@/lib/cn";
import { formatDateTime } from "@/lib/format";
import { fieldErrorsOf, messageOf, useTRPC } from "@/lib/trpc";
import { DecisionCard, DiscardDialog, RequestChangesCard } from "./DecisionParts";
import { DraftCard, EditDraftCard, type DraftMode } from "./DraftPanel";
import { KindBadge } from "./KindIcon";
import { ContextCard, RevisionHistory } from "./ReviewContext";
import { ReviewOutcome } from "./ReviewOutcome";
import { DETAIL_POLL_MS, isOpen, personName, STATUS_BADGES, type InboxDetail, type Person } from "./shared";

/** What the page's keyboard shortcuts ask of the open draft. */
export interface ReviewHandle {
  accept: () => void;
  edit: () => void;
  requestChanges: () => void;
  discard: () => void;
}

type Panel = null | "changes" | "edit";
type Decision = "accept" | "request_changes" | "discard";

function pollInterval(item: InboxDetail | undefined): number | false {
  if (!item) return false;
  // Waiting: someone else may decide, or (sent back) the agent's next revision arrives.
  if (isOpen(item.status)) return DETAIL_POLL_MS;
  // Decided: follow the run until it has done what the decision started.
  return isLive(item.run.status) ? DETAIL_POLL_MS : false;
}

const isConflict = (error: unknown) => error instanceof TRPCClientError && (error.data as { code?: string } | undefined)?.code === "CONFLICT";

function Meta({ label, children, clip = true }: { label: string; children: ReactNode; clip?: boolean }) {
  return (
    <div className="min-w-0">
      <dt className="text-xs text-fg-subtle">{label}</dt>
      <dd className={cn("mt-0.5 text-sm text-fg", clip && "truncate")}>{children}</dd>
    </div>
  );
}

function AssigneeSelect({ item, meId, members, canAssign }: { item: InboxDetail; meId: string | null; members: Person[]; canAssign: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { toast } = useToast();
  const assign = useMutation(
    trpc.inbox.assign.mutationOptions({
      onSuccess: () => void queryClient.invalidateQueries(trpc.inbox.pathFilter()),
      onError: (error) => toast({ tone: "danger", title: "Could not assign the draft", description: messageOf(error) }),
    }),
  );
  if (!canAssign) return <>{item.assignee ? personName(item.assignee, meId) : <span className="text-fg-subtle">Unassigned</span>}</>;
  // Whoever holds it stays selectable even if the member list is not readable or they have left.
  const people = new Map<string, Person>();
  for (const member of members) people.set(member.id, member);
  if (item.assignee) people.set(item.assignee.id, item.assignee);
  const value = assign.isPending ? (assign.variables.assigneeId ?? "") : (item.assignee?.id ?? "");
  return (
    <Select
      aria-label="Assignee"
      value={value}
      disabled={assign.isPending}
      onChange={(event) => assign.mutate({ itemId: item.id, assigneeId: event.target.value || null })}
      className="-my-0.5 h-7 max-w-48 text-xs"
    >
      <option value="">Unassigned</option>
      {meId && !people.has(meId) ? <option value={meId}>Me</option> : null}
      {[...people.values()].map((person) => (
        <option key={person.id} value={person.id}>{person.id === meId ? `Me (${person.name ?? person.email})` : (person.name ?? person.email)}</option>
      ))}
    </Select>
  );
}

export function InboxReview({ id, ref, meId, canDecide, members, position, onNext, onPrevious, backHref }: {
  id: string;
  ref?: Ref<ReviewHandle>;
  meId: string | null;
  canDecide: boolean;
  members: Person[];
  /** "3 of 7" in the current list; null when the item is not (or no longer) in it. */
  position: { index: number; total: number } | null;
  onNext: (() => void) | null;
  onPrevious: (() => void) | null;
  backHref: string;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { toast } = useToast();
  const itemQuery = useQuery({ ...trpc.inbox.byId.queryOptions({ id }), refetchInterval: (query) => pollInterval(query.state.data) });
  const item = itemQuery.data;

  const [shownRevision, setShownRevision] = useState<number | null>(null);
  const [mode, setMode] = useState<DraftMode>("preview");
  const [panel, setPanel] = useState<Panel>(null);
  const [discarding, setDiscarding] = useState(false);
  /** The revision a form was opened on: the decision names it, so a newer revision makes it a conflict. */
  const [baseRevision, setBaseRevision] = useState<number | null>(null);
  const feedbackRef = useRef<HTMLTextAreaElement>(null);

  // Why the run failed, once it has (inbox.byId carries the run's status and output, not its error).
  const runEnded = item ? !isLive(item.run.status) && item.run.status !== "SUCCEEDED" : false;
  const run = useQuery({ ...trpc.runs.byId.queryOptions({ id: item?.run.id ?? "" }), enabled: Boolean(item && !isOpen(item.status) && runEnded) });

  const invalidateLists = () => {
    void queryClient.invalidateQueries(trpc.inbox.list.pathFilter());
    void queryClient.invalidateQueries(trpc.inbox.counts.pathFilter());
  };

  // A reviewer opening a draft marks it read; a new revision (unread again) is marked when it arrives on screen.
  // Someone who may not decide leaves it unread: "unread" tells reviewers that none of them has looked at it yet.
  const markRead = useMutation(trpc.inbox.markRead.mutationOptions({ onSuccess: invalidateLists }));
  const { mutate: markReadMutate } = markRead;
  const markedKey = useRef<string | null>(null);
  useEffect(() => {
    if (!item || item.readAt !== null || !canDecide) return;
    const key = `${item.id}:${item.currentRevision}`;
    if (markedKey.current === key) return;
    markedKey.current = key;
    markReadMutate({ id: item.id });
  }, [item, canDecide, markReadMutate]);

  const decide = useMutation(
    trpc.inbox.decide.mutationOptions({
      onSuccess: (result, variables) => {
        queryClient.setQueryData(trpc.inbox.byId.queryKey({ id }), result);
        setPanel(null);
        setDiscarding(false);
        setShownRevision(null);
        setMode("preview");
        const edited = result.revisions[result.revisions.length - 1]?.author === "HUMAN" && variables.decision === "accept" && (variables.body !== undefined || variables.title !== undefined);
        const tool = result.commitAction?.tool;
        if (variables.decision === "accept") {
          toast({
            tone: "success",
            title: edited ? "Accepted with your edits" : `Accepted revision ${result.currentRevision}`,
            description: tool ? `${result.agent.name} runs ${tool} with it now; the outcome shows on the draft.` : `${result.agent.name} continues with it.`,
          });
        } else if (variables.decision === "request_changes") {
          toast({ tone: "info", title: `Sent back to ${result.agent.name}`, description: `It revises the draft from your feedback; revision ${result.currentRevision + 1} appears here.` });
        } else {
          toast({ tone: "info", title: "Draft discarded", description: `Nothing was ${tool ? "sent" : "done with it"}. ${result.agent.name} is told.` });
        }
        invalidateLists();
      },
      onError: (error) => {
        // Someone else decided, or the agent submitted a newer revision: show what is true now.
        if (isConflict(error) || Object.keys(fieldErrorsOf(error)).length === 0) void itemQuery.refetch();
        invalidateLists();
      },
    }),
  );

  const decideNow = (decision: Decision, extra: { feedback?: string; body?: string; title?: string } = {}, expected?: number) => {
    if (!item || decide.isPending) return;
    decide.mutate({ itemId: item.id, decision, expectedRevision: expected ?? item.currentRevision, ...extra });
  };

  const pending = item?.status === "PENDING";
  const actionable = Boolean(item && pending && canDecide);
  const openChanges = () => {
    if (!item || !actionable) return;
    decide.reset();
    setBaseRevision(item.currentRevision);
    setPanel("changes");
    // The card mounts with this render; focus once it is there.
    window.setTimeout(() => feedbackRef.current?.focus(), 0);
  };
  const openEdit = () => {
    if (!item || !actionable) return;
    decide.reset();
    setBaseRevision(item.currentRevision);
    setPanel("edit");
    window.setTimeout(() => document.querySelector<HTMLTextAreaElement>("[data-inbox-autofocus]")?.focus(), 0);
  };
  const openDiscard = () => {
    if (!actionable) return;
    decide.reset();
    setDiscarding(true);
  };
  const acceptNow = () => {
    if (!actionable || panel === "edit") return;
    decide.reset();
    decideNow("accept");
  };

  useImperativeHandle(ref, () => ({ accept: acceptNow, edit: openEdit, requestChanges: openChanges, discard: openDiscard }));

  // A decision made elsewhere (another reviewer, the REST API) closes the forms opened on this revision.
  useEffect(() => {
    if (item && item.status !== "PENDING" && panel !== null && !decide.isPending) setPanel(null);
  }, [item, panel, decide.isPending]);

  if (itemQuery.isPending) return <Spinner label="Loading the draft" showLabel />;
  if (itemQuery.isError || !item) {
    return (
      <EmptyState
        icon={<IconInbox />}
        title="This draft could not be opened"
        description={messageOf(itemQuery.error)}
        action={<Link href={backHref} className="text-sm font-medium text-accent-700 hover:underline">Back to the inbox</Link>}
      />
    );
  }

  const latest = item.revisions[item.revisions.length - 1];
  const shown = item.revisions.find((revision) => revision.revision === shownRevision) ?? latest;
  const status = STATUS_BADGES[item.status];
  const formError = panel !== null ? decide.error : null;
  const barError = panel === null && !discarding ? decide.error : null;
  const base = item.revisions.find((revision) => revision.revision === baseRevision) ?? latest;

  return (
    <article aria-label={`Draft: ${item.title}`} className="space-y-4">
      <Card>
        <div className="flex flex-wrap items-center justify-between gap-2 border-b border-border px-4 py-2">
          <span className="flex flex-wrap items-center gap-2">
            <KindBadge kind={item.kind} />
            <Badge tone={status.tone} dot>{status.label}</Badge>
            <span className="text-xs text-fg-muted tabular-nums">rev {item.currentRevision}</span>
            {itemQuery.isFetching && !itemQuery.isPending ? <Spinner size="sm" label="Checking for updates" /> : null}
          </span>
          <span className="flex items-center gap-1">
            {position ? <span className="mr-1 text-xs text-fg-subtle tabular-nums">{position.index + 1} of {position.total}</span> : null}
            <Button size="sm" variant="ghost" aria-label="Previous draft (k)" title="Previous draft (k)" disabled={!onPrevious} onClick={() => onPrevious?.()} icon={<IconChevronRight className="rotate-180" />} />
            <Button size="sm" variant="ghost" aria-label="Next draft (j)" title="Next draft (j)" disabled={!onNext} onClick={() => onNext?.()} icon={<IconChevronRight />} />
          </span>
        </div>
        <div className="space-y-4 px-4 py-4">
          <h2 className="text-lg leading-7 font-semibold tracking-[-0.01em] text-gray-950">{item.title}</h2>
          <dl className="grid grid-cols-2 gap-x-6 gap-y-3 sm:grid-cols-3 2xl:grid-cols-5">
            <Meta label="Agent">
              <span className="font-medium">{item.agent.name}</span> <span className="font-mono text-xs text-fg-subtle">{item.agent.slug}</span>
            </Meta>
            <Meta label="Acts for">
              <span title={item.run.onBehalfOf.name ?? undefined}>{item.run.onBehalfOf.email}</span>
            </Meta>
            <Meta label="Run">
              <Link href={`/runs/${item.run.id}`} className="font-mono text-xs text-accent-700 hover:underline" aria-label={`Open run ${item.run.id}`}>
                {item.run.id.slice(-8)} →
              </Link>
            </Meta>
            <Meta label="Submitted">
              <span title={formatDateTime(item.createdAt)}>{formatDateTime(item.createdAt)}</span>
            </Meta>
            <Meta label="Assignee" clip={false}>
              <AssigneeSelect item={item} meId={meId} members={members} canAssign={canDecide && isOpen(item.status)} />
            </Meta>
          </dl>
        </div>
      </Card>

      <ReviewOutcome item={item} meId={meId} runError={run.data?.error ?? null} onNext={onNext} />

      {pending && !canDecide ? (
        <p role="note" className="flex items-start gap-2 rounded-md border border-info-200 bg-info-50 px-3 py-2 text-sm text-info-800">
          <IconInfo className="mt-0.5 shrink-0" />
          You can read this draft, but deciding needs a supervisor, admin or owner.
        </p>
      ) : null}

      {pending && panel !== "edit" ? (
        <DecisionCard
          commitAction={item.commitAction}
          canDecide={canDecide}
          busy={decide.isPending || panel === "changes"}
          accepting={decide.isPending && decide.variables.decision === "accept"}
          error={barError}
          onAccept={acceptNow}
          onEdit={openEdit}
          onRequestChanges={openChanges}
          onDiscard={openDiscard}
        />
      ) : null}

      {pending && panel === "changes" ? (
        <RequestChangesCard
          revision={base?.revision ?? item.currentRevision}
          agentName={item.agent.name}
          pending={decide.isPending}
          error={formError}
          textareaRef={feedbackRef}
          onCancel={() => {
            decide.reset();
            setPanel(null);
          }}
          onSubmit={(feedback) => decideNow("request_changes", { feedback }, baseRevision ?? undefined)}
        />
      ) : null}

      {pending && panel === "edit" && base ? (
        <EditDraftCard
          item={item}
          base={base}
          pending={decide.isPending}
          error={formError}
          onCancel={() => {
            decide.reset();
            setPanel(null);
          }}
          onSubmit={(edit) => decideNow("accept", edit, baseRevision ?? undefined)}
        />
      ) : shown ? (
        <DraftCard
          item={item}
          shown={shown}
          mode={mode}
          onModeChange={setMode}
          onShowLatest={() => {
            setShownRevision(null);
            setMode("preview");
          }}
          meId={meId}
        />
      ) : null}

      <div className="grid gap-4 2xl:grid-cols-2">
        <RevisionHistory
          item={item}
          shownRevision={shown?.revision ?? item.currentRevision}
          onShow={(revision, nextMode) => {
            setShownRevision(revision === latest?.revision ? null : revision);
            setMode(nextMode);
          }}
          meId={meId}
        />
        <ContextCard item={item} />
      </div>

      <DiscardDialog
        open={discarding}
        title={item.title}
        hasCommit={item.commitAction !== null}
        agentName={item.agent.name}
        pending={decide.isPending}
        error={discarding ? decide.error : null}
        onClose={() => {
          decide.reset();
          setDiscarding(false);
        }}
        onConfirm={() => decideNow("discard")}
      />
    </article>
  );
}
