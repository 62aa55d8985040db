import { z } from "zod";
import { inTransaction, type DbOrTx } from "@/server/db";
import type { Prisma } from "@/server/generated/prisma/client";
import { appendAudit } from "../audit/audit-log";
import { Conflict, InvalidInput, NotFound } from "../errors";
import { actorOf, requireScope, type Principal } from "../identity/principal";
import { signalRunnable } from "../runs/wakeup";
import { parseInput } from "../tools/input";

/**
 * The inbox: work products agents drafted for a person to review. The kernel submits a draft (a new item, or the
 * next revision of the item a reviewer sent back) and parks the run in WAITING_REVIEW; a reviewer decides exactly
 * once per revision — accept (optionally after editing: the edit is kept as a revision of its own), request
 * changes with feedback, or discard — and the run is queued again. The worker reads the decision from these rows;
 * accepting runs the draft's commit action through policy, acting for the reviewer.
 */

export const INBOX_STATUSES = ["PENDING", "CHANGES_REQUESTED", "ACCEPTED", "DISCARDED"] as const;
export type InboxStatusName = (typeof INBOX_STATUSES)[number];
export const DRAFT_KIND_NAMES = ["EMAIL", "DOCUMENT", "TICKET_REPLY"] as const;
export type DraftKindName = (typeof DRAFT_KIND_NAMES)[number];

/** What accepting a draft does: one of the agent's tools, with the accepted body (and title) put into named arguments. */
export interface CommitAction {
  tool: string;
  args: Record<string, unknown>;
  bodyArg?: string;
  titleArg?: string;
}

/** The commit action's arguments with the accepted revision filled in. */
export function commitArgs(action: CommitAction, accepted: { title: string; body: string }): Record<string, unknown> {
  return {
    ...action.args,
    ...(action.bodyArg ? { [action.bodyArg]: accepted.body } : {}),
    ...(action.titleArg ? { [action.titleArg]: accepted.title } : {}),
  };
}

// ─── Kernel side ─────────────────────────────────────────────────────────────────────────────────────────────────

export interface DraftSubmission {
  orgId: string;
  runId: string;
  agentId: string;
  /** The run's DRAFT event for this submission; submitting the same event twice (a resumed worker) is a no-op. */
  eventId: string;
  kind: DraftKindName;
  title: string;
  body: string;
  commitAction: CommitAction | null;
}

/**
 * Files a draft: the next revision of this run's item when a reviewer asked for changes, otherwise a new item.
 * Returns the item and the revision number.
 */
export async function submitDraft(db: DbOrTx, draft: DraftSubmission): Promise<{ itemId: string; revision: number }> {
  return inTransaction(db, async (tx) => {
    const already = await tx.inboxItem.findFirst({ where: { orgId: draft.orgId, eventId: draft.eventId }, select: { id: true, currentRevision: true } });
    if (already) return { itemId: already.id, revision: already.currentRevision };
    const commitAction = (draft.commitAction ?? undefined) as Prisma.InputJsonValue | undefined;
    const previous = await tx.inboxItem.findFirst({
      where: { orgId: draft.orgId, runId: draft.runId, status: "CHANGES_REQUESTED" },
      orderBy: { createdAt: "desc" },
      select: { id: true, currentRevision: true },
    });
    let itemId: string;
    let revision: number;
    if (previous) {
      revision = previous.currentRevision + 1;
      const { count } = await tx.inboxItem.updateMany({
        where: { id: previous.id, orgId: draft.orgId, status: "CHANGES_REQUESTED" },
        data: {
          status: "PENDING",
          eventId: draft.eventId,
          kind: draft.kind,
          title: draft.title,
          commitAction,
          currentRevision: revision,
          readAt: null,
          decidedById: null,
          decidedAt: null,
        },
      });
      if (count !== 1) throw new Conflict("The inbox item changed while the revision was being filed.");
      itemId = previous.id;
    } else {
      revision = 1;
      const item = await tx.inboxItem.create({
        data: { orgId: draft.orgId, runId: draft.runId, agentId: draft.agentId, eventId: draft.eventId, kind: draft.kind, title: draft.title, commitAction },
        select: { id: true },
      });
      itemId = item.id;
    }
    await tx.inboxRevision.create({ data: { orgId: draft.orgId, itemId, revision, title: draft.title, body: draft.body, author: "AGENT" } });
    await appendAudit(tx, {
      orgId: draft.orgId,
      action: revision === 1 ? "inbox.submitted" : "inbox.revised",
      actorType: "AGENT",
      actorId: draft.agentId,
      targetType: "InboxItem",
      targetId: itemId,
      data: { runId: draft.runId, revision, kind: draft.kind, title: draft.title },
    });
    return { itemId, revision };
  });
}

