import { z } from "zod";
import { inTransaction, type DbOrTx } from "@/server/db";
import type { Prisma } from "@/server/generated/prisma/client";
import { appendAudit } from "../audit/audit-log";
import { canonicalJson, sha256Hex } from "../canonical";
import { Conflict, InvalidInput, NotFound } from "../errors";
import { actorOf, requireScope, type Principal } from "../identity/principal";
import { signalRunnable } from "../runs/wakeup";
import { parseInput } from "../tools/input";
import { validateToolArgs } from "./validate-args";

/**
 * Approvals: a tool call that policy held for a person. The kernel creates one (and parks the run in
 * WAITING_APPROVAL); a person decides exactly once — approve, approve with edited arguments, or reject with a
 * comment — and the run is queued again. The worker that picks it up reads the decision from this row, never from
 * the client: what executes is always the approved (or edited) arguments stored here.
 */

export const APPROVAL_STATUSES = ["PENDING", "APPROVED", "REJECTED", "EXPIRED", "VOID"] as const;
export type ApprovalStatusName = (typeof APPROVAL_STATUSES)[number];

export const argsHash = (args: unknown) => sha256Hex(canonicalJson(args));

export const ListApprovalsInput = z.object({
  status: z.enum(APPROVAL_STATUSES).optional(),
  /** Only approvals somebody (or the expiry) already decided: the history, newest first. */
  decided: z.boolean().optional(),
  runId: z.string().max(100).optional(),
  cursor: z.string().max(100).optional(),
  limit: z.number().int().min(1).max(100).default(50),
});
export type ListApprovalsInput = z.input<typeof ListApprovalsInput>;

export const DecideApprovalInput = z
  .object({
    approvalId: z.string().min(1).max(100),
    decision: z.enum(["approve", "reject"], "Decide approve or reject."),
    args: z.record(z.string(), z.unknown(), "The arguments must be a JSON object.").optional(),
    comment: z.string().trim().max(2_000, "Keep the comment under 2000 characters.").optional(),
  })
  .refine((input) => input.decision === "approve" || input.args === undefined, { message: "Only an approval can change the arguments.", path: ["args"] });
export type DecideApprovalInput = z.input<typeof DecideApprovalInput>;

const approvalSelect = {
  id: true,
  runId: true,
  toolName: true,
  args: true,
  decidedArgs: true,
  reason: true,
  status: true,
  comment: true,
  createdAt: true,
  expiresAt: true,
  decidedAt: true,
  policy: { select: { id: true, name: true } },
  decidedBy: { select: { id: true, email: true, name: true } },
  run: {
    select: {
      id: true,
      status: true,
      input: true,
      agent: { select: { id: true, slug: true, name: true } },
      onBehalfOf: { select: { id: true, email: true, name: true } },
    },
  },
  toolId: true,
} satisfies Prisma.ApprovalSelect;

async function withTools<T extends { toolId: string | null }>(db: DbOrTx, orgId: string, rows: T[]) {
  const ids = [...new Set(rows.map((r) => r.toolId).filter((id): id is string => id !== null))];
  const tools = ids.length
    ? await db.tool.findMany({ where: { orgId, id: { in: ids } }, select: { id: true, name: true, description: true, inputSchema: true, risk: true, server: { select: { name: true } } } })
    : [];
  const byId = new Map(tools.map((t) => [t.id, { id: t.id, name: t.name, description: t.description, inputSchema: t.inputSchema, risk: t.risk, server: t.server.name }]));
  return rows.map((row) => ({ ...row, tool: row.toolId ? (byId.get(row.toolId) ?? null) : null }));
}

