import { describe, expect, it } from "vitest";
import { isValidTimeZone, localDateTime, offsetMs, periodWindow, safeTimeZone, startOfLocalDay } from "./periods";

const iso = (window: { start: Date; end: Date }) => [window.start.toISOString(), window.end.toISOString()];
const HOUR = 3_600_000;

describe("periodWindow", () => {
  it("uses UTC midnights and month starts in UTC", () => {
    expect(iso(periodWindow("DAY", new Date("2026-05-14T23:59:59.999Z"), "UTC"))).toEqual(["2026-05-14T00:00:00.000Z", "2026-05-15T00:00:00.000Z"]);
    expect(iso(periodWindow("MONTH", new Date("2026-12-15T00:00:00Z"), "UTC"))).toEqual(["2026-12-01T00:00:00.000Z", "2027-01-01T00:00:00.000Z"]);
  });

  it("starts the day at local midnight in a zone with a half-hour offset", () => {
    // 23:59:59 on 31 January in India is still 31 January; one second later it is 1 February.
    expect(iso(periodWindow("DAY", new Date("2026-01-31T18:29:59Z"), "Asia/Kolkata"))).toEqual(["2026-01-30T18:30:00.000Z", "2026-01-31T18:30:00.000Z"]);
    expect(iso(periodWindow("DAY", new Date("2026-01-31T18:30:00Z"), "Asia/Kolkata"))).toEqual(["2026-01-31T18:30:00.000Z", "2026-02-01T18:30:00.000Z"]);
    expect(iso(periodWindow("MONTH", new Date("2026-01-31T18:30:00Z"), "Asia/Kolkata"))).toEqual(["2026-01-31T18:30:00.000Z", "2026-02-28T18:30:00.000Z"]);
  });

  it("puts the month boundary where the org's calendar has it, not UTC's", () => {
    // 31 January 23:30 UTC is already 1 February 12:30 in Auckland (UTC+13 in summer).
    const now = new Date("2026-01-31T23:30:00Z");
    expect(iso(periodWindow("MONTH", now, "Pacific/Auckland"))).toEqual(["2026-01-31T11:00:00.000Z", "2026-02-28T11:00:00.000Z"]);
    expect(iso(periodWindow("MONTH", now, "UTC"))).toEqual(["2026-01-01T00:00:00.000Z", "2026-02-01T00:00:00.000Z"]);
    // And west of Greenwich the month is still January for five more hours.
    expect(iso(periodWindow("MONTH", new Date("2026-02-01T03:00:00Z"), "America/New_York"))).toEqual(["2026-01-01T05:00:00.000Z", "2026-02-01T05:00:00.000Z"]);
  });

  it("handles the 23-hour and 25-hour days of daylight saving time", () => {
    const spring = periodWindow("DAY", new Date("2026-03-08T12:00:00Z"), "America/New_York");
    expect(iso(spring)).toEqual(["2026-03-08T05:00:00.000Z", "2026-03-09T04:00:00.000Z"]);
    expect(spring.end.getTime() - spring.start.getTime()).toBe(23 * HOUR);
    const autumn = periodWindow("DAY", new Date("2026-11-01T12:00:00Z"), "America/New_York");
    expect(iso(autumn)).toEqual(["2026-11-01T04:00:00.000Z", "2026-11-02T05:00:00.000Z"]);
    expect(autumn.end.getTime() - autumn.start.getTime()).toBe(25 * HOUR);
    // A month that contains a DST change.
    expect(iso(periodWindow("MONTH", new Date("2026-03-20T12:00:00Z"), "Europe/Berlin"))).toEqual(["2026-02-28T23:00:00.000Z", "2026-03-31T22:00:00.000Z"]);
  });

  it("starts a day whose midnight was skipped at the moment the clocks jumped", () => {
    // Chile moves its clocks from 24:00 Saturday to 01:00 Sunday: local 00:00 on 6 September 2026 never happens.
    expect(iso(periodWindow("DAY", new Date("2026-09-06T12:00:00Z"), "America/Santiago"))).toEqual(["2026-09-06T04:00:00.000Z", "2026-09-07T03:00:00.000Z"]);
    expect(iso(periodWindow("DAY", new Date("2026-09-05T12:00:00Z"), "America/Santiago"))).toEqual(["2026-09-05T04:00:00.000Z", "2026-09-06T04:00:00.000Z"]);
  });

  it("contains the instant it was asked about, around every boundary", () => {
    const zones = ["UTC", "Asia/Kolkata", "America/New_York", "Pacific/Auckland", "Asia/Kathmandu", "America/Santiago", "Australia/Lord_Howe"];
    const start = Date.UTC(2026, 0, 1);
    const wrong: string[] = [];
    for (const zone of zones) {
      for (let t = start; t < start + 366 * 24 * HOUR; t += 11 * HOUR + 13 * 60_000) {
        for (const period of ["DAY", "MONTH"] as const) {
          const window = periodWindow(period, new Date(t), zone);
          const local = localDateTime(window.start, zone);
          const ok = window.start.getTime() <= t && window.end.getTime() > t && (period === "DAY" || local.day === 1);
          if (!ok) wrong.push(`${zone} ${period} ${new Date(t).toISOString()} → ${iso(window).join(" … ")}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });
});

describe("time zone helpers", () => {
  it("reads offsets, including DST", () => {
    expect(offsetMs(new Date("2026-01-15T12:00:00Z"), "America/New_York")).toBe(-5 * HOUR);
    expect(offsetMs(new Date("2026-07-15T12:00:00Z"), "America/New_York")).toBe(-4 * HOUR);
    expect(offsetMs(new Date("2026-07-15T12:00:00Z"), "Asia/Kathmandu")).toBe(5.75 * HOUR);
  });

  it("rolls out-of-range dates over", () => {
    expect(startOfLocalDay({ year: 2026, month: 13, day: 1 }, "UTC").toISOString()).toBe("2027-01-01T00:00:00.000Z");
    expect(startOfLocalDay({ year: 2026, month: 1, day: 32 }, "Asia/Tokyo").toISOString()).toBe("2026-01-31T15:00:00.000Z");
  });

  it("recognises zones and falls back to UTC for bad ones", () => {
    expect(isValidTimeZone("Europe/Berlin")).toBe(true);
    expect(isValidTimeZone("Mars/Olympus_Mons")).toBe(false);
    expect(isValidTimeZone("")).toBe(false);
    expect(safeTimeZone("Mars/Olympus_Mons")).toBe("UTC");
    expect(safeTimeZone(null)).toBe("UTC");
    expect(safeTimeZone("Asia/Kolkata")).toBe("Asia/Kolkata");
  });
});
