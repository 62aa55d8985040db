import type { Db, DbOrTx } from "@/server/db";
import type { ModelEndpoint } from "@/server/runtime/models/types";
import {
  applicableLimits,
  judgeSpend,
  lockOrgLimits,
  spentAmounts,
  sqlTimestamp,
  toNumber,
  type SpendAmounts,
  type SpendCheck,
  type SpendSubject,
} from "./limits";

/**
 * Spend reservations: the kernel holds a model call's worst-case cost against the HARD limits before the call and
 * settles it to the real cost after, so runs sharing a budget cannot all pass the check at once and then all spend.
 *
 * What must stay true:
 * - Admission is atomic per org: under the per-org advisory lock (the one limit changes take), a call is admitted only
 *   when spent + every live reservation is still below each applicable HARD limit, and its reservation is inserted
 *   in the same transaction. So, as long as no call costs more than its estimate, the org spends at most one call's
 *   estimate past a limit in total, however many runs share it. (The rule "blocks once spent reaches the limit" is
 *   unchanged; blocking whenever spent + estimate would pass the limit would halt runs with most of a budget unused,
 *   because an estimate assumes the longest possible answer.)
 * - Settling is atomic with the ledger: the reservation row is deleted in the transaction that writes the call's
 *   SpendEntry (completeEvent), or that records the call's failure. Nothing is ever counted twice or not at all.
 * - A reservation never blocks forever. One run has at most one model call in flight (one worker holds its lease),
 *   so a run's next reservation deletes whatever the run left behind — the usual case after a worker crash, as the
 *   next worker to claim the run asks the model again at once. A reservation nobody comes back for (the run was
 *   cancelled or stays parked) stops counting at `expires_at`, set past the longest the call could take (every
 *   attempt timing out, retry waits, then the fallback), and is deleted by the org's next reservation. It is
 *   released, not billed at its estimate: the kernel never bills a call that did not complete (see recover() in
 *   execute-run.ts), and billing a guess would shrink the budget for work nobody can see in the ledger.
 * - Without a HARD limit nothing is reserved and no lock is taken: one statement when no limit applies at all.
 */

/** Reservations live at least this long, so a slow answer is never released while still on its way. */
export const MIN_RESERVATION_MS = 5 * 60_000;
/** Slack past the longest the gateway can spend on one call (clocks, the commit after the answer). */
const RESERVATION_SLACK_MS = 60_000;
/** The gateway's longest wait between two attempts (a provider's Retry-After above this ends the call instead). */
const LONGEST_RETRY_WAIT_MS = 60_000;

type PricedEndpoint = Pick<ModelEndpoint, "inputPriceMicros" | "outputPriceMicros" | "maxOutputTokens" | "contextWindow">;
type TimedEndpoint = Pick<ModelEndpoint, "timeoutMs" | "maxRetries">;

/**
 * The longest answer a call may produce: the config's max output tokens or, when it sets none, the part of the context
 * window the kernel keeps free for the answer (a quarter, at most 4,096 tokens: see inputBudget in memory/context.ts).
 */
export function maxOutputTokensOf(endpoint: Pick<PricedEndpoint, "maxOutputTokens" | "contextWindow">): number {
  return endpoint.maxOutputTokens ?? Math.min(4_096, Math.floor(endpoint.contextWindow / 4));
}

/**
 * A call's worst-case cost in micro-dollars: the counted input tokens plus the longest possible answer, priced by the
 * dearest endpoint that may answer (the fallback may cost more than the primary). Rounded up, never down.
 */
export function estimateMaxCallCostMicros(inputTokens: number, endpoints: readonly (PricedEndpoint | null)[]): number {
  let most = 0;
  for (const endpoint of endpoints) {
    if (!endpoint) continue;
    const priced = inputTokens * endpoint.inputPriceMicros + maxOutputTokensOf(endpoint) * endpoint.outputPriceMicros;
    most = Math.max(most, Math.ceil(priced / 1_000_000));
  }
  return most;
}

/** How long a reservation for a call to these endpoints must live: every attempt timing out, the waits between. */
export function reservationLifetimeMs(endpoints: readonly (TimedEndpoint | null)[]): number {
  let total = RESERVATION_SLACK_MS;
  for (const endpoint of endpoints) {
    if (!endpoint) continue;
    const retries = Math.max(0, Math.floor(endpoint.maxRetries));
    total += (retries + 1) * endpoint.timeoutMs + retries * LONGEST_RETRY_WAIT_MS;
  }
  return Math.max(MIN_RESERVATION_MS, total);
}

export interface SpendReservationRequest extends SpendSubject {
  runId: string;
  /** The call's worst-case cost (estimateMaxCallCostMicros). */
  estimateMicros: number;
  /** How long the reservation counts if nobody settles it (reservationLifetimeMs). */
  lifetimeMs: number;
}