export interface ReviewOutcome {
  itemId: string;
  status: InboxStatusName;
  revision: number;
  title: string;
  body: string;
  feedback: string | null;
  commitAction: CommitAction | null;
  decidedBy: { id: string; email: string; name: string | null } | null;
}

/** The state of the item a DRAFT event submitted, with the revision that is current now (the accepted one, if so). */
export async function readReview(db: DbOrTx, orgId: string, eventId: string): Promise<ReviewOutcome | null> {
  const item = await db.inboxItem.findFirst({
    where: { orgId, eventId },
    select: {
      id: true,
      status: true,
      currentRevision: true,
      commitAction: true,
      decidedById: true,
      revisions: { orderBy: { revision: "desc" }, take: 1, select: { revision: true, title: true, body: true, feedback: true } },
    },
  });
  if (!item) return null;
  const latest = item.revisions[0];
  if (!latest) return null;
  const decidedBy = item.decidedById
    ? await db.user.findUnique({ where: { id: item.decidedById }, select: { id: true, email: true, name: true } })
    : null;
  return {
    itemId: item.id,
    status: item.status,
    revision: latest.revision,
    title: latest.title,
    body: latest.body,
    feedback: latest.feedback,
    commitAction: (item.commitAction as CommitAction | null) ?? null,
    decidedBy,
  };
}

/** A run that ended before anyone reviewed its draft (cancelled, agent disabled) leaves the item discarded. */
export async function discardOpenDrafts(db: DbOrTx, orgId: string, runId: string, why: string): Promise<number> {
  const open = await db.inboxItem.findMany({ where: { orgId, runId, status: { in: ["PENDING", "CHANGES_REQUESTED"] } }, select: { id: true } });
  for (const item of open) {
    await inTransaction(db, async (tx) => {
      const { count } = await tx.inboxItem.updateMany({ where: { id: item.id, orgId, status: { in: ["PENDING", "CHANGES_REQUESTED"] } }, data: { status: "DISCARDED", decidedAt: new Date() } });
      if (count === 1) await appendAudit(tx, { orgId, action: "inbox.discarded", actorType: "SYSTEM", targetType: "InboxItem", targetId: item.id, data: { runId, why } });
    });
  }
  return open.length;
}

// ─── Reviewer side ───────────────────────────────────────────────────────────────────────────────────────────────

export const ListInboxInput = z.object({
  status: z.enum([...INBOX_STATUSES, "OPEN"], "Status is one of pending, changes_requested, accepted, discarded or open.").optional(),
  agentId: z.string().max(100).optional(),
  kind: z.enum(DRAFT_KIND_NAMES, "Kind is one of email, document or ticket_reply.").optional(),
  /** A user id, or "me", or "none" for unassigned items. */
  assignee: z.string().max(100).optional(),
  /** Only items waiting at least this many hours. */
  minAgeHours: z.number().min(0).max(24 * 365).optional(),
  cursor: z.string().max(100).optional(),
  limit: z.number().int().min(1).max(100).default(50),
});
export type ListInboxInput = z.input<typeof ListInboxInput>;

