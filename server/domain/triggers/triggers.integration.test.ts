import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { POST as webhookRoute } from "@/app/api/hooks/agents/[agentId]/[secret]/route";
import { ROLE_SCOPES } from "@/lib/scopes";
import { overrideDatabaseForTests, type Db } from "../../db";
import { describeOnEachDatabase } from "../../testing/databases";
import { createTestOrg, type TestOrg } from "../../testing/fixtures";
import { createScriptedAgent } from "../../testing/kernel-fixtures";
import { sha256Hex } from "../canonical";
import type { Principal } from "../identity/principal";
import { queueScheduledRun } from "../runs/runs";
import { clearSchedule, createDueScheduledRuns, getAgentTriggers, previewSchedule, setSchedule } from "./schedules";
import { createWebhookRun, issueWebhookSecret, MAX_WEBHOOK_PAYLOAD_BYTES, resetWebhookRateLimits, revokeWebhookSecret } from "./webhooks";

/**
 * Schedules are swept with explicit `now`s far in the future (2100), so workers of other test files that sweep the
 * same PostgreSQL database in real time never see these schedules' ticks as due. Each test uses later instants than
 * the one before, because a sweep covers every org's schedules.
 */
const at = (iso: string) => new Date(iso);

describeOnEachDatabase("run triggers", (getDb, kind) => {
  let db: Db;
  let org: TestOrg;
  let other: TestOrg;

  beforeAll(async () => {
    db = getDb();
    overrideDatabaseForTests(db, kind === "pglite" ? { kind: "pglite", dataDir: "memory://" } : { kind: "postgres", url: "test" });
    org = await createTestOrg(db, "triggers");
    other = await createTestOrg(db, "elsewhere");
    await db.org.update({ where: { id: org.orgId }, data: { timeZone: "Europe/Paris" } });
  });

  const newAgent = () => createScriptedAgent(db, org, { tools: [], script: [{ final: "done" }] });
  const scheduledRuns = (agentId: string) => db.run.findMany({ where: { agentId, trigger: "SCHEDULE" }, orderBy: { scheduledFor: "asc" } });

  describe("schedules", () => {
    it("rejects cron expressions people get wrong, saying what is wrong next to the field", async () => {
      const agent = await newAgent();
      const admin = org.principals.ADMIN;
      const cases: [string, RegExp][] = [
        ["* * * * * *", /at most once a minute/],
        ["61 * * * *", /invalid value for minute: 61/],
        ["0 0 30 2 *", /never runs/],
        ["", /Enter a cron expression/],
      ];
      for (const [schedule, problem] of cases) {
        const error = await setSchedule(db, admin, { agentId: agent.agentId, schedule }).catch((e: unknown) => e);
        expect(error).toMatchObject({ code: "INVALID_INPUT", message: expect.stringMatching(problem) as unknown });
        expect((error as { fieldErrors: Record<string, string[]> }).fieldErrors.schedule?.[0]).toMatch(problem);
        await expect(previewSchedule(db, admin, { schedule })).resolves.toMatchObject({ valid: false, problem: expect.stringMatching(problem) as unknown });
      }
      expect((await db.agent.findUniqueOrThrow({ where: { id: agent.agentId } })).schedule).toBeNull();
    });

    it("lets only people with agents:write set a schedule, and needs a person to act for", async () => {
      const agent = await newAgent();
      await expect(setSchedule(db, org.principals.SUPERVISOR, { agentId: agent.agentId, schedule: "@hourly" })).rejects.toMatchObject({ code: "FORBIDDEN" });
      const ownerless: Principal = { kind: "apiKey", orgId: org.orgId, apiKeyId: "key", userId: null, scopes: ROLE_SCOPES.OWNER };
      await expect(setSchedule(db, ownerless, { agentId: agent.agentId, schedule: "@hourly" })).rejects.toMatchObject({
        code: "INVALID_INPUT",
        message: expect.stringContaining("this API key has no owner") as unknown,
      });
      await expect(setSchedule(db, other.principals.OWNER, { agentId: agent.agentId, schedule: "@hourly" })).rejects.toMatchObject({ code: "NOT_FOUND" });
      await expect(getAgentTriggers(db, other.principals.OWNER, agent.agentId)).rejects.toMatchObject({ code: "NOT_FOUND" });
    });

    it("runs in the org's time zone: 9:00 in Paris is 08:00 UTC in winter and 07:00 UTC in summer", async () => {
      const agent = await newAgent();
      const admin = org.principals.ADMIN;
      const winter = await setSchedule(db, admin, { agentId: agent.agentId, schedule: " 0 9  * * * " }, at("2100-01-10T12:00:00Z"));
      expect(winter.timeZone).toBe("Europe/Paris");
      expect(winter.schedule).toMatchObject({ expression: "0 9 * * *", actsFor: { id: admin.userId } });
      expect(winter.schedule?.nextTicks).toEqual([at("2100-01-11T08:00:00Z"), at("2100-01-12T08:00:00Z"), at("2100-01-13T08:00:00Z")]);
      const audit = await db.auditEvent.findFirstOrThrow({ where: { orgId: org.orgId, action: "agent.schedule_set", targetId: agent.agentId } });
      expect(audit).toMatchObject({ actorType: "USER", actorId: admin.userId, data: { schedule: "0 9 * * *", timeZone: "Europe/Paris" } });

      expect(await scheduledRuns(agent.agentId)).toHaveLength(0);
      await createDueScheduledRuns(db, at("2100-01-11T07:59:59Z"));
      expect(await scheduledRuns(agent.agentId)).toHaveLength(0);
      await createDueScheduledRuns(db, at("2100-01-11T08:00:01Z"));
      const [run] = await scheduledRuns(agent.agentId);
      const version = await db.agent.findUniqueOrThrow({ where: { id: agent.agentId }, select: { currentVersionId: true } });
      expect(run).toMatchObject({
        trigger: "SCHEDULE",
        scheduledFor: at("2100-01-11T08:00:00Z"),
        onBehalfOfUserId: admin.userId,
        createdByUserId: null,
        agentVersionId: version.currentVersionId,
        input: expect.stringContaining("2100-01-11T09:00:00+01:00") as unknown,
      });

      const summer = await setSchedule(db, admin, { agentId: agent.agentId, schedule: "0 9 * * *" }, at("2100-07-10T12:00:00Z"));
      expect(summer.schedule?.nextTicks[0]).toEqual(at("2100-07-11T07:00:00Z"));
    });

    it("creates each tick's run exactly once, however many sweeps race for it", async () => {
      const agent = await newAgent();
      await setSchedule(db, org.principals.OWNER, { agentId: agent.agentId, schedule: "* * * * *" }, at("2100-08-01T10:00:30Z"));
      const now = at("2100-08-01T10:05:10Z");
      const sweeps = await Promise.all(Array.from({ length: 12 }, () => createDueScheduledRuns(db, now)));
      const mine = sweeps.flatMap((sweep) => sweep.created).filter((created) => created.agentId === agent.agentId);
      expect(mine).toHaveLength(1);
      const runs = await scheduledRuns(agent.agentId);
      expect(runs.map((r) => r.scheduledFor)).toEqual([at("2100-08-01T10:05:00Z")]);
      expect(runs[0]?.id).toBe(mine[0]?.runId);

      // The guarantee is the database's, not the sweep's pre-check: racing inserts of one tick leave one row, and a
      // losing insert inside a transaction does not abort it (PostgreSQL aborts on a failed statement).
      const version = await db.agent.findUniqueOrThrow({ where: { id: agent.agentId }, select: { currentVersionId: true } });
      const tick = { orgId: org.orgId, agentId: agent.agentId, agentVersionId: version.currentVersionId!, onBehalfOfUserId: org.principals.OWNER.userId, trigger: "SCHEDULE" as const, input: "tick" };
      const inserted = await Promise.all(Array.from({ length: 8 }, () => queueScheduledRun(db, { ...tick, scheduledFor: at("2100-08-01T10:06:00Z") })));
      expect(inserted.filter(Boolean)).toHaveLength(1);
      const afterLosing = await db.$transaction(async (tx) => {
        expect(await queueScheduledRun(tx, { ...tick, scheduledFor: at("2100-08-01T10:06:00Z") })).toBeNull();
        return tx.run.count({ where: { agentId: agent.agentId } });
      });
      expect(afterLosing).toBe(2);
    });

    it("never backfills ticks from before the schedule was set, and runs only the latest missed tick", async () => {
      const agent = await newAgent();
      await setSchedule(db, org.principals.OWNER, { agentId: agent.agentId, schedule: "* * * * *" }, at("2100-09-01T10:00:30Z"));
      await createDueScheduledRuns(db, at("2100-09-01T10:00:59Z"));
      expect(await scheduledRuns(agent.agentId)).toHaveLength(0);
      // The server was down for three hours: one run, for the latest tick, not 180.
      await createDueScheduledRuns(db, at("2100-09-01T13:00:40Z"));
      await createDueScheduledRuns(db, at("2100-09-01T13:00:50Z"));
      expect((await scheduledRuns(agent.agentId)).map((r) => r.scheduledFor)).toEqual([at("2100-09-01T13:00:00Z")]);
      await createDueScheduledRuns(db, at("2100-09-01T13:01:05Z"));
      expect((await scheduledRuns(agent.agentId)).map((r) => r.scheduledFor)).toEqual([at("2100-09-01T13:00:00Z"), at("2100-09-01T13:01:00Z")]);

      // A new schedule starts afresh: nothing between the old tick and the moment it was set.
      await setSchedule(db, org.principals.OWNER, { agentId: agent.agentId, schedule: "0 * * * *" }, at("2100-09-01T14:30:00Z"));
      await createDueScheduledRuns(db, at("2100-09-01T14:59:00Z"));
      expect(await scheduledRuns(agent.agentId)).toHaveLength(2);
    });

    it("starts nothing for a disabled agent, and nothing once the schedule is cleared", async () => {
      const agent = await newAgent();
      await setSchedule(db, org.principals.OWNER, { agentId: agent.agentId, schedule: "* * * * *" }, at("2100-10-01T10:00:30Z"));
      await db.agent.update({ where: { id: agent.agentId }, data: { status: "DISABLED" } });
      await createDueScheduledRuns(db, at("2100-10-01T10:01:30Z"));
      expect(await scheduledRuns(agent.agentId)).toHaveLength(0);
      await db.agent.update({ where: { id: agent.agentId }, data: { status: "ACTIVE" } });

      const cleared = await clearSchedule(db, org.principals.ADMIN, { agentId: agent.agentId });
      expect(cleared.schedule).toBeNull();
      await createDueScheduledRuns(db, at("2100-10-01T10:02:30Z"));
      expect(await scheduledRuns(agent.agentId)).toHaveLength(0);
      await expect(clearSchedule(db, org.principals.ADMIN, { agentId: agent.agentId })).rejects.toMatchObject({ code: "CONFLICT" });
      expect(await db.auditEvent.count({ where: { orgId: org.orgId, action: "agent.schedule_cleared", targetId: agent.agentId } })).toBe(1);
    });

    it("switches off, once and audited, a schedule whose person may no longer run agents", async () => {
      const team = await createTestOrg(db, "leavers");
      const agent = await createScriptedAgent(db, team, { tools: [], script: [{ final: "done" }] });
      const admin = team.principals.ADMIN;
      await setSchedule(db, admin, { agentId: agent.agentId, schedule: "* * * * *" }, at("2100-11-01T10:00:30Z"));
      await db.membership.updateMany({ where: { orgId: team.orgId, userId: admin.userId }, data: { revokedAt: new Date() } });

      const sweeps = await Promise.all([1, 2, 3].map(() => createDueScheduledRuns(db, at("2100-11-01T10:01:30Z"))));
      expect(sweeps.flatMap((s) => s.stopped).filter((s) => s.agentId === agent.agentId)).toHaveLength(1);
      expect(await scheduledRuns(agent.agentId)).toHaveLength(0);
      expect(await db.auditEvent.count({ where: { orgId: team.orgId, action: "agent.schedule_stopped", targetId: agent.agentId } })).toBe(1);
      const triggers = await getAgentTriggers(db, team.principals.OWNER, agent.agentId);
      expect(triggers.schedule).toBeNull();
      expect(triggers.scheduleStopped).toMatchObject({ schedule: "* * * * *", reason: expect.stringContaining("revoked") as unknown });
    });
  });

  describe("webhooks", () => {
    beforeEach(() => resetWebhookRateLimits());

    const secretOf = (path: string) => path.split("/").pop()!;
    const json = (value: unknown) => ({ body: JSON.stringify(value), contentType: "application/json" });

    it("shows the secret once and stores only its hash", async () => {
      const agent = await newAgent();
      const issued = await issueWebhookSecret(db, org.principals.ADMIN, { agentId: agent.agentId });
      expect(issued.path).toBe(`/api/hooks/agents/${agent.agentId}/${issued.secret}`);
      expect(issued.secret).toMatch(/^whk_[A-Za-z0-9_-]{43}$/);
      expect(issued.rotated).toBe(false);
      const row = await db.agent.findUniqueOrThrow({ where: { id: agent.agentId }, select: { webhookSecretHash: true, webhookUserId: true } });
      expect(row).toEqual({ webhookSecretHash: sha256Hex(issued.secret), webhookUserId: org.principals.ADMIN.userId });
      // Not by default (db.ts omits it), not in what the console reads, not in the audit log.
      expect(JSON.stringify(await db.agent.findUniqueOrThrow({ where: { id: agent.agentId } }))).not.toContain(row.webhookSecretHash);
      const triggers = await getAgentTriggers(db, org.principals.MEMBER, agent.agentId);
      expect(triggers.webhook).toMatchObject({ actsFor: { id: org.principals.ADMIN.userId } });
      expect(JSON.stringify(triggers)).not.toMatch(new RegExp(`${issued.secret}|${row.webhookSecretHash!}`));
      const audit = await db.auditEvent.findMany({ where: { orgId: org.orgId, targetId: agent.agentId } });
      expect(audit.map((e) => e.action)).toContain("agent.webhook_created");
      expect(JSON.stringify(audit)).not.toMatch(new RegExp(`${issued.secret}|${row.webhookSecretHash!}`));
      await expect(issueWebhookSecret(db, org.principals.SUPERVISOR, { agentId: agent.agentId })).rejects.toMatchObject({ code: "FORBIDDEN" });
    });

    it("starts a run with the payload as input, acting for the person who created the webhook", async () => {
      const agent = await newAgent();
      const { secret } = await issueWebhookSecret(db, org.principals.ADMIN, { agentId: agent.agentId });
      const fromJson = await createWebhookRun(db, { agentId: agent.agentId, secret, payload: json({ order: 1003, reason: "late" }) });
      const fromText = await createWebhookRun(db, { agentId: agent.agentId, secret, payload: { body: "Refund order 1003", contentType: "text/plain" } });
      const runs = await db.run.findMany({ where: { id: { in: [fromJson.id, fromText.id] } }, orderBy: { createdAt: "asc" } });
      expect(runs.map((r) => ({ trigger: r.trigger, input: r.input, onBehalfOfUserId: r.onBehalfOfUserId, apiKeyId: r.apiKeyId }))).toEqual([
        { trigger: "WEBHOOK", input: '{\n  "order": 1003,\n  "reason": "late"\n}', onBehalfOfUserId: org.principals.ADMIN.userId, apiKeyId: null },
        { trigger: "WEBHOOK", input: "Refund order 1003", onBehalfOfUserId: org.principals.ADMIN.userId, apiKeyId: null },
      ]);
    });

    it("answers a wrong secret, an unknown agent and another org's agent the same way", async () => {
      const agent = await newAgent();
      const { secret } = await issueWebhookSecret(db, org.principals.ADMIN, { agentId: agent.agentId });
      const elsewhere = await createScriptedAgent(db, other, { tools: [], script: [{ final: "done" }] });
      const otherSecret = (await issueWebhookSecret(db, other.principals.ADMIN, { agentId: elsewhere.agentId })).secret;
      const wrong = "whk_" + "A".repeat(43);
      for (const [agentId, tried] of [
        [agent.agentId, wrong],
        [agent.agentId, "not-even-a-secret"],
        ["no-such-agent", secret],
        [elsewhere.agentId, secret],
        [agent.agentId, otherSecret],
      ]) {
        await expect(createWebhookRun(db, { agentId: agentId!, secret: tried!, payload: json({}) })).rejects.toMatchObject({ code: "NOT_FOUND", message: "Webhook not found." });
      }
      expect(await db.run.count({ where: { agentId: { in: [agent.agentId, elsewhere.agentId] } } })).toBe(0);
    });

    it("stops the old URL when rotated or revoked", async () => {
      const agent = await newAgent();
      const first = await issueWebhookSecret(db, org.principals.ADMIN, { agentId: agent.agentId });
      const second = await issueWebhookSecret(db, org.principals.OWNER, { agentId: agent.agentId });
      expect(second.rotated).toBe(true);
      await expect(createWebhookRun(db, { agentId: agent.agentId, secret: first.secret, payload: json(1) })).rejects.toMatchObject({ code: "NOT_FOUND" });
      const run = await createWebhookRun(db, { agentId: agent.agentId, secret: secretOf(second.path), payload: json(2) });
      expect((await db.run.findUniqueOrThrow({ where: { id: run.id } })).onBehalfOfUserId).toBe(org.principals.OWNER.userId);
      const revoked = await revokeWebhookSecret(db, org.principals.ADMIN, { agentId: agent.agentId });
      expect(revoked.webhook).toBeNull();
      await expect(createWebhookRun(db, { agentId: agent.agentId, secret: second.secret, payload: json(3) })).rejects.toMatchObject({ code: "NOT_FOUND" });
      await expect(revokeWebhookSecret(db, org.principals.ADMIN, { agentId: agent.agentId })).rejects.toMatchObject({ code: "CONFLICT" });
      const actions = (await db.auditEvent.findMany({ where: { orgId: org.orgId, targetId: agent.agentId }, orderBy: { seq: "asc" } })).map((e) => e.action);
      expect(actions.filter((a) => a.startsWith("agent.webhook"))).toEqual(["agent.webhook_created", "agent.webhook_rotated", "agent.webhook_revoked"]);
    });

    it("refuses oversized and malformed payloads, and says a disabled agent is disabled", async () => {
      const agent = await newAgent();
      const { secret } = await issueWebhookSecret(db, org.principals.ADMIN, { agentId: agent.agentId });
      const big = { body: "x".repeat(MAX_WEBHOOK_PAYLOAD_BYTES + 1), contentType: "text/plain" };
      await expect(createWebhookRun(db, { agentId: agent.agentId, secret, payload: big })).rejects.toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
      await expect(createWebhookRun(db, { agentId: agent.agentId, secret, payload: { body: "{nope", contentType: "application/json" } })).rejects.toMatchObject({
        code: "INVALID_INPUT",
      });
      await db.agent.update({ where: { id: agent.agentId }, data: { status: "DISABLED" } });
      await expect(createWebhookRun(db, { agentId: agent.agentId, secret, payload: json({}) })).rejects.toMatchObject({
        code: "CONFLICT",
        message: expect.stringContaining("disabled") as unknown,
      });
      await db.agent.update({ where: { id: agent.agentId }, data: { status: "ARCHIVED" } });
      await expect(issueWebhookSecret(db, org.principals.ADMIN, { agentId: agent.agentId })).rejects.toMatchObject({ code: "CONFLICT" });
    });

    it("refuses webhook runs for someone who may no longer run agents", async () => {
      const team = await createTestOrg(db, "hookleavers");
      const agent = await createScriptedAgent(db, team, { tools: [], script: [{ final: "done" }] });
      const { secret } = await issueWebhookSecret(db, team.principals.ADMIN, { agentId: agent.agentId });
      await db.user.update({ where: { id: team.principals.ADMIN.userId }, data: { disabledAt: new Date() } });
      await expect(createWebhookRun(db, { agentId: agent.agentId, secret, payload: json({}) })).rejects.toMatchObject({
        code: "CONFLICT",
        message: expect.stringContaining("account is disabled") as unknown,
      });
    });

    it("slows down a client that keeps guessing", async () => {
      const agent = await newAgent();
      const guess = () => createWebhookRun(db, { agentId: agent.agentId, secret: "whk_" + "B".repeat(43), payload: json({}), clientKey: "203.0.113.9" });
      for (let i = 0; i < 30; i++) await expect(guess()).rejects.toMatchObject({ code: "NOT_FOUND" });
      await expect(guess()).rejects.toMatchObject({ code: "RATE_LIMITED" });
    });

    it("is served over HTTP: 201 with the run, 404 for a wrong secret, 413 for a big body", async () => {
      const agent = await newAgent();
      const { secret } = await issueWebhookSecret(db, org.principals.ADMIN, { agentId: agent.agentId });
      const post = (tried: string, body: string, contentType = "application/json") =>
        webhookRoute(new Request(`http://localhost/api/hooks/agents/${agent.agentId}/${tried}`, { method: "POST", body, headers: { "content-type": contentType } }), {
          params: Promise.resolve({ agentId: agent.agentId, secret: tried }),
        });
      const created = await post(secret, JSON.stringify({ ticket: 42 }));
      expect(created.status).toBe(201);
      const body = (await created.json()) as { id: string; status: string };
      expect(body.status).toBe("queued");
      expect((await db.run.findUniqueOrThrow({ where: { id: body.id } })).input).toContain('"ticket": 42');
      const wrong = await post("whk_" + "C".repeat(43), "{}");
      expect(wrong.status).toBe(404);
      expect(await wrong.json()).toEqual({ error: { code: "NOT_FOUND", message: "Webhook not found." } });
      const tooBig = await post(secret, "y".repeat(MAX_WEBHOOK_PAYLOAD_BYTES + 10), "text/plain");
      expect(tooBig.status).toBe(413);
    });
  });
});
