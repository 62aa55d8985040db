import { expect, it } from "vitest";
import { describeOnEachDatabase } from "@/server/testing/databases";
import { createTestOrg } from "@/server/testing/fixtures";
import type { DashboardRange } from "../../domain/dashboard/dashboard";
import { createCaller } from "../root";

/** The dashboard as the console calls it: any reader of runs, the default range, a validated range. */
describeOnEachDatabase("dashboard router", (getDb) => {
  it("serves the dashboard to readers of runs with the last 24 hours by default", async () => {
    const org = await createTestOrg(getDb(), "dashrouter");
    const member = createCaller({ db: getDb(), principal: org.principals.MEMBER });
    const dashboard = await member.dashboard.get({});
    expect(dashboard.range.key).toBe("24h");
    expect(dashboard.buckets).toHaveLength(24);
    expect(dashboard.spend).toBeNull();
    await expect(member.dashboard.get({ range: "30d" })).resolves.toMatchObject({ range: { key: "30d", unit: "day" } });
  });

  it("refuses a range it does not offer and a caller without runs:read", async () => {
    const org = await createTestOrg(getDb(), "dashrouter");
    const owner = createCaller({ db: getDb(), principal: org.principals.OWNER });
    await expect(owner.dashboard.get({ range: "1y" as DashboardRange })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    const noRuns = createCaller({ db: getDb(), principal: { kind: "apiKey", orgId: org.orgId, apiKeyId: "key", userId: null, scopes: ["spend:read"] } });
    await expect(noRuns.dashboard.get({})).rejects.toMatchObject({ code: "FORBIDDEN" });
  });
});