const itemSummarySelect = {
  id: true,
  runId: true,
  kind: true,
  title: true,
  status: true,
  currentRevision: true,
  readAt: true,
  createdAt: true,
  updatedAt: true,
  decidedAt: true,
  agent: { select: { id: true, slug: true, name: true } },
  assignee: { select: { id: true, email: true, name: true } },
} satisfies Prisma.InboxItemSelect;

export async function listInbox(db: DbOrTx, principal: Principal, raw: ListInboxInput = {}) {
  requireScope(principal, "inbox:read");
  const input = parseInput(ListInboxInput, raw);
  const where: Prisma.InboxItemWhereInput = { orgId: principal.orgId };
  if (input.status === "OPEN") where.status = { in: ["PENDING", "CHANGES_REQUESTED"] };
  else if (input.status) where.status = input.status;
  if (input.agentId) where.agentId = input.agentId;
  if (input.kind) where.kind = input.kind;
  if (input.assignee === "none") where.assigneeId = null;
  else if (input.assignee === "me") where.assigneeId = principal.userId ?? "-";
  else if (input.assignee) where.assigneeId = input.assignee;
  if (input.minAgeHours !== undefined) where.createdAt = { lte: new Date(Date.now() - input.minAgeHours * 3_600_000) };
  const waiting = input.status === "PENDING" || input.status === "OPEN";
  const rows = await db.inboxItem.findMany({
    where,
    // A queue is worked oldest first; history reads newest first.
    orderBy: [{ createdAt: waiting ? "asc" : "desc" }, { id: "asc" }],
    take: input.limit + 1,
    ...(input.cursor ? { cursor: { id: input.cursor }, skip: 1 } : {}),
    select: itemSummarySelect,
  });
  const page = rows.slice(0, input.limit);
  return { items: page, nextCursor: rows.length > input.limit ? (page[page.length - 1]?.id ?? null) : null };
}

/** For the navigation badge: drafts waiting for a decision, and how many of them nobody opened yet. */
export async function inboxCounts(db: DbOrTx, principal: Principal): Promise<{ pending: number; unread: number }> {
  requireScope(principal, "inbox:read");
  const [pending, unread] = await Promise.all([
    db.inboxItem.count({ where: { orgId: principal.orgId, status: "PENDING" } }),
    db.inboxItem.count({ where: { orgId: principal.orgId, status: "PENDING", readAt: null } }),
  ]);
  return { pending, unread };
}

/** One item with every revision, the run that drafted it, and the context it drew on (the run's tool results). */
export async function getInboxItem(db: DbOrTx, principal: Principal, id: string) {
  requireScope(principal, "inbox:read");
  const item = await db.inboxItem.findFirst({
    where: { id, orgId: principal.orgId },
    select: {
      ...itemSummarySelect,
      commitAction: true,
      eventId: true,
      decidedBy: { select: { id: true, email: true, name: true } },
      revisions: {
        orderBy: { revision: "asc" },
        select: { revision: true, title: true, body: true, author: true, feedback: true, createdAt: true, authorUser: { select: { id: true, email: true, name: true } } },
      },
      run: {
        select: {
          id: true,
          status: true,
          input: true,
          output: true,
          createdAt: true,
          onBehalfOf: { select: { id: true, email: true, name: true } },
        },
      },
    },
  });
  if (!item) throw new NotFound("Inbox item");
  const events = await db.runEvent.findMany({
    where: { orgId: principal.orgId, runId: item.run.id, type: { in: ["TOOL_CALL", "DRAFT"] } },
    orderBy: { seq: "asc" },
    select: { id: true, seq: true, type: true, name: true, status: true, payload: true, startedAt: true },
  });
  const sources = events
    .filter((event) => event.type === "TOOL_CALL" && !(event.payload as { builtin?: boolean } | null)?.builtin)
    .map((event) => {
      const payload = (event.payload ?? {}) as { args?: unknown; result?: { content?: string }; error?: { message?: string } };
      return { eventId: event.id, seq: event.seq, tool: event.name, status: event.status, args: payload.args ?? {}, result: payload.result?.content ?? payload.error?.message ?? null };
    });
  const { eventId: _eventId, ...rest } = item;
  return { ...rest, commitAction: (item.commitAction as CommitAction | null) ?? null, sources, draftEvents: events.filter((e) => e.type === "DRAFT").map((e) => ({ eventId: e.id, seq: e.seq, status: e.status })) };
}

