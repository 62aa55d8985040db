import { describe, expect, it } from "vitest";
import { checkSchedule, isoInTimeZone, latestTick, nextTicks } from "./cron";

const at = (iso: string) => new Date(iso);

describe("checking a schedule", () => {
  it("accepts five fields and nicknames, normalising whitespace", () => {
    expect(checkSchedule("  0   9 * *  1-5 ", "UTC")).toEqual({ ok: true, schedule: "0 9 * * 1-5" });
    expect(checkSchedule("@hourly", "UTC")).toEqual({ ok: true, schedule: "@hourly" });
    expect(checkSchedule("*/15 8-18 * * MON-FRI", "Europe/Paris")).toMatchObject({ ok: true });
  });

  it("refuses anything more frequent than once a minute, saying why", () => {
    const check = checkSchedule("*/5 * * * * *", "UTC");
    expect(check.ok).toBe(false);
    expect(!check.ok && check.problem).toMatch(/at most once a minute.*6 fields/);
    expect(checkSchedule("0 0 9 * * * 2030", "UTC")).toMatchObject({ ok: false, problem: expect.stringMatching(/7 fields/) as unknown });
  });

  it("names the field that is out of range or malformed", () => {
    expect(checkSchedule("61 * * * *", "UTC")).toMatchObject({ ok: false, problem: expect.stringContaining("invalid value for minute: 61") as unknown });
    expect(checkSchedule("0 25 * * *", "UTC")).toMatchObject({ ok: false, problem: expect.stringContaining("hour: 25") as unknown });
    expect(checkSchedule("every day", "UTC")).toMatchObject({ ok: false, problem: expect.stringContaining("2 fields") as unknown });
    expect(checkSchedule("", "UTC")).toMatchObject({ ok: false, problem: expect.stringContaining("Enter a cron expression") as unknown });
    expect(checkSchedule("@reboot", "UTC")).toMatchObject({ ok: false, problem: expect.stringContaining("not a schedule nickname") as unknown });
  });

  it("refuses schedules that never run and ones that would differ per process", () => {
    expect(checkSchedule("0 0 30 2 *", "UTC")).toEqual({ ok: false, problem: "This schedule never runs: no date matches it." });
    expect(checkSchedule("? * * * *", "UTC")).toMatchObject({ ok: false, problem: expect.stringContaining("instead of ?") as unknown });
  });
});

describe("ticks", () => {
  it("follows the org's time zone across daylight saving time", () => {
    // Paris is UTC+1 in winter and UTC+2 from the last Sunday of March (2030-03-31).
    expect(nextTicks("0 9 * * *", "Europe/Paris", at("2030-03-29T12:00:00Z"), 3)).toEqual([
      at("2030-03-30T08:00:00Z"),
      at("2030-03-31T07:00:00Z"),
      at("2030-04-01T07:00:00Z"),
    ]);
  });

  it("takes only the latest tick after the schedule was set, including one exactly now", () => {
    const since = at("2030-01-01T10:00:30Z");
    expect(latestTick("* * * * *", "UTC", since, at("2030-01-01T10:00:59Z"))).toBeNull();
    expect(latestTick("* * * * *", "UTC", since, at("2030-01-01T10:01:00Z"))).toEqual(at("2030-01-01T10:01:00Z"));
    expect(latestTick("* * * * *", "UTC", since, at("2030-01-01T13:07:42Z"))).toEqual(at("2030-01-01T13:07:00Z"));
    expect(latestTick("0 9 * * *", "Europe/Paris", since, at("2030-01-05T07:59:59Z"))).toEqual(at("2030-01-04T08:00:00Z"));
    // A tick at the very instant the schedule was set is not after it.
    expect(latestTick("* * * * *", "UTC", at("2030-01-01T10:01:00Z"), at("2030-01-01T10:01:30Z"))).toBeNull();
  });

  it("writes a tick as local ISO time with the zone's offset", () => {
    expect(isoInTimeZone(at("2030-01-15T08:00:00Z"), "Europe/Paris")).toBe("2030-01-15T09:00:00+01:00");
    expect(isoInTimeZone(at("2030-07-15T07:00:00Z"), "Europe/Paris")).toBe("2030-07-15T09:00:00+02:00");
    expect(isoInTimeZone(at("2030-07-15T07:00:00Z"), "America/St_Johns")).toBe("2030-07-15T04:30:00-02:30");
    expect(isoInTimeZone(at("2030-07-15T07:00:00Z"), "UTC")).toBe("2030-07-15T07:00:00+00:00");
  });
});
