import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import superjson from "superjson";
import { beforeAll, expect, it } from "vitest";
import { describeOnEachDatabase } from "@/server/testing/databases";
import { createTestOrg, type TestOrg } from "@/server/testing/fixtures";
import { appRouter, createCaller } from "../root";

/** The policies router as the console calls it: scopes, field errors per condition row, governance settings. */
describeOnEachDatabase("policies router", (getDb) => {
  let org: TestOrg;

  beforeAll(async () => {
    org = await createTestOrg(getDb(), "policyrouter");
  });

  it("lets an admin manage policies and a supervisor only read them", async () => {
    const db = getDb();
    const admin = createCaller({ db, principal: org.principals.ADMIN });
    const supervisor = createCaller({ db, principal: org.principals.SUPERVISOR });
    const created = await admin.policies.create({
      name: "No deletes",
      effect: "DENY",
      reason: "Deleting is not allowed.",
      toolName: "delete_entities",
    });
    expect((await supervisor.policies.list()).map((p) => p.id)).toContain(created.id);
    await expect(supervisor.policies.setEnabled({ id: created.id, enabled: false })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(createCaller({ db, principal: org.principals.MEMBER }).policies.list()).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(admin.policies.update({ ...created, name: "No deletes at all" })).resolves.toMatchObject({ name: "No deletes at all" });
    await expect(admin.policies.delete({ id: created.id })).resolves.toMatchObject({ id: created.id });
  });

  it("reads and saves governance settings", async () => {
    const db = getDb();
    const admin = createCaller({ db, principal: org.principals.ADMIN });
    const saved = await admin.policies.governance.update({
      approvalTimeoutMinutes: 30,
      approvalDefaultOutcome: "REJECT",
      loopThreshold: 4,
      redaction: { emails: true, patterns: [{ name: "ticket", regex: "TCK-\\d{6}" }] },
    });
    expect(saved).toMatchObject({
      approvalTimeoutMinutes: 30,
      loopThreshold: 4,
      redaction: { emails: true, secrets: true, patterns: [{ name: "ticket" }] },
    });
    await expect(createCaller({ db, principal: org.principals.SUPERVISOR }).policies.governance.get()).resolves.toEqual(saved);
    await expect(createCaller({ db, principal: org.principals.SUPERVISOR }).policies.governance.update(saved)).rejects.toMatchObject({
      code: "FORBIDDEN",
    });
  });

  it("sends field errors the policy form can show next to each condition", async () => {
    const principal = org.principals.OWNER;
    const post = (procedure: string, body: unknown) =>
      fetchRequestHandler({
        endpoint: "/api/trpc",
        router: appRouter,
        createContext: () => ({ db: getDb(), principal }),
        req: new Request(`http://localhost/api/trpc/${procedure}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(superjson.serialize(body)),
        }),
      });
    type ErrorBody = { error: { json: { message: string; data: { fieldErrors: Record<string, string[]> } } } };

    const response = await post("policies.create", {
      name: "Refund limit",
      effect: "REQUIRE_APPROVAL",
      reason: "Ask first.",
      conditions: [{ path: "amountUsd", op: "gt", value: "a lot" }],
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as ErrorBody;
    expect(body.error.json.message).toBe("Condition 1: gt needs a number");
    expect(body.error.json.data.fieldErrors).toEqual({ "conditions.0.value": ["gt needs a number"] });

    const settings = await post("policies.governance.update", { loopThreshold: 1 });
    expect(settings.status).toBe(400);
    expect(((await settings.json()) as ErrorBody).error.json.data.fieldErrors).toEqual({ loopThreshold: ["At least 2."] });
  });
});