export async function markInboxItemRead(db: DbOrTx, principal: Principal, id: string): Promise<void> {
  requireScope(principal, "inbox:read");
  const { count } = await db.inboxItem.updateMany({ where: { id, orgId: principal.orgId, readAt: null }, data: { readAt: new Date() } });
  if (count === 0 && !(await db.inboxItem.findFirst({ where: { id, orgId: principal.orgId }, select: { id: true } }))) throw new NotFound("Inbox item");
}

export const AssignInboxItemInput = z.object({
  itemId: z.string().min(1).max(100),
  /** null unassigns. */
  assigneeId: z.string().min(1).max(100).nullable(),
});

export async function assignInboxItem(db: DbOrTx, principal: Principal, raw: z.input<typeof AssignInboxItemInput>) {
  requireScope(principal, "inbox:decide");
  const input = parseInput(AssignInboxItemInput, raw);
  const item = await db.inboxItem.findFirst({ where: { id: input.itemId, orgId: principal.orgId }, select: { id: true } });
  if (!item) throw new NotFound("Inbox item");
  if (input.assigneeId) {
    const member = await db.membership.findFirst({ where: { orgId: principal.orgId, userId: input.assigneeId, revokedAt: null }, select: { userId: true } });
    if (!member) throw new InvalidInput("Assign the item to an active member of this organisation.", { assigneeId: ["Not an active member."] });
  }
  await inTransaction(db, async (tx) => {
    await tx.inboxItem.update({ where: { id: item.id }, data: { assigneeId: input.assigneeId } });
    await appendAudit(tx, { orgId: principal.orgId, action: "inbox.assigned", ...actorOf(principal), targetType: "InboxItem", targetId: item.id, data: { assigneeId: input.assigneeId } });
  });
}

export const INBOX_DECISIONS = ["accept", "request_changes", "discard"] as const;

export const DecideInboxItemInput = z
  .object({
    itemId: z.string().min(1).max(100),
    decision: z.enum(INBOX_DECISIONS, "Decide accept, request_changes or discard."),
    /** Accept only: the edited body (and title), kept as a revision written by the reviewer. */
    body: z.string().min(1, "The body cannot be empty.").max(100_000, "The body is limited to 100,000 characters.").optional(),
    title: z.string().trim().min(1, "The title cannot be empty.").max(300, "Keep the title under 300 characters.").optional(),
    /** request_changes: what the agent should change. */
    feedback: z.string().trim().max(5_000, "Keep the feedback under 5000 characters.").optional(),
    /** The revision the reviewer looked at; a decision on a revision that has since been replaced is refused. */
    expectedRevision: z.number().int().min(1).optional(),
  })
  .refine((input) => input.decision !== "request_changes" || (input.feedback ?? "").length > 0, {
    message: "Say what should change: the agent revises the draft from your feedback.",
    path: ["feedback"],
  })
  .refine((input) => input.decision === "accept" || (input.body === undefined && input.title === undefined), {
    message: "Only accepting can edit the draft; to have the agent change it, request changes.",
    path: ["body"],
  });
export type DecideInboxItemInput = z.input<typeof DecideInboxItemInput>;

const STATUS_WORDS: Record<InboxStatusName, string> = {
  PENDING: "waiting for review",
  CHANGES_REQUESTED: "sent back for changes",
  ACCEPTED: "accepted",
  DISCARDED: "discarded",
};

