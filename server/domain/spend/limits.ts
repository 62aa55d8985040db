import { z } from "zod";
import { formatUsd } from "@/lib/format";
import { inTransaction, type DbOrTx, type Tx } from "@/server/db";
import { sqlFor } from "@/server/sql";
import { logger } from "@/server/logger";
import { appendAudit } from "../audit/audit-log";
import { Conflict, InvalidInput, NotFound } from "../errors";
import { actorOf, requireScope, type Principal } from "../identity/principal";
import { parseInput } from "../tools/input";
import { parseUsdToMicros } from "./money";
import { PERIOD_ADJECTIVE, periodWindow, safeTimeZone, type Period, type PeriodWindow } from "./periods";

/**
 * Spend limits: budgets in micro-dollars per organisation, agent or member, per day or month, checked by the kernel
 * before every model call against the SpendEntry ledger.
 *
 * What must stay true:
 * - Periods are calendar days and months in the org's time zone (Org.timeZone), half-open [start, end).
 * - A HARD limit blocks once spent >= limit; any limit warns once spent reaches warnAtPercent of it. A SOFT limit
 *   never blocks, even far past 100 %.
 * - Before every model call the kernel reserves the call's worst-case cost (reserveSpend in reservations.ts): one SQL
 *   statement when no limit applies; with a HARD limit, a short transaction under the per-org advisory lock, so
 *   concurrent runs sharing a budget overspend it by at most one call in total. checkSpend is the same judgement
 *   without reserving: two statements at most (the applicable limits, then one pass of conditional sums over the
 *   org's entries for the month).
 * - At most one limit per scope, target and period (no unique index exists, so writes serialise on a per-org
 *   advisory lock and check first). Every change is audited in the same transaction.
 * - Amounts are exact: dollars are parsed as decimals, never through floating point.
 */

export const LIMIT_SCOPES = ["ORG", "AGENT", "USER"] as const;
export const LIMIT_PERIODS = ["DAY", "MONTH"] as const;
export const LIMIT_MODES = ["HARD", "SOFT"] as const;
export type LimitScope = (typeof LIMIT_SCOPES)[number];
export type LimitMode = (typeof LIMIT_MODES)[number];
export type LimitState = "ok" | "warning" | "exceeded";
export type { Period };

// ─── Input ─────────────────────────────────────────────────────────────────────────────────────────────────────

/** An id picked in a form; "" (nothing picked) reads as null. */
const OptionalId = z
  .string({ error: "Pick one from the list." })
  .trim()
  .max(100)
  .nullish()
  .transform((value) => (value ? value : null));

const PERCENT_MESSAGE = "Enter a whole percentage from 1 to 100.";

const LimitFields = {
  scope: z.enum(LIMIT_SCOPES, { error: "Choose what the limit applies to: the organisation, an agent or a member." }),
  agentId: OptionalId,
  userId: OptionalId,
  period: z.enum(LIMIT_PERIODS, { error: "Choose a period: per day or per month." }),
  limitUsd: z
    .union([z.number(), z.string().max(40)], { error: "Enter the limit in dollars, e.g. 25 or 0.50." })
    .superRefine((value, ctx) => {
      const parsed = parseUsdToMicros(value);
      if (!parsed.ok) ctx.addIssue({ code: "custom", message: parsed.message });
    }),
  mode: z.enum(LIMIT_MODES, { error: "Choose hard (stops runs) or soft (only warns)." }).default("HARD"),
  warnAtPercent: z
    .number({ error: PERCENT_MESSAGE })
    .int(PERCENT_MESSAGE)
    .min(1, "Warn at 1 % or more.")
    .max(100, "Warn at 100 % at most.")
    .default(80),
};

const TARGET_FIELDS = new Set(["scope", "agentId", "userId"]);

interface TargetFields {
  scope: LimitScope;
  agentId: string | null;
  userId: string | null;
}

