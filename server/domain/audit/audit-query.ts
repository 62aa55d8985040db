import { z } from "zod";
import type { DbOrTx } from "@/server/db";
import type { Prisma } from "@/server/generated/prisma/client";
import { requireScope, type Principal } from "../identity/principal";
import { parseInput } from "../tools/input";

/**
 * Reading the org's audit log: a filtered page for the console, facets for its filter controls, and a JSON-lines
 * export of everything a filter matches.
 *
 * What must stay true:
 * - Every query is scoped to the principal's org and requires `audit:read`; filters only ever narrow that.
 * - The page and the export apply the same filter (`auditWhere`), so what you see is what you download.
 * - The export carries `prevHash` and `hash`, so an exported range can be checked against the chain offline.
 */

export const ACTOR_TYPES = ["USER", "API_KEY", "AGENT", "SYSTEM"] as const;

const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .optional()
    .transform((value) => (value === "" ? undefined : value));

export const AuditFilter = z
  .object({
    /** Matches actions starting with this text: "tool." finds every tool event, "tool.classified" exactly that one. */
    action: optionalText(100),
    actorType: z.enum(ACTOR_TYPES).optional(),
    /** A user, API key or agent id; combine with actorType to pick one actor. */
    actorId: optionalText(100),
    targetType: optionalText(100),
    targetId: optionalText(100),
    /** Inclusive lower and exclusive upper bound on createdAt, as ISO 8601 date-times. */
    from: z.iso.datetime({ offset: true, message: "Enter a date and time, e.g. 2026-12-01T09:00:00Z." }).optional(),
    to: z.iso.datetime({ offset: true, message: "Enter a date and time, e.g. 2026-12-01T18:00:00Z." }).optional(),
  })
  .refine((filter) => !filter.from || !filter.to || new Date(filter.from) < new Date(filter.to), {
    message: "The end of the time range must be after its start.",
    path: ["to"],
  });
export type AuditFilter = z.input<typeof AuditFilter>;

export const ListAuditInput = z.object({
  filter: AuditFilter.optional(),
  cursor: z.number().int().positive().optional(),
  limit: z.number().int().min(1).max(200).default(50),
});
export type ListAuditInput = z.input<typeof ListAuditInput>;

type ParsedFilter = Partial<z.output<typeof AuditFilter>>;

export function auditWhere(orgId: string, filter: ParsedFilter): Prisma.AuditEventWhereInput {
  return {
    orgId,
    ...(filter.action ? { action: { startsWith: filter.action } } : {}),
    ...(filter.actorType ? { actorType: filter.actorType } : {}),
    ...(filter.actorId ? { actorId: filter.actorId } : {}),
    ...(filter.targetType ? { targetType: filter.targetType } : {}),
    ...(filter.targetId ? { targetId: filter.targetId } : {}),
    ...(filter.from || filter.to
      ? { createdAt: { ...(filter.from ? { gte: new Date(filter.from) } : {}), ...(filter.to ? { lt: new Date(filter.to) } : {}) } }
      : {}),
  };
}

const eventSelect = {
  id: true,
  seq: true,
  action: true,
  actorType: true,
  actorId: true,
  targetType: true,
  targetId: true,
  data: true,
  prevHash: true,
  hash: true,
  createdAt: true,
} as const;

type EventRow = Prisma.AuditEventGetPayload<{ select: typeof eventSelect }>;

/** People-readable names for the actors of a page of events: users by email, API keys by name. */
async function actorLabels(db: DbOrTx, orgId: string, rows: ReadonlyArray<Pick<EventRow, "actorType" | "actorId">>): Promise<Map<string, string>> {
  const idsOf = (type: string) => [...new Set(rows.filter((r) => r.actorType === type && r.actorId).map((r) => r.actorId as string))];
  const userIds = idsOf("USER");
  const keyIds = idsOf("API_KEY");
  const agentIds = idsOf("AGENT");
  const [users, keys, agents] = await Promise.all([
    userIds.length > 0 ? db.user.findMany({ where: { id: { in: userIds } }, select: { id: true, email: true } }) : [],
    keyIds.length > 0 ? db.apiKey.findMany({ where: { id: { in: keyIds }, orgId }, select: { id: true, name: true } }) : [],
    agentIds.length > 0 ? db.agent.findMany({ where: { id: { in: agentIds }, orgId }, select: { id: true, slug: true } }) : [],
  ]);
  return new Map<string, string>([
    ...users.map((u) => [u.id, u.email] as const),
    ...keys.map((k) => [k.id, `API key “${k.name}”`] as const),
    ...agents.map((a) => [a.id, `agent “${a.slug}”`] as const),
  ]);
}