async function alreadyDecided(db: DbOrTx, orgId: string, id: string): Promise<Conflict> {
  const row = await db.inboxItem.findFirst({ where: { id, orgId }, select: { status: true, decidedAt: true, decidedBy: { select: { name: true, email: true } } } });
  if (!row) return new Conflict("This inbox item no longer exists.");
  const who = row.decidedBy ? ` by ${row.decidedBy.name ?? row.decidedBy.email}` : "";
  const when = row.decidedAt ? ` at ${row.decidedAt.toISOString().slice(0, 16).replace("T", " ")} UTC` : "";
  return new Conflict(`This draft was already ${STATUS_WORDS[row.status]}${who}${when}; it cannot be decided again.`);
}

/**
 * A reviewer's decision, exactly once per revision (compare-and-set on PENDING + the current revision). Accepting
 * acts for the reviewer: the worker runs the commit action through policy on their behalf, so a decision needs a
 * person behind it (an API key acts for the admin who created it).
 */
export async function decideInboxItem(db: DbOrTx, principal: Principal, raw: DecideInboxItemInput) {
  requireScope(principal, "inbox:decide");
  const input = parseInput(DecideInboxItemInput, raw);
  if (!principal.userId) throw new InvalidInput("This API key has no owner to act for; accepting a draft acts for a person.");
  const item = await db.inboxItem.findFirst({
    where: { id: input.itemId, orgId: principal.orgId },
    select: { id: true, runId: true, status: true, currentRevision: true, revisions: { orderBy: { revision: "desc" }, take: 1, select: { title: true, body: true } } },
  });
  if (!item) throw new NotFound("Inbox item");
  if (item.status !== "PENDING") throw await alreadyDecided(db, principal.orgId, item.id);
  if (input.expectedRevision !== undefined && input.expectedRevision !== item.currentRevision) {
    throw new Conflict(`The agent submitted revision ${item.currentRevision} since you opened revision ${input.expectedRevision}; review the new one.`);
  }
  const latest = item.revisions[0];
  const edited = input.decision === "accept" && latest !== undefined && ((input.body !== undefined && input.body !== latest.body) || (input.title !== undefined && input.title !== latest.title));
  const status: InboxStatusName = input.decision === "accept" ? "ACCEPTED" : input.decision === "discard" ? "DISCARDED" : "CHANGES_REQUESTED";

  await inTransaction(db, async (tx) => {
    const revision = edited ? item.currentRevision + 1 : item.currentRevision;
    const { count } = await tx.inboxItem.updateMany({
      where: { id: item.id, orgId: principal.orgId, status: "PENDING", currentRevision: item.currentRevision },
      data: { status, decidedById: principal.userId, decidedAt: new Date(), currentRevision: revision, readAt: new Date(), ...(edited ? { title: input.title ?? latest.title } : {}) },
    });
    if (count !== 1) throw await alreadyDecided(tx, principal.orgId, item.id);
    if (edited) {
      await tx.inboxRevision.create({
        data: { orgId: principal.orgId, itemId: item.id, revision, title: input.title ?? latest.title, body: input.body ?? latest.body, author: "HUMAN", authorUserId: principal.userId },
      });
    }
    if (input.decision === "request_changes") {
      await tx.inboxRevision.updateMany({ where: { orgId: principal.orgId, itemId: item.id, revision: item.currentRevision }, data: { feedback: input.feedback ?? null } });
    }
    await tx.run.updateMany({ where: { id: item.runId, orgId: principal.orgId, status: "WAITING_REVIEW" }, data: { status: "QUEUED" } });
    await appendAudit(tx, {
      orgId: principal.orgId,
      action: input.decision === "accept" ? (edited ? "inbox.accepted_with_edits" : "inbox.accepted") : input.decision === "discard" ? "inbox.discarded" : "inbox.changes_requested",
      ...actorOf(principal),
      targetType: "InboxItem",
      targetId: item.id,
      data: { runId: item.runId, revision, edited, ...(input.feedback ? { feedback: input.feedback } : {}) },
    });
  });
  signalRunnable();
  return getInboxItem(db, principal, item.id);
}