/** agentId is required exactly for AGENT limits and userId exactly for USER limits. */
function checkTarget(value: TargetFields, ctx: z.RefinementCtx): void {
  if (value.scope === "AGENT" && !value.agentId) ctx.addIssue({ code: "custom", path: ["agentId"], message: "Choose the agent this limit applies to." });
  if (value.scope !== "AGENT" && value.agentId) {
    ctx.addIssue({ code: "custom", path: ["agentId"], message: "Only an agent limit names an agent: leave the agent empty." });
  }
  if (value.scope === "USER" && !value.userId) ctx.addIssue({ code: "custom", path: ["userId"], message: "Choose the member this limit applies to." });
  if (value.scope !== "USER" && value.userId) {
    ctx.addIssue({ code: "custom", path: ["userId"], message: "Only a member limit names a member: leave the member empty." });
  }
}

/** Runs the target rule even when an unrelated field (say, the amount) is wrong, so a form shows every problem at once. */
const targetRule = {
  when: (payload: z.core.ParsePayload) => !payload.issues.some((issue) => TARGET_FIELDS.has(String(issue.path?.[0]))),
};

export const CreateSpendLimitInput = z.object(LimitFields).superRefine(checkTarget, targetRule);
export type CreateSpendLimitInput = z.input<typeof CreateSpendLimitInput>;

export const UpdateSpendLimitInput = z
  .object({ id: z.string().min(1), ...LimitFields })
  .superRefine(checkTarget, targetRule);
export type UpdateSpendLimitInput = z.input<typeof UpdateSpendLimitInput>;

export const DeleteSpendLimitInput = z.object({ id: z.string().min(1) });

/** The micro-dollars of an amount the schema already accepted. */
function limitMicrosOf(limitUsd: number | string): number {
  const parsed = parseUsdToMicros(limitUsd);
  if (!parsed.ok) throw new InvalidInput(parsed.message, { limitUsd: [parsed.message] });
  return parsed.micros;
}

// ─── Labels and messages ───────────────────────────────────────────────────────────────────────────────────────

interface TargetNames {
  agentSlug: string | null;
  userName: string | null;
  userEmail: string | null;
}

/** "Organisation", "Agent refund-agent", "Member Jane Doe". */
function targetTitle(scope: LimitScope, names: TargetNames): string {
  if (scope === "ORG") return "Organisation";
  if (scope === "AGENT") return `Agent ${names.agentSlug ?? "(deleted)"}`;
  return `Member ${names.userName || names.userEmail || "(deleted)"}`;
}

/** The same, inside a sentence: "the organisation", "agent refund-agent", "member Jane Doe". */
function targetPhrase(scope: LimitScope, names: TargetNames): string {
  return scope === "ORG" ? "the organisation" : targetTitle(scope, names).replace(/^\w/, (c) => c.toLowerCase());
}

export function limitLabel(scope: LimitScope, period: Period, names: TargetNames): string {
  return `${targetTitle(scope, names)} · ${PERIOD_ADJECTIVE[period]}`;
}

/** Percentage used, rounded down to one decimal (so 99.96 % never shows as 100 %). */
function percentOf(spentMicros: number, limitMicros: number): number {
  if (limitMicros <= 0) return 0;
  return Number((BigInt(spentMicros) * 1000n) / BigInt(limitMicros)) / 10;
}

function stateOf(spentMicros: number, limitMicros: number, warnAtPercent: number): LimitState {
  if (spentMicros >= limitMicros) return "exceeded";
  // Integer comparison: spent / limit >= warn / 100.
  if (BigInt(spentMicros) * 100n >= BigInt(limitMicros) * BigInt(warnAtPercent)) return "warning";
  return "ok";
}

// ─── Reading spend ─────────────────────────────────────────────────────────────────────────────────────────────

/** Timestamps are stored as UTC wall-clock values in `timestamp(3)` columns; casting ISO text keeps that exact. */
export const sqlTimestamp = (date: Date) => date.toISOString();

export function toNumber(value: string | number | bigint | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return Number(value);
}

export interface Windows {
  timeZone: string;
  day: PeriodWindow;
  month: PeriodWindow;
}

