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
  const page = hasMore ? rows.slice(0, input.limit) : rows;
  const idsOf = (type: string) => [...new Set(page.filter((r) => r.actorType === type && r.actorId).map((r) => r.actorId as string))];
  const [users, keys] = await Promise.all([
    db.user.findMany({ where: { id: { in: idsOf("USER") } }, select: { id: true, email: true } }),
    db.apiKey.findMany({ where: { id: { in: idsOf("API_KEY") }, orgId: principal.orgId }, select: { id: true, name: true } }),
  ]);
  const labels = new Map<string, string>([...users.map((u) => [u.id, u.email] as const), ...keys.map((k) => [k.id, `API key “${k.name}”`] as const)]);
  const items = page.map((row) => ({
    ...row,
    actorLabel: (row.actorId && labels.get(row.actorId)) ?? row.actorType.toLowerCase().replace("_", " "),
  }));
  return { items, nextCursor: hasMore ? items[items.length - 1]?.seq : undefined };
}