function labelOf(labels: Map<string, string>, row: Pick<EventRow, "actorType" | "actorId">): string {
  return (row.actorId && labels.get(row.actorId)) ?? row.actorType.toLowerCase().replace("_", " ");
}

export async function listAuditEvents(db: DbOrTx, principal: Principal, rawInput: ListAuditInput) {
  requireScope(principal, "audit:read");
  const input = parseInput(ListAuditInput, rawInput);
  const filter: ParsedFilter = input.filter ?? {};
  const rows = await db.auditEvent.findMany({
    where: { ...auditWhere(principal.orgId, filter), ...(input.cursor ? { seq: { lt: input.cursor } } : {}) },
    orderBy: { seq: "desc" },
    take: input.limit + 1,
    select: eventSelect,
  });
  const hasMore = rows.length > input.limit;
  const page = hasMore ? rows.slice(0, input.limit) : rows;
  const labels = await actorLabels(db, principal.orgId, page);
  const items = page.map(({ prevHash: _prevHash, ...row }) => ({ ...row, actorLabel: labelOf(labels, row) }));
  return { items, nextCursor: hasMore ? items[items.length - 1]?.seq : undefined };
}

/** The values the filter controls offer: actions, actors (with labels) and target types seen in this org's log. */
export async function getAuditFacets(db: DbOrTx, principal: Principal) {
  requireScope(principal, "audit:read");
  const orgId = principal.orgId;
  const [actions, actors, targets] = await Promise.all([
    db.auditEvent.groupBy({ by: ["action"], where: { orgId }, orderBy: { action: "asc" } }),
    db.auditEvent.groupBy({ by: ["actorType", "actorId"], where: { orgId }, orderBy: [{ actorType: "asc" }, { actorId: "asc" }] }),
    db.auditEvent.groupBy({ by: ["targetType"], where: { orgId, targetType: { not: null } }, orderBy: { targetType: "asc" } }),
  ]);
  const labels = await actorLabels(db, orgId, actors);
  return {
    actions: actions.map((row) => row.action),
    actors: actors
      .map((row) => ({ actorType: row.actorType, actorId: row.actorId, label: labelOf(labels, row) }))
      .sort((a, b) => a.label.localeCompare(b.label)),
    targetTypes: targets.map((row) => row.targetType).filter((type): type is string => type !== null),
  };
}

export interface AuditExport {
  /** A file name for the download, e.g. audit-acme-20261201-0930Z.jsonl (UTC). */
  fileName: string;
  /** Events up to this seq (the newest when the export started); later events are not included. */
  throughSeq: number;
  /** One JSON object per line, oldest first, each ending in "\n". */
  lines: AsyncIterable<string>;
}

const EXPORT_BATCH = 500;

/**
 * Every event matching the filter as JSON lines, oldest first, read in batches (the log can be large). Scope and
 * filter are checked before the first line, so a caller can still answer with an error status. The export is a
 * snapshot: it stops at the newest event that existed when it started.
 */
export async function exportAuditEvents(db: DbOrTx, principal: Principal, rawFilter: unknown): Promise<AuditExport> {
  requireScope(principal, "audit:read");
  const filter = parseInput(AuditFilter, rawFilter ?? {});
  const orgId = principal.orgId;
  const [org, newest] = await Promise.all([
    db.org.findUniqueOrThrow({ where: { id: orgId }, select: { slug: true } }),
    db.auditEvent.findFirst({ where: { orgId }, orderBy: { seq: "desc" }, select: { seq: true } }),
  ]);
  const throughSeq = newest?.seq ?? 0;
  const where = auditWhere(orgId, filter);

  async function* lines(): AsyncGenerator<string> {
    let after = 0;
    for (;;) {
      const batch = await db.auditEvent.findMany({
        where: { ...where, seq: { gt: after, lte: throughSeq } },
        orderBy: { seq: "asc" },
        take: EXPORT_BATCH,
        select: eventSelect,
      });
      if (batch.length === 0) return;
      const labels = await actorLabels(db, orgId, batch);
      for (const row of batch) {
        yield JSON.stringify({
          id: row.id,
          seq: row.seq,
          createdAt: row.createdAt.toISOString(),
          action: row.action,
          actorType: row.actorType,
          actorId: row.actorId,
          actorLabel: labelOf(labels, row),
          targetType: row.targetType,
          targetId: row.targetId,
          data: row.data,
          prevHash: row.prevHash,
          hash: row.hash,
        }) + "\n";
      }
      if (batch.length < EXPORT_BATCH) return;
      after = batch[batch.length - 1]!.seq;
    }
  }

  const stamp = new Date().toISOString().slice(0, 16).replace(/[-:]/g, "").replace("T", "-");
  return { fileName: `audit-${org.slug}-${stamp}Z.jsonl`, throughSeq, lines: lines() };
}