function windowsFor(storedTimeZone: string | null | undefined, now: Date, orgId: string): Windows {
  const timeZone = safeTimeZone(storedTimeZone);
  if (storedTimeZone && timeZone !== storedTimeZone) {
    logger.warn("org has an unknown time zone; spend periods use UTC", { orgId, timeZone: storedTimeZone });
  }
  return { timeZone, day: periodWindow("DAY", now, timeZone), month: periodWindow("MONTH", now, timeZone) };
}

interface Totals {
  day: number;
  month: number;
}

interface SpendBreakdown {
  org: Totals;
  byAgent: Map<string, Totals>;
  byUser: Map<string, Totals>;
}

/** One pass over the month's entries: the org's total and per-agent and per-user totals, for the day and the month. */
async function spendBreakdown(db: DbOrTx, orgId: string, windows: Windows): Promise<SpendBreakdown> {
  const { day, month } = windows;
  const rows = await db.$queryRaw<
    { by_agent: number; by_user: number; agent_id: string | null; user_id: string | null; day: string; month: string }[]
  >`
    SELECT GROUPING(agent_id)::int AS by_agent, GROUPING(user_id)::int AS by_user,
           agent_id, user_id,
           COALESCE(SUM(cost_micros) FILTER (WHERE created_at >= ${sqlTimestamp(day.start)}::timestamp
                                               AND created_at < ${sqlTimestamp(day.end)}::timestamp), 0)::text AS day,
           COALESCE(SUM(cost_micros), 0)::text AS month
      FROM spend_entries
     WHERE org_id = ${orgId}
       AND created_at >= ${sqlTimestamp(month.start)}::timestamp
       AND created_at < ${sqlTimestamp(month.end)}::timestamp
     GROUP BY GROUPING SETS ((), (agent_id), (user_id))`;
  const result: SpendBreakdown = { org: { day: 0, month: 0 }, byAgent: new Map(), byUser: new Map() };
  for (const row of rows) {
    const totals = { day: toNumber(row.day), month: toNumber(row.month) };
    // GROUPING(x) is 0 when the row is grouped by x, 1 when x is rolled up.
    if (row.by_agent === 1 && row.by_user === 1) result.org = totals;
    else if (row.by_agent === 0 && row.agent_id) result.byAgent.set(row.agent_id, totals);
    else if (row.by_user === 0 && row.user_id) result.byUser.set(row.user_id, totals);
  }
  return result;
}

// ─── Kernel API ────────────────────────────────────────────────────────────────────────────────────────────────

export interface LimitStatus {
  limitId: string;
  scope: LimitScope;
  period: Period;
  mode: LimitMode;
  limitMicros: number;
  spentMicros: number;
  /** Held by model calls still in flight (their worst-case cost; see reservations.ts). Absent when none. */
  reservedMicros?: number;
  /** Of (spent + reserved) against the limit. */
  percent: number;
  /** e.g. "Agent refund-agent · daily" */
  label: string;
  /** e.g. "The daily hard limit of $5.00 for agent refund-agent is used up ($5.02 spent)." */
  message: string;
}

export interface SpendCheck {
  /** The HARD limit that stops this model call (the most used-up one when several do); null when none does. */
  blocked: LimitStatus | null;
  /** Every other limit at or past its warning threshold (soft limits past 100 % included), most used first. */
  warnings: LimitStatus[];
}

interface ApplicableLimitRow {
  time_zone: string;
  id: string | null;
  scope: LimitScope | null;
  period: Period | null;
  mode: LimitMode | null;
  limit_micros: string | null;
  warn_at_percent: number | null;
  agent_slug: string | null;
  user_name: string | null;
  user_email: string | null;
}

interface SpendTotalsRow {
  org_day: string;
  org_month: string;
  agent_day: string;
  agent_month: string;
  user_day: string;
  user_month: string;
}

