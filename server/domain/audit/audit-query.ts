import { z } from "zod";
import type { DbOrTx } from "@/server/db";
import { requireScope, type Principal } from "../identity/principal";

export const ListAuditInput = z.object({
  action: z.string().max(100).optional(),
  cursor: z.number().int().positive().optional(),
  limit: z.number().int().min(1).max(200).default(50),
});
export type ListAuditInput = z.infer<typeof ListAuditInput>;

export async function listAuditEvents(db: DbOrTx, principal: Principal, input: ListAuditInput) {
  requireScope(principal, "audit:read");
  const rows = await db.auditEvent.findMany({
    where: {
      orgId: principal.orgId,
      ...(input.action ? { action: { startsWith: input.action } } : {}),
      ...(input.cursor ? { seq: { lt: input.cursor } } : {}),
    },
    orderBy: { seq: "desc" },
    take: input.limit + 1,
    select: { id: true, seq: true, action: true, actorType: true, actorId: true, targetType: true, targetId: true, data: true, hash: true, createdAt: true },
  });
  const hasMore = rows.length > input.limit;
  const items = hasMore ? rows.slice(0, input.limit) : rows;
  return { items, nextCursor: hasMore ? items[items.length - 1]?.seq : undefined };
}
