import { describe, expect, it } from "vitest";
import { timeBuckets } from "./buckets";

const iso = (dates: Date[]) => dates.map((date) => date.toISOString());

describe("timeBuckets", () => {
  it("makes 24 hourly buckets ending with the hour that contains now", () => {
    const now = new Date("2026-03-15T12:34:56.789Z");
    const buckets = timeBuckets("24h", now, "UTC");
    expect(buckets.unit).toBe("hour");
    expect(buckets.end).toEqual(now);
    expect(buckets.starts).toHaveLength(24);
    expect(buckets.starts[0]?.toISOString()).toBe("2026-03-14T13:00:00.000Z");
    expect(buckets.starts[23]?.toISOString()).toBe("2026-03-15T12:00:00.000Z");
  });

  it("starts hours where the local clock shows minute 0 in a zone with a half-hour offset", () => {
    // 12:34 UTC is 18:04 in Kolkata (UTC+5:30): the current local hour began at 12:30 UTC.
    const buckets = timeBuckets("24h", new Date("2026-03-15T12:34:00Z"), "Asia/Kolkata");
    expect(buckets.starts[23]?.toISOString()).toBe("2026-03-15T12:30:00.000Z");
    expect(buckets.starts[0]?.toISOString()).toBe("2026-03-14T13:30:00.000Z");
  });

  it("makes daily buckets from local midnight, the last one being today", () => {
    // 23:30 UTC on 14 March is already 15 March in Berlin (UTC+1 in winter).
    const buckets = timeBuckets("7d", new Date("2026-03-14T23:30:00Z"), "Europe/Berlin");
    expect(buckets.unit).toBe("day");
    expect(iso(buckets.starts)).toEqual([
      "2026-03-08T23:00:00.000Z",
      "2026-03-09T23:00:00.000Z",
      "2026-03-10T23:00:00.000Z",
      "2026-03-11T23:00:00.000Z",
      "2026-03-12T23:00:00.000Z",
      "2026-03-13T23:00:00.000Z",
      "2026-03-14T23:00:00.000Z",
    ]);
  });

  it("keeps a day across a DST change as one bucket of 23 hours", () => {
    // Berlin springs forward on 29 March 2026: that local day lasts 23 hours.
    const buckets = timeBuckets("7d", new Date("2026-03-31T10:00:00Z"), "Europe/Berlin");
    const starts = iso(buckets.starts);
    expect(starts).toContain("2026-03-28T23:00:00.000Z");
    expect(starts).toContain("2026-03-29T22:00:00.000Z");
    const lengths = buckets.starts.slice(1).map((start, i) => (start.getTime() - (buckets.starts[i]?.getTime() ?? 0)) / 3_600_000);
    expect(lengths).toEqual([24, 24, 24, 24, 23, 24]);
  });

  it("makes 30 daily buckets that roll back over the month's start", () => {
    const buckets = timeBuckets("30d", new Date("2026-03-05T08:00:00Z"), "UTC");
    expect(buckets.starts).toHaveLength(30);
    expect(buckets.starts[0]?.toISOString()).toBe("2026-02-04T00:00:00.000Z");
    expect(buckets.starts[29]?.toISOString()).toBe("2026-03-05T00:00:00.000Z");
  });
});