function messageFor(status: Omit<LimitStatus, "message" | "label">, names: TargetNames): string {
  const adjective = PERIOD_ADJECTIVE[status.period];
  const kind = status.mode === "HARD" ? "hard" : "soft";
  const limit = formatUsd(status.limitMicros);
  const reserved = status.reservedMicros ?? 0;
  const spent = reserved > 0 ? `${formatUsd(status.spentMicros)} spent, ${formatUsd(reserved)} held by model calls in progress` : `${formatUsd(status.spentMicros)} spent`;
  const target = targetPhrase(status.scope, names);
  if (status.spentMicros + reserved >= status.limitMicros) {
    return status.mode === "HARD"
      ? `The ${adjective} hard limit of ${limit} for ${target} is used up (${spent}).`
      : `The ${adjective} soft limit of ${limit} for ${target} is exceeded (${spent}); runs continue.`;
  }
  const who = target.replace(/^\w/, (c) => c.toUpperCase());
  return `${who} has used ${Math.floor(status.percent)} % of ${status.scope === "USER" ? "their" : "its"} ${adjective} ${kind} limit of ${limit} (${spent}).`;
}

const SCOPE_ORDER: Record<LimitScope, number> = { ORG: 0, AGENT: 1, USER: 2 };
const PERIOD_ORDER: Record<Period, number> = { DAY: 0, MONTH: 1 };

/** Who a model call is made for: the limits of the org, of this agent and of this member apply to it. */
export interface SpendSubject {
  orgId: string;
  agentId: string;
  userId: string;
  now?: Date;
}

/** The limits that apply to a model call, with the org's current day and month; null when none applies. */
export interface ApplicableLimits {
  rows: (ApplicableLimitRow & { id: string; scope: LimitScope; period: Period; mode: LimitMode; limit_micros: string; warn_at_percent: number })[];
  windows: Windows;
  hasHardLimit: boolean;
}

export async function applicableLimits(db: DbOrTx, subject: SpendSubject): Promise<ApplicableLimits | null> {
  const { orgId, agentId, userId } = subject;
  // On the kernel's SQL path (server/sql.ts): read before every model call.
  const limits = await sqlFor(db).query<ApplicableLimitRow>(
    `SELECT o.time_zone, l.id, l.scope::text AS scope, l.period::text AS period, l.mode::text AS mode,
            l.limit_micros::text AS limit_micros, l.warn_at_percent,
            a.slug AS agent_slug, u.name AS user_name, u.email AS user_email
       FROM orgs o
       LEFT JOIN spend_limits l
              ON l.org_id = o.id
             AND (l.scope = 'ORG'
                  OR (l.scope = 'AGENT' AND l.agent_id = $2)
                  OR (l.scope = 'USER' AND l.user_id = $3))
       LEFT JOIN agents a ON a.id = l.agent_id
       LEFT JOIN users u ON u.id = l.user_id
      WHERE o.id = $1`,
    [orgId, agentId, userId],
  );
  const rows = limits.filter(
    (row): row is ApplicableLimits["rows"][number] =>
      row.id !== null && row.scope !== null && row.period !== null && row.mode !== null && row.limit_micros !== null && row.warn_at_percent !== null,
  );
  if (rows.length === 0) return null;
  return { rows, windows: windowsFor(limits[0]?.time_zone, subject.now ?? new Date(), orgId), hasHardLimit: rows.some((row) => row.mode === "HARD") };
}

/** Micro-dollars per limit target and period ("org_day", "agent_month", ...). */
export type SpendAmounts = (scope: LimitScope, period: Period) => number;