export async function listApprovals(db: DbOrTx, principal: Principal, raw: ListApprovalsInput = {}) {
  requireScope(principal, "approvals:read");
  const input = parseInput(ListApprovalsInput, raw);
  const rows = await db.approval.findMany({
    where: {
      orgId: principal.orgId,
      ...(input.status ? { status: input.status } : input.decided ? { status: { not: "PENDING" } } : {}),
      ...(input.runId ? { runId: input.runId } : {}),
    },
    // The queue is worked oldest first; history newest first.
    orderBy: [{ createdAt: input.status === "PENDING" ? "asc" : "desc" }, { id: "asc" }],
    take: input.limit + 1,
    ...(input.cursor ? { cursor: { id: input.cursor }, skip: 1 } : {}),
    select: approvalSelect,
  });
  const page = rows.slice(0, input.limit);
  return { items: await withTools(db, principal.orgId, page), nextCursor: rows.length > input.limit ? (page[page.length - 1]?.id ?? null) : null };
}

export async function getApproval(db: DbOrTx, principal: Principal, id: string) {
  requireScope(principal, "approvals:read");
  const row = await db.approval.findFirst({ where: { id, orgId: principal.orgId }, select: approvalSelect });
  if (!row) throw new NotFound("Approval");
  const [withTool] = await withTools(db, principal.orgId, [row]);
  return withTool!;
}

export async function countPendingApprovals(db: DbOrTx, principal: Principal): Promise<number> {
  requireScope(principal, "approvals:read");
  return db.approval.count({ where: { orgId: principal.orgId, status: "PENDING" } });
}

/**
 * Decides a pending approval exactly once. A second decision — by anyone, at any time — is a Conflict naming who
 * decided first. Edited arguments must satisfy the tool's input schema; they replace the requested ones and the
 * audit log keeps both.
 */
export async function decideApproval(db: DbOrTx, principal: Principal, raw: DecideApprovalInput) {
  requireScope(principal, "approvals:decide");
  const input = parseInput(DecideApprovalInput, raw);
  const approval = await db.approval.findFirst({
    where: { id: input.approvalId, orgId: principal.orgId },
    select: { id: true, runId: true, toolId: true, toolName: true, args: true, status: true },
  });
  if (!approval) throw new NotFound("Approval");
  if (approval.status !== "PENDING") throw await alreadyDecided(db, approval.id);

  const approve = input.decision === "approve";
  const edited = approve && input.args !== undefined && canonicalJson(input.args) !== canonicalJson(approval.args);
  const finalArgs = (edited ? input.args : approval.args) as Prisma.InputJsonValue;
  if (edited) {
    const tool = approval.toolId ? await db.tool.findFirst({ where: { id: approval.toolId, orgId: principal.orgId }, select: { inputSchema: true } }) : null;
    const problems = validateToolArgs(tool?.inputSchema, input.args);
    if (problems) {
      const fields = Object.fromEntries(Object.entries(problems).map(([key, messages]) => [`args.${key}`, messages]));
      const first = Object.entries(problems)[0];
      throw new InvalidInput(first ? `${first[0]}: ${first[1][0]}` : "The arguments do not fit the tool.", fields);
    }
  }
  const comment = input.comment?.trim() || null;

  await inTransaction(db, async (tx) => {
    const { count } = await tx.approval.updateMany({
      where: { id: approval.id, orgId: principal.orgId, status: "PENDING" },
      data: {
        status: approve ? "APPROVED" : "REJECTED",
        decidedById: principal.userId,
        decidedArgs: approve ? finalArgs : undefined,
        argsHash: approve ? argsHash(finalArgs) : undefined,
        comment,
        decidedAt: new Date(),
      },
    });
    if (count !== 1) throw await alreadyDecided(tx, approval.id);
    await tx.run.updateMany({ where: { id: approval.runId, orgId: principal.orgId, status: "WAITING_APPROVAL" }, data: { status: "QUEUED" } });
    await appendAudit(tx, {
      orgId: principal.orgId,
      action: approve ? (edited ? "approval.approved_with_edits" : "approval.approved") : "approval.rejected",
      ...actorOf(principal),
      targetType: "Approval",
      targetId: approval.id,
      data: {
        runId: approval.runId,
        tool: approval.toolName,
        requestedArgs: approval.args as Prisma.InputJsonValue,
        ...(approve ? { approvedArgs: finalArgs } : {}),
        edited,
        comment,
      },
    });
  });
  signalRunnable();
  return getApproval(db, principal, approval.id);
}

