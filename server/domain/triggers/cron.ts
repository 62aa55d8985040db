import { Cron } from "croner";
import { offsetMs } from "../spend/periods";

/**
 * Cron expressions for agent schedules: parsing, validation and tick arithmetic, in the org's time zone. Pure (no
 * database), so the rules are unit-tested directly. Built on croner; only its "5-part" mode is accepted, which makes
 * "at most once a minute" a property of the syntax rather than something to measure.
 */

export const MAX_SCHEDULE_LENGTH = 200;
export const SCHEDULE_HINT = "Five fields: minute hour day-of-month month day-of-week, e.g. \"0 9 * * 1-5\" for 9:00 on weekdays.";
const NICKNAMES = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"];

export type ScheduleCheck = { ok: true; schedule: string } | { ok: false; problem: string };

/** Collapses runs of whitespace so equal schedules are stored (and audited) identically. */
export function normaliseSchedule(raw: string): string {
  return raw.trim().split(/\s+/).join(" ");
}

function cronOf(schedule: string, timeZone: string): Cron {
  return new Cron(schedule, { timezone: timeZone, paused: true, mode: "5-part" });
}

/**
 * Checks a cron expression and says what is wrong in words a person can act on. A valid schedule must also match
 * some date ("0 0 30 2 *" never does): saving one that never runs would look set while doing nothing.
 */
export function checkSchedule(raw: string, timeZone: string, now = new Date()): ScheduleCheck {
  const schedule = normaliseSchedule(raw);
  if (schedule === "") return { ok: false, problem: `Enter a cron expression. ${SCHEDULE_HINT}` };
  if (schedule.length > MAX_SCHEDULE_LENGTH) return { ok: false, problem: `A schedule is at most ${MAX_SCHEDULE_LENGTH} characters.` };
  const fields = schedule.split(" ");
  if (schedule.startsWith("@")) {
    if (fields.length !== 1 || !NICKNAMES.includes(schedule.toLowerCase())) {
      return { ok: false, problem: `"${schedule}" is not a schedule nickname; use one of ${NICKNAMES.join(", ")} or five fields.` };
    }
  } else if (fields.length === 6 || fields.length === 7) {
    return {
      ok: false,
      problem: `Schedules run at most once a minute, so seconds are not allowed: this expression has ${fields.length} fields. ${SCHEDULE_HINT}`,
    };
  } else if (fields.length !== 5) {
    return { ok: false, problem: `This expression has ${fields.length} field${fields.length === 1 ? "" : "s"}. ${SCHEDULE_HINT}` };
  }
  // croner reads "?" as "the current time's value when parsed", so each process would run a different schedule.
  if (schedule.includes("?")) return { ok: false, problem: "Use * instead of ? in a schedule." };
  let cron: Cron;
  try {
    cron = cronOf(schedule, timeZone);
  } catch (error) {
    return { ok: false, problem: `That is not a valid schedule: ${describeCronError(error)}. ${SCHEDULE_HINT}` };
  }
  if (!cron.nextRun(now)) return { ok: false, problem: "This schedule never runs: no date matches it." };
  return { ok: true, schedule };
}

/** croner's messages name its internals ("CronPattern: Invalid value for minute: 61"); keep the useful part. */
function describeCronError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const useful = message.replace(/^Cron\w*:\s*/, "").replace(/\.$/, "");
  return useful.charAt(0).toLowerCase() + useful.slice(1);
}

/** The next `count` ticks strictly after `from`. */
export function nextTicks(schedule: string, timeZone: string, from: Date, count: number): Date[] {
  return cronOf(schedule, timeZone).nextRuns(count, from);
}

/**
 * The latest tick t with since < t ≤ now, or null. Only the latest: a server that was down for hours runs a missed
 * schedule once, not once per missed tick. croner's previousRuns excludes a tick exactly at its reference, hence
 * the extra millisecond (ticks are whole seconds, so nothing later than `now` can sneak in).
 */
export function latestTick(schedule: string, timeZone: string, since: Date, now: Date): Date | null {
  if (now.getTime() <= since.getTime()) return null;
  const [tick] = cronOf(schedule, timeZone).previousRuns(1, new Date(now.getTime() + 1));
  return tick && tick.getTime() > since.getTime() ? tick : null;
}

/** An instant as ISO 8601 in a zone, with its offset: 2030-01-15T09:00:00+01:00. */
export function isoInTimeZone(instant: Date, timeZone: string): string {
  const offset = offsetMs(instant, timeZone);
  const local = new Date(Math.floor(instant.getTime() / 1000) * 1000 + offset).toISOString().slice(0, 19);
  const sign = offset < 0 ? "-" : "+";
  const minutes = Math.abs(offset) / 60_000;
  return `${local}${sign}${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
}