/** What the org, the agent and the member spent in the day and month windows: one pass over the month's entries. */
export async function spentAmounts(db: DbOrTx, subject: SpendSubject, windows: Windows): Promise<SpendAmounts> {
  const { orgId, agentId, userId } = subject;
  const { day, month } = windows;
  const dayStart = sqlTimestamp(day.start);
  const dayEnd = sqlTimestamp(day.end);
  const [totals] = await db.$queryRaw<SpendTotalsRow[]>`
    SELECT
      COALESCE(SUM(cost_micros) FILTER (WHERE created_at >= ${dayStart}::timestamp AND created_at < ${dayEnd}::timestamp), 0)::text AS org_day,
      COALESCE(SUM(cost_micros), 0)::text AS org_month,
      COALESCE(SUM(cost_micros) FILTER (WHERE agent_id = ${agentId}
                                          AND created_at >= ${dayStart}::timestamp AND created_at < ${dayEnd}::timestamp), 0)::text AS agent_day,
      COALESCE(SUM(cost_micros) FILTER (WHERE agent_id = ${agentId}), 0)::text AS agent_month,
      COALESCE(SUM(cost_micros) FILTER (WHERE user_id = ${userId}
                                          AND created_at >= ${dayStart}::timestamp AND created_at < ${dayEnd}::timestamp), 0)::text AS user_day,
      COALESCE(SUM(cost_micros) FILTER (WHERE user_id = ${userId}), 0)::text AS user_month
      FROM spend_entries
     WHERE org_id = ${orgId}
       AND created_at >= ${sqlTimestamp(month.start)}::timestamp
       AND created_at < ${sqlTimestamp(month.end)}::timestamp`;
  return (scope, period) => {
    if (!totals) return 0;
    const key = `${scope === "ORG" ? "org" : scope === "AGENT" ? "agent" : "user"}_${period === "DAY" ? "day" : "month"}` as const;
    return toNumber(totals[key]);
  };
}

const NOTHING: SpendAmounts = () => 0;

/**
 * Compares spent (plus, for the kernel's reservations, what calls in flight may still cost) with each applicable
 * limit. A HARD limit blocks once spent + reserved reaches it.
 */
export function judgeSpend(limits: ApplicableLimits, spent: SpendAmounts, reserved: SpendAmounts = NOTHING): SpendCheck {
  const over: { status: LimitStatus; names: TargetNames; blocks: boolean }[] = [];
  for (const row of limits.rows) {
    const limitMicros = toNumber(row.limit_micros);
    const spentMicros = spent(row.scope, row.period);
    const reservedMicros = reserved(row.scope, row.period);
    const committedMicros = spentMicros + reservedMicros;
    const state = stateOf(committedMicros, limitMicros, row.warn_at_percent);
    if (state === "ok") continue;
    const names = { agentSlug: row.agent_slug, userName: row.user_name, userEmail: row.user_email };
    over.push({
      names,
      blocks: row.mode === "HARD" && state === "exceeded",
      status: {
        limitId: row.id,
        scope: row.scope,
        period: row.period,
        mode: row.mode,
        limitMicros,
        spentMicros,
        ...(reservedMicros > 0 ? { reservedMicros } : {}),
        percent: percentOf(committedMicros, limitMicros),
        label: limitLabel(row.scope, row.period, names),
        message: "",
      },
    });
  }
  if (over.length === 0) return { blocked: null, warnings: [] };
  over.sort(
    (a, b) =>
      Number(b.blocks) - Number(a.blocks) ||
      b.status.percent - a.status.percent ||
      SCOPE_ORDER[a.status.scope] - SCOPE_ORDER[b.status.scope] ||
      PERIOD_ORDER[a.status.period] - PERIOD_ORDER[b.status.period],
  );
  const [first] = over;
  const blocker = first?.blocks ? first : null;
  const finish = (entry: (typeof over)[number]): LimitStatus => ({ ...entry.status, message: messageFor(entry.status, entry.names) });
  return {
    blocked: blocker ? finish(blocker) : null,
    warnings: over
      .filter((entry) => entry !== blocker)
      .sort((a, b) => b.status.percent - a.status.percent)
      .map(finish),
  };
}

/**
 * Compares the spend of the current day and month (in the org's time zone) with every limit that applies to a
 * model call made by `agentId` on behalf of `userId`: the org's own limits, the agent's and the user's. No
 * principal. The kernel reserves instead (reserveSpend in reservations.ts), which also counts calls in flight.
 */
export async function checkSpend(db: DbOrTx, input: SpendSubject): Promise<SpendCheck> {
  const limits = await applicableLimits(db, input);
  if (!limits) return { blocked: null, warnings: [] };
  return judgeSpend(limits, await spentAmounts(db, input, limits.windows));
}

// ─── Console: read ─────────────────────────────────────────────────────────────────────────────────────────────