async function alreadyDecided(db: DbOrTx, id: string): Promise<Conflict> {
  const row = await db.approval.findUnique({ where: { id }, select: { status: true, decidedAt: true, decidedBy: { select: { name: true, email: true } } } });
  if (!row) return new Conflict("This approval no longer exists.");
  const who = row.decidedBy ? ` by ${row.decidedBy.name ?? row.decidedBy.email}` : "";
  const when = row.decidedAt ? ` at ${row.decidedAt.toISOString().slice(0, 16).replace("T", " ")} UTC` : "";
  const what: Record<string, string> = { APPROVED: "approved", REJECTED: "rejected", EXPIRED: "expired", VOID: "voided (the run or agent was stopped)" };
  return new Conflict(`This approval was already ${what[row.status] ?? row.status.toLowerCase()}${who}${when}; it cannot be decided again.`);
}

/** The kernel's side: record a held call. Runs in the worker's trace transaction flow (no principal). */
export async function requestApproval(
  db: DbOrTx,
  input: { orgId: string; runId: string; eventId: string; toolId: string; toolName: string; args: Prisma.InputJsonValue; policyId: string | null; reason: string; expiresAt: Date },
) {
  return db.approval.create({
    data: {
      orgId: input.orgId,
      runId: input.runId,
      eventId: input.eventId,
      toolId: input.toolId,
      toolName: input.toolName,
      args: input.args,
      argsHash: argsHash(input.args),
      policyId: input.policyId,
      reason: input.reason,
      expiresAt: input.expiresAt,
    },
    select: { id: true },
  });
}

/**
 * Applies the default outcome to approvals nobody decided in time and queues their runs again. Safe to call from
 * every worker at once: each approval changes state exactly once (compare-and-set on PENDING).
 */
export async function expireApprovals(db: DbOrTx, defaultOutcomeOf: (orgId: string) => Promise<"REJECT" | "APPROVE">, now = new Date()): Promise<number> {
  const due = await db.approval.findMany({ where: { status: "PENDING", expiresAt: { lte: now } }, select: { id: true, orgId: true, runId: true, args: true, toolName: true }, take: 100 });
  let expired = 0;
  for (const approval of due) {
    const outcome = await defaultOutcomeOf(approval.orgId);
    const changed = await inTransaction(db, async (tx) => {
      const { count } = await tx.approval.updateMany({
        where: { id: approval.id, status: "PENDING" },
        data:
          outcome === "APPROVE"
            ? { status: "APPROVED", decidedArgs: approval.args as Prisma.InputJsonValue, decidedAt: now, comment: "Approved automatically: nobody decided in time." }
            : { status: "EXPIRED", decidedAt: now, comment: "Nobody decided in time, so the call was not made." },
      });
      if (count !== 1) return false;
      await tx.run.updateMany({ where: { id: approval.runId, status: "WAITING_APPROVAL" }, data: { status: "QUEUED" } });
      await appendAudit(tx, {
        orgId: approval.orgId,
        action: "approval.expired",
        actorType: "SYSTEM",
        targetType: "Approval",
        targetId: approval.id,
        data: { runId: approval.runId, tool: approval.toolName, outcome },
      });
      return true;
    });
    if (changed) expired += 1;
  }
  if (expired > 0) signalRunnable();
  return expired;
}

/** Voids the pending approvals of runs that were cancelled or whose agent was disabled. */
export async function voidPendingApprovals(db: DbOrTx, where: { orgId: string; runIds: string[] }, why: string): Promise<number> {
  if (where.runIds.length === 0) return 0;
  const { count } = await db.approval.updateMany({
    where: { orgId: where.orgId, runId: { in: where.runIds }, status: "PENDING" },
    data: { status: "VOID", decidedAt: new Date(), comment: why },
  });
  return count;
}
