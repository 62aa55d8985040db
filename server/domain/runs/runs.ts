import { z } from "zod";
import type { DbOrTx } from "@/server/db";
import { NotFound } from "../errors";
import { requireScope, type Principal } from "../identity/principal";

export const RUN_STATUSES = [
  "QUEUED",
  "RUNNING",
  "WAITING_APPROVAL",
  "WAITING_REVIEW",
  "SUCCEEDED",
  "FAILED",
  "CANCELLED",
  "HALTED",
] as const;

export const ListRunsInput = z.object({
  status: z.enum(RUN_STATUSES).optional(),
  agentId: z.string().optional(),
  cursor: z.string().optional(),
  limit: z.number().int().min(1).max(100).default(50),
});
export type ListRunsInput = z.infer<typeof ListRunsInput>;

const runSummarySelect = {
  id: true,
  status: true,
  trigger: true,
  input: true,
  output: true,
  error: true,
  haltReason: true,
  inputTokens: true,
  outputTokens: true,
  costMicros: true,
  stepCount: true,
  createdAt: true,
  startedAt: true,
  endedAt: true,
  agent: { select: { id: true, slug: true, name: true } },
  onBehalfOf: { select: { id: true, email: true } },
} as const;

export async function listRuns(db: DbOrTx, principal: Principal, input: ListRunsInput) {
  requireScope(principal, "runs:read");
  const rows = await db.run.findMany({
    where: { orgId: principal.orgId, status: input.status, agentId: input.agentId },
    select: runSummarySelect,
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: input.limit + 1,
    ...(input.cursor ? { cursor: { id: input.cursor }, skip: 1 } : {}),
  });
  const hasMore = rows.length > input.limit;
  const items = hasMore ? rows.slice(0, input.limit) : rows;
  return { items, nextCursor: hasMore ? items[items.length - 1]?.id : undefined };
}

export async function getRun(db: DbOrTx, principal: Principal, id: string) {
  requireScope(principal, "runs:read");
  const run = await db.run.findFirst({
    where: { id, orgId: principal.orgId },
    select: {
      ...runSummarySelect,
      events: {
        select: { seq: true, type: true, name: true, status: true, startedAt: true, endedAt: true },
        orderBy: { seq: "asc" },
      },
    },
  });
  if (!run) throw new NotFound("Run");
  return run;
}