const limitSelect = {
  id: true,
  scope: true,
  agentId: true,
  userId: true,
  period: true,
  limitMicros: true,
  mode: true,
  warnAtPercent: true,
  createdAt: true,
  updatedAt: true,
  agent: { select: { id: true, slug: true, name: true } },
  user: { select: { id: true, name: true, email: true } },
} as const;

interface LimitRecordRow {
  id: string;
  scope: LimitScope;
  agentId: string | null;
  userId: string | null;
  period: Period;
  limitMicros: bigint;
  mode: LimitMode;
  warnAtPercent: number;
  createdAt: Date;
  updatedAt: Date;
  agent: { id: string; slug: string; name: string } | null;
  user: { id: string; name: string | null; email: string } | null;
}

function presentLimit(row: LimitRecordRow) {
  const names = { agentSlug: row.agent?.slug ?? null, userName: row.user?.name ?? null, userEmail: row.user?.email ?? null };
  return {
    id: row.id,
    scope: row.scope,
    agentId: row.agentId,
    userId: row.userId,
    period: row.period,
    limitMicros: Number(row.limitMicros),
    mode: row.mode,
    warnAtPercent: row.warnAtPercent,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    agent: row.agent,
    user: row.user,
    /** "Organisation", "Agent refund-agent", "Member Jane Doe". */
    target: targetTitle(row.scope, names),
    label: limitLabel(row.scope, row.period, names),
  };
}

export type SpendLimitRecord = ReturnType<typeof presentLimit>;

export interface SpendUsage {
  spentMicros: number;
  percent: number;
  periodStart: Date;
  periodEnd: Date;
  state: LimitState;
}

export type SpendLimitView = SpendLimitRecord & { usage: SpendUsage };

export async function listSpendLimits(db: DbOrTx, principal: Principal): Promise<SpendLimitView[]> {
  requireScope(principal, "spend:read");
  const [org, rows] = await Promise.all([
    db.org.findUniqueOrThrow({ where: { id: principal.orgId }, select: { timeZone: true } }),
    db.spendLimit.findMany({ where: { orgId: principal.orgId }, select: limitSelect }),
  ]);
  if (rows.length === 0) return [];
  const windows = windowsFor(org.timeZone, new Date(), principal.orgId);
  const spend = await spendBreakdown(db, principal.orgId, windows);
  const views = rows.map((row): SpendLimitView => {
    const limit = presentLimit(row);
    const totals =
      limit.scope === "ORG" ? spend.org : limit.scope === "AGENT" ? spend.byAgent.get(limit.agentId ?? "") : spend.byUser.get(limit.userId ?? "");
    const spentMicros = limit.period === "DAY" ? (totals?.day ?? 0) : (totals?.month ?? 0);
    const window = limit.period === "DAY" ? windows.day : windows.month;
    return {
      ...limit,
      usage: {
        spentMicros,
        percent: percentOf(spentMicros, limit.limitMicros),
        periodStart: window.start,
        periodEnd: window.end,
        state: stateOf(spentMicros, limit.limitMicros, limit.warnAtPercent),
      },
    };
  });
  return views.sort(
    (a, b) =>
      SCOPE_ORDER[a.scope] - SCOPE_ORDER[b.scope] ||
      a.target.localeCompare(b.target) ||
      PERIOD_ORDER[a.period] - PERIOD_ORDER[b.period],
  );
}

const TOP_AGENTS = 5;

