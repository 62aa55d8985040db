import { localDateTime, startOfLocalDay } from "../spend/periods";

/**
 * Time buckets of the dashboard's charts, in the organisation's time zone: hours for the last day, local calendar
 * days for a week or a month. Pure (no clock, no database), so the edges are unit-tested.
 *
 * What must stay true:
 * - Buckets are contiguous and ascending; bucket i is [starts[i], starts[i + 1]) and the last one runs to `end`
 *   (now), so it is partial. The range the dashboard reports on is exactly [starts[0], end).
 * - Day buckets start at local midnight (DST-aware through spend/periods), so a 23- or 25-hour day is one bucket.
 * - Hour buckets start where the local clock shows minute 0 (zones with half-hour offsets included).
 */
export const DASHBOARD_RANGES = ["24h", "7d", "30d"] as const;
export type DashboardRange = (typeof DASHBOARD_RANGES)[number];
export type BucketUnit = "hour" | "day";

export interface TimeBuckets {
  unit: BucketUnit;
  /** Ascending starts of each bucket (UTC instants). */
  starts: Date[];
  /** The end of the last bucket: the moment the buckets were computed for. */
  end: Date;
}

const HOUR_MS = 3_600_000;

const RANGE_SHAPE: Record<DashboardRange, { unit: BucketUnit; count: number }> = {
  "24h": { unit: "hour", count: 24 },
  "7d": { unit: "day", count: 7 },
  "30d": { unit: "day", count: 30 },
};

/** The start of the local hour containing `now`. */
function startOfLocalHour(now: Date, timeZone: string): Date {
  const local = localDateTime(now, timeZone);
  return new Date(now.getTime() - (local.minute * 60 + local.second) * 1000 - now.getUTCMilliseconds());
}

export function timeBuckets(range: DashboardRange, now: Date, timeZone: string): TimeBuckets {
  const { unit, count } = RANGE_SHAPE[range];
  if (unit === "hour") {
    // Elapsed hours are uniform even across a DST change, so stepping back in real hours stays on minute 0.
    const current = startOfLocalHour(now, timeZone).getTime();
    return { unit, end: now, starts: Array.from({ length: count }, (_, i) => new Date(current - (count - 1 - i) * HOUR_MS)) };
  }
  const today = localDateTime(now, timeZone);
  return {
    unit,
    end: now,
    // startOfLocalDay rolls day 0 and negative days back into the previous month.
    starts: Array.from({ length: count }, (_, i) => startOfLocalDay({ year: today.year, month: today.month, day: today.day - (count - 1 - i) }, timeZone)),
  };
}