export interface SpendReservation extends SpendCheck {
  /** The reservation to settle after the call; null when the call was blocked or no HARD limit applies. */
  reservationId: string | null;
}

interface ReservedTotalsRow {
  org: string;
  agent: string;
  user: string;
}

/**
 * Admits a model call against the limits that apply to it, reserving its worst-case cost, or says which HARD limit
 * blocks it. Warnings (limits past their threshold) come back either way, as from checkSpend.
 */
export async function reserveSpend(db: Db, request: SpendReservationRequest): Promise<SpendReservation> {
  const now = request.now ?? new Date();
  const subject: SpendSubject = { orgId: request.orgId, agentId: request.agentId, userId: request.userId, now };
  const limits = await applicableLimits(db, subject);
  if (!limits) return { blocked: null, warnings: [], reservationId: null };
  if (!limits.hasHardLimit) return { ...judgeSpend(limits, await spentAmounts(db, subject, limits.windows)), reservationId: null };

  return oneAtATimePerOrg(db, request.orgId, () =>
    db.$transaction(async (tx) => {
      await lockOrgLimits(tx, request.orgId);
      // What this run left behind cannot be in flight any more (a run makes one call at a time); expired rows are gone.
      await tx.$executeRaw`
        DELETE FROM spend_reservations
         WHERE org_id = ${request.orgId}
           AND (run_id = ${request.runId} OR expires_at <= ${sqlTimestamp(now)}::timestamp)`;
      // After the lock, so these statements see every reservation and entry committed before us. Reservations are
      // read BEFORE spend: a call settling in between (reservation deleted, entry inserted, one commit) is then
      // counted twice (safe) rather than not at all — read the other way round at READ COMMITTED, a settle landing
      // between the two statements vanished from both and admitted one call too many (seen on PostgreSQL in CI).
      const reserved = await reservedAmounts(tx, subject, now);
      const spent = await spentAmounts(tx, subject, limits.windows);
      const check = judgeSpend(limits, spent, reserved);
      if (check.blocked) return { ...check, reservationId: null };
      const row = await tx.spendReservation.create({
        data: {
          orgId: request.orgId,
          runId: request.runId,
          agentId: request.agentId,
          userId: request.userId,
          estimateMicros: request.estimateMicros,
          createdAt: now,
          expiresAt: new Date(now.getTime() + request.lifetimeMs),
        },
        select: { id: true },
      });
      return { ...check, reservationId: row.id };
    }, RESERVATION_TRANSACTION),
  );
}

/** Waiting for a connection and for the org's lock can take a moment when many runs share a budget. */
const RESERVATION_TRANSACTION = { maxWait: 10_000, timeout: 10_000 };

const queues = new WeakMap<Db, Map<string, Promise<unknown>>>();

/**
 * Within one process (one database client), an org's reservations queue here instead of each holding a pooled
 * connection while it waits for the org's advisory lock: 50 runs of one org would otherwise take every connection
 * of the pool and starve the rest of the kernel. Across processes the advisory lock still decides.
 */
async function oneAtATimePerOrg<T>(db: Db, orgId: string, fn: () => Promise<T>): Promise<T> {
  let perOrg = queues.get(db);
  if (!perOrg) queues.set(db, (perOrg = new Map<string, Promise<unknown>>()));
  const previous = perOrg.get(orgId) ?? Promise.resolve();
  const current = previous.then(fn, fn);
  const tail = current.catch(() => undefined);
  perOrg.set(orgId, tail);
  try {
    return await current;
  } finally {
    if (perOrg.get(orgId) === tail) perOrg.delete(orgId);
  }
}

/** Live reservations of the org, and of this agent and member. They are all "now", so they count in the day and the month. */
async function reservedAmounts(db: DbOrTx, subject: SpendSubject, now: Date): Promise<SpendAmounts> {
  const [totals] = await db.$queryRaw<ReservedTotalsRow[]>`
    SELECT COALESCE(SUM(estimate_micros), 0)::text AS org,
           COALESCE(SUM(estimate_micros) FILTER (WHERE agent_id = ${subject.agentId}), 0)::text AS agent,
           COALESCE(SUM(estimate_micros) FILTER (WHERE user_id = ${subject.userId}), 0)::text AS user
      FROM spend_reservations
     WHERE org_id = ${subject.orgId}
       AND expires_at > ${sqlTimestamp(now)}::timestamp`;
  return (scope) => toNumber(totals ? totals[scope === "ORG" ? "org" : scope === "AGENT" ? "agent" : "user"] : 0);
}

/**
 * Ends a reservation: inside the transaction that writes the call's SpendEntry (or records that the call failed), so
 * the estimate and the real cost are never both counted, nor neither. Deleting a row already gone (released as a
 * leftover, expired) is a no-op.
 */
export async function settleSpendReservation(db: DbOrTx, orgId: string, reservationId: string): Promise<void> {
  await db.spendReservation.deleteMany({ where: { id: reservationId, orgId } });
}