/** Spend today and this month (in the org's time zone), the org-wide limits on them, and the top agents this month. */
export async function spendSummary(db: DbOrTx, principal: Principal) {
  requireScope(principal, "spend:read");
  const orgId = principal.orgId;
  const [org, orgLimits] = await Promise.all([
    db.org.findUniqueOrThrow({ where: { id: orgId }, select: { timeZone: true } }),
    db.spendLimit.findMany({ where: { orgId, scope: "ORG" }, select: { id: true, period: true, limitMicros: true, mode: true, warnAtPercent: true } }),
  ]);
  const windows = windowsFor(org.timeZone, new Date(), orgId);
  const spend = await spendBreakdown(db, orgId, windows);
  const top = [...spend.byAgent.entries()]
    .filter(([, totals]) => totals.month > 0)
    .sort((a, b) => b[1].month - a[1].month)
    .slice(0, TOP_AGENTS);
  const agents = top.length
    ? await db.agent.findMany({ where: { orgId, id: { in: top.map(([id]) => id) } }, select: { id: true, slug: true, name: true } })
    : [];
  const period = (key: Period, spentMicros: number, window: PeriodWindow) => {
    const limit = orgLimits.find((l) => l.period === key);
    const limitMicros = limit ? Number(limit.limitMicros) : null;
    return {
      spentMicros,
      start: window.start,
      end: window.end,
      limit:
        limit && limitMicros !== null
          ? {
              id: limit.id,
              limitMicros,
              mode: limit.mode,
              percent: percentOf(spentMicros, limitMicros),
              state: stateOf(spentMicros, limitMicros, limit.warnAtPercent),
            }
          : null,
    };
  };
  return {
    timeZone: windows.timeZone,
    today: period("DAY", spend.org.day, windows.day),
    month: period("MONTH", spend.org.month, windows.month),
    topAgents: top.map(([agentId, totals]) => {
      const agent = agents.find((a) => a.id === agentId);
      return { agentId, slug: agent?.slug ?? null, name: agent?.name ?? "Deleted agent", spentMicros: totals.month };
    }),
  };
}

export type SpendSummary = Awaited<ReturnType<typeof spendSummary>>;

/** What a limit can name: the org's agents (archived last) and its current members. */
export async function listSpendTargets(db: DbOrTx, principal: Principal) {
  requireScope(principal, "spend:read");
  const [agents, memberships] = await Promise.all([
    db.agent.findMany({ where: { orgId: principal.orgId }, select: { id: true, slug: true, name: true, status: true }, orderBy: { slug: "asc" } }),
    db.membership.findMany({
      where: { orgId: principal.orgId, revokedAt: null },
      select: { role: true, user: { select: { id: true, name: true, email: true } } },
      orderBy: { createdAt: "asc" },
    }),
  ]);
  return {
    agents: agents.sort((a, b) => Number(a.status === "ARCHIVED") - Number(b.status === "ARCHIVED")),
    members: memberships
      .map((m) => ({ userId: m.user.id, name: m.user.name, email: m.user.email, role: m.role }))
      .sort((a, b) => (a.name ?? a.email).localeCompare(b.name ?? b.email)),
  };
}

// ─── Console: write ────────────────────────────────────────────────────────────────────────────────────────────

type ParsedLimit = z.output<typeof CreateSpendLimitInput>;

