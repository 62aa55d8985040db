import { expect, it } from "vitest";
import { describeOnEachDatabase } from "@/server/testing/databases";
import { authenticateApiKey } from "../identity/api-keys";
import { resetSignInLimits, signInWithPassword } from "../identity/sign-in";
import { seed } from "./seed";

describeOnEachDatabase("demo seed and headless init", (getDb, kind) => {
  // PostgreSQL is shared by parallel test files; the seed owns the "acme" org there, so use distinct emails.
  const suffix = kind;

  it("creates the demo users once, prints passwords that work, and changes nothing the second time", async () => {
    const db = getDb();
    const first = await seed(db);
    const second = await seed(db);
    if (first.createdCredentials.length > 0) {
      expect(first.createdCredentials.map((c) => c.role)).toEqual(["OWNER", "SUPERVISOR", "MEMBER"]);
      resetSignInLimits();
      const owner = first.createdCredentials[0]!;
      expect(await signInWithPassword(db, { email: owner.email, password: owner.password }, "seed-test")).not.toBeNull();
    }
    expect(second.createdCredentials).toEqual([]);
    expect(second.orgId).toBe(first.orgId);
    expect(await db.membership.count({ where: { orgId: first.orgId, user: { email: "admin@acme.test" } } })).toBe(1);
    expect(await db.modelConfig.count({ where: { orgId: first.orgId, name: "scripted" } })).toBe(1);
  });

  it("creates the init admin and an API key with exactly the given value, idempotently", async () => {
    const db = getDb();
    const email = `ops-${suffix}@init.test`;
    const apiKey = `sb_init_${suffix}_key_0123456789abcdef`;
    const report = await seed(db, { initAdmin: { email, password: "init-password-1" }, initApiKey: apiKey });
    expect(report).toMatchObject({ initAdmin: { email, created: true }, initApiKey: { created: true } });
    const again = await seed(db, { initAdmin: { email, password: "init-password-1" }, initApiKey: apiKey });
    expect(again).toMatchObject({ initAdmin: { created: false }, initApiKey: { created: false } });
    resetSignInLimits();
    expect(await signInWithPassword(db, { email, password: "init-password-1" }, "seed-test")).not.toBeNull();
    const principal = await authenticateApiKey(db, apiKey);
    expect(principal?.scopes).toContain("members:manage");
    const stored = await db.apiKey.findMany({ where: { prefix: apiKey.slice(0, 10) }, omit: { hashedKey: false } });
    expect(stored).toHaveLength(1);
    expect(stored[0]!.hashedKey).not.toBe(apiKey);
  });
});
