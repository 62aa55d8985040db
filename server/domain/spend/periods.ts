/**
 * Spend periods in an organisation's IANA time zone, with the platform's Intl APIs only. "Today" starts at local
 * midnight and "this month" at local midnight on the 1st; both are half-open windows [start, end) of UTC instants.
 *
 * Days are not always 24 hours: a DST change makes a local day 23 or 25 hours long, and in a few zones the clocks
 * jump at midnight itself (local 00:00 does not exist that day), in which case the day starts at the jump.
 */
export type Period = "DAY" | "MONTH";

export interface PeriodWindow {
  start: Date;
  end: Date;
}

export interface LocalDate {
  year: number;
  /** 1–12 */
  month: number;
  day: number;
}

interface LocalDateTime extends LocalDate {
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone,
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
      hourCycle: "h23",
      era: "short",
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** True when the runtime knows this IANA zone ("Europe/Berlin"); false for typos and empty strings. */
export function isValidTimeZone(timeZone: string): boolean {
  if (timeZone.trim() === "") return false;
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The zone itself when valid, otherwise UTC (a bad setting must not stop spend checks). */
export function safeTimeZone(timeZone: string | null | undefined): string {
  return timeZone && isValidTimeZone(timeZone) ? timeZone : "UTC";
}

/** Wall-clock date and time of an instant in a zone. */
export function localDateTime(instant: Date, timeZone: string): LocalDateTime {
  const parts: Record<string, string> = {};
  for (const part of formatterFor(timeZone).formatToParts(instant)) parts[part.type] = part.value;
  const year = Number(parts.year);
  return {
    year: parts.era === "BC" ? 1 - year : year,
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
  };
}

/** Milliseconds since the epoch of a wall-clock reading taken as if it were UTC (valid for any year). */
function wallClockMs(local: LocalDate & Partial<LocalDateTime>): number {
  const date = new Date(0);
  date.setUTCFullYear(local.year, local.month - 1, local.day);
  date.setUTCHours(local.hour ?? 0, local.minute ?? 0, local.second ?? 0, 0);
  return date.getTime();
}

/** The zone's offset from UTC at an instant, in milliseconds (positive east of Greenwich). */
export function offsetMs(instant: Date, timeZone: string): number {
  const whole = Math.floor(instant.getTime() / 1000) * 1000;
  return wallClockMs(localDateTime(new Date(whole), timeZone)) - whole;
}

const sameDate = (a: LocalDate, b: LocalDate) => a.year === b.year && a.month === b.month && a.day === b.day;

/** The first instant of a local calendar day. Out-of-range dates roll over (day 32 of January is 1 February). */
export function startOfLocalDay(date: LocalDate, timeZone: string): Date {
  const wall = wallClockMs({ year: date.year, month: date.month, day: date.day });
  const normalised = new Date(wall);
  const target = { year: normalised.getUTCFullYear(), month: normalised.getUTCMonth() + 1, day: normalised.getUTCDate() };
  // Local midnight is wall − offset, with the offset in force at that instant; try the offsets on both sides of a
  // possible transition and keep the earliest instant that falls on the target day.
  const first = wall - offsetMs(new Date(wall), timeZone);
  const second = wall - offsetMs(new Date(first), timeZone);
  const third = wall - offsetMs(new Date(second), timeZone);
  const candidates = [...new Set([first, second, third])].sort((a, b) => a - b);
  const exact = candidates.find((t) => {
    const local = localDateTime(new Date(t), timeZone);
    return sameDate(local, target) && local.hour === 0 && local.minute === 0 && local.second === 0;
  });
  if (exact !== undefined) return new Date(exact);
  // Midnight was skipped (clocks jumped forward at 00:00): the day begins at the jump, which is the candidate
  // computed with the old offset — the earliest one that already shows the target day.
  const onDay = candidates.find((t) => sameDate(localDateTime(new Date(t), timeZone), target));
  return new Date(onDay ?? first);
}

/** The current day or month, as seen in `timeZone`, that contains `now`. */
export function periodWindow(period: Period, now: Date, timeZone: string): PeriodWindow {
  const today = localDateTime(now, timeZone);
  if (period === "DAY") {
    return {
      start: startOfLocalDay(today, timeZone),
      end: startOfLocalDay({ year: today.year, month: today.month, day: today.day + 1 }, timeZone),
    };
  }
  return {
    start: startOfLocalDay({ year: today.year, month: today.month, day: 1 }, timeZone),
    end: startOfLocalDay({ year: today.year, month: today.month + 1, day: 1 }, timeZone),
  };
}

export const PERIOD_ADJECTIVE: Record<Period, string> = { DAY: "daily", MONTH: "monthly" };