/** Serialises limit changes and the kernel's spend reservations of one org (see reservations.ts). */
export async function lockOrgLimits(tx: Tx, orgId: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${"spendlimits:" + orgId}))`;
}

/** The agent must be the org's; the member must hold a current membership (unless the limit already names them). */
async function assertTarget(tx: Tx, orgId: string, input: ParsedLimit, previousUserId: string | null): Promise<void> {
  if (input.scope === "AGENT" && input.agentId) {
    const agent = await tx.agent.findFirst({ where: { id: input.agentId, orgId }, select: { id: true } });
    if (!agent) throw new InvalidInput("That agent does not exist in this organisation.", { agentId: ["Choose one of this organisation's agents."] });
  }
  if (input.scope === "USER" && input.userId && input.userId !== previousUserId) {
    const member = await tx.membership.findFirst({ where: { orgId, userId: input.userId, revokedAt: null }, select: { id: true } });
    if (!member) {
      throw new InvalidInput("That person is not a member of this organisation.", { userId: ["Choose a current member of this organisation."] });
    }
  }
}

async function assertNoDuplicate(tx: Tx, orgId: string, input: ParsedLimit, exceptId: string | null): Promise<void> {
  const existing = await tx.spendLimit.findFirst({
    where: {
      orgId,
      scope: input.scope,
      period: input.period,
      agentId: input.scope === "AGENT" ? input.agentId : null,
      userId: input.scope === "USER" ? input.userId : null,
      ...(exceptId ? { id: { not: exceptId } } : {}),
    },
    select: limitSelect,
  });
  if (!existing) return;
  const view = presentLimit(existing);
  const whom = view.scope === "ORG" ? "the organisation" : view.target.replace(/^\w/, (c) => c.toLowerCase());
  throw new Conflict(`There is already a ${PERIOD_ADJECTIVE[view.period]} limit for ${whom} (${formatUsd(view.limitMicros)}). Edit that one instead.`);
}

function auditData(limit: SpendLimitRecord) {
  return {
    label: limit.label,
    scope: limit.scope,
    agentId: limit.agentId,
    userId: limit.userId,
    period: limit.period,
    mode: limit.mode,
    limitMicros: limit.limitMicros,
    warnAtPercent: limit.warnAtPercent,
  };
}

function columnsOf(input: ParsedLimit) {
  return {
    scope: input.scope,
    agentId: input.scope === "AGENT" ? input.agentId : null,
    userId: input.scope === "USER" ? input.userId : null,
    period: input.period,
    limitMicros: BigInt(limitMicrosOf(input.limitUsd)),
    mode: input.mode,
    warnAtPercent: input.warnAtPercent,
  };
}

export async function createSpendLimit(db: DbOrTx, principal: Principal, rawInput: CreateSpendLimitInput): Promise<SpendLimitRecord> {
  requireScope(principal, "spend:manage");
  const input = parseInput(CreateSpendLimitInput, rawInput);
  const orgId = principal.orgId;
  return inTransaction(db, async (tx) => {
    await lockOrgLimits(tx, orgId);
    await assertTarget(tx, orgId, input, null);
    await assertNoDuplicate(tx, orgId, input, null);
    const row = await tx.spendLimit.create({ data: { orgId, ...columnsOf(input) }, select: limitSelect });
    const limit = presentLimit(row);
    await appendAudit(tx, { orgId, action: "spendlimit.created", ...actorOf(principal), targetType: "SpendLimit", targetId: row.id, data: auditData(limit) });
    return limit;
  });
}

export async function updateSpendLimit(db: DbOrTx, principal: Principal, rawInput: UpdateSpendLimitInput): Promise<SpendLimitRecord> {
  requireScope(principal, "spend:manage");
  const { id, ...input } = parseInput(UpdateSpendLimitInput, rawInput);
  const orgId = principal.orgId;
  return inTransaction(db, async (tx) => {
    await lockOrgLimits(tx, orgId);
    const before = await tx.spendLimit.findFirst({ where: { id, orgId }, select: limitSelect });
    if (!before) throw new NotFound("Spend limit");
    await assertTarget(tx, orgId, input, before.scope === "USER" ? before.userId : null);
    await assertNoDuplicate(tx, orgId, input, id);
    const row = await tx.spendLimit.update({ where: { id }, data: columnsOf(input), select: limitSelect });
    const limit = presentLimit(row);
    await appendAudit(tx, {
      orgId,
      action: "spendlimit.updated",
      ...actorOf(principal),
      targetType: "SpendLimit",
      targetId: id,
      data: { before: auditData(presentLimit(before)), after: auditData(limit) },
    });
    return limit;
  });
}

export async function deleteSpendLimit(db: DbOrTx, principal: Principal, id: string): Promise<SpendLimitRecord> {
  requireScope(principal, "spend:manage");
  const orgId = principal.orgId;
  return inTransaction(db, async (tx) => {
    await lockOrgLimits(tx, orgId);
    const row = await tx.spendLimit.findFirst({ where: { id, orgId }, select: limitSelect });
    if (!row) throw new NotFound("Spend limit");
    await tx.spendLimit.delete({ where: { id } });
    const limit = presentLimit(row);
    await appendAudit(tx, { orgId, action: "spendlimit.deleted", ...actorOf(principal), targetType: "SpendLimit", targetId: id, data: auditData(limit) });
    return limit;
  });
}
