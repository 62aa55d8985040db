import crypto from "node:crypto";
import { beforeAll, expect, it } from "vitest";
import { getGovernanceSettings, updateGovernanceSettings } from "../governance/settings";
import { DomainError } from "../errors";
import type { Principal } from "../identity/principal";
import { describeOnEachDatabase } from "../../testing/databases";
import { createTestOrg, type TestOrg } from "../../testing/fixtures";
import type { Db } from "../../db";
import {
  DEFAULT_POLICIES,
  createPolicy,
  deletePolicy,
  listPolicies,
  listPolicyTargets,
  loadPolicyRules,
  seedDefaultPolicies,
  setPolicyEnabled,
  testPolicyCall,
  updatePolicy,
  type PolicyInput,
} from "./policies";

async function expectDomainError(promise: Promise<unknown>, code: string): Promise<DomainError> {
  const error = await promise.then(
    () => {
      throw new Error(`expected ${code}`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  expect((error as DomainError).code).toBe(code);
  return error as DomainError;
}

const unique = () => crypto.randomBytes(3).toString("hex");

async function createAgent(db: Db, org: TestOrg) {
  const slug = `agent-${unique()}`;
  return db.agent.create({ data: { orgId: org.orgId, slug, name: `Agent ${slug}` } });
}

/** A tool server row with tools, without starting any process: the policy module only reads the rows. */
async function createTools(db: Db, org: TestOrg, tools: { name: string; risk: "READ" | "WRITE" | "EXTERNAL" | null }[]) {
  const server = await db.toolServer.create({ data: { orgId: org.orgId, name: `srv-${unique()}`, transport: "STDIO", command: "node" } });
  const rows = [];
  for (const tool of tools) {
    rows.push(
      await db.tool.create({
        data: {
          orgId: org.orgId,
          serverId: server.id,
          name: tool.name,
          inputSchema: { type: "object" },
          definitionHash: "h",
          approvedHash: "h",
          risk: tool.risk,
        },
      }),
    );
  }
  return rows;
}

describeOnEachDatabase("policies", (getDb) => {
  let org: TestOrg;
  let other: TestOrg;
  let admin: Principal;

  beforeAll(async () => {
    org = await createTestOrg(getDb(), "policy");
    other = await createTestOrg(getDb(), "rival");
    admin = org.principals.ADMIN;
  });

  it("creates, lists, updates, toggles and deletes a policy, auditing each change", async () => {
    const db = getDb();
    const agent = await createAgent(db, org);
    const input: PolicyInput = {
      name: "Big refunds by the refund agent",
      effect: "REQUIRE_APPROVAL",
      reason: "Large refunds need a person.",
      agentId: agent.id,
      toolName: " issue_refund ",
      toolRisk: "WRITE",
      onBehalfOfUserId: org.principals.MEMBER.userId,
      conditions: [{ path: "amountUsd", op: "gt", value: "500" }],
    };
    const created = await createPolicy(db, admin, input);
    expect(created).toMatchObject({
      name: "Big refunds by the refund agent",
      effect: "REQUIRE_APPROVAL",
      toolName: "issue_refund",
      enabled: true,
      description: "",
      conditions: [{ path: "amountUsd", op: "gt", value: 500 }],
      agent: { id: agent.id, slug: agent.slug },
      onBehalfOf: { id: org.principals.MEMBER.userId },
    });

    const listed = await listPolicies(db, org.principals.SUPERVISOR);
    expect(listed.map((p) => p.id)).toContain(created.id);

    const updated = await updatePolicy(db, admin, {
      id: created.id,
      name: "Big refunds",
      effect: "DENY",
      reason: "Nobody refunds that much.",
      toolName: "issue_refund",
      conditions: [{ path: "amountUsd", op: "gte", value: 1000 }],
    });
    expect(updated).toMatchObject({
      name: "Big refunds",
      effect: "DENY",
      agentId: null,
      toolRisk: null,
      onBehalfOfUserId: null,
      conditions: [{ op: "gte", value: 1000 }],
    });

    expect(await setPolicyEnabled(db, admin, { id: created.id, enabled: false })).toMatchObject({ enabled: false });
    await expectDomainError(setPolicyEnabled(db, admin, { id: created.id, enabled: false }), "CONFLICT");
    expect(await setPolicyEnabled(db, admin, { id: created.id, enabled: true })).toMatchObject({ enabled: true });

    expect(await deletePolicy(db, admin, created.id)).toEqual({ id: created.id, name: "Big refunds" });
    await expectDomainError(deletePolicy(db, admin, created.id), "NOT_FOUND");

    const audit = await db.auditEvent.findMany({
      where: { orgId: org.orgId, targetId: created.id },
      orderBy: { seq: "asc" },
      select: { action: true, actorId: true },
    });
    expect(audit.map((a) => a.action)).toEqual(["policy.created", "policy.updated", "policy.disabled", "policy.enabled", "policy.deleted"]);
    expect(audit.every((a) => a.actorId === admin.userId)).toBe(true);
  });

  it("refuses a second policy with the same name", async () => {
    const db = getDb();
    const name = `Unique ${unique()}`;
    await createPolicy(db, admin, { name, effect: "ALLOW" });
    const error = await expectDomainError(createPolicy(db, admin, { name, effect: "DENY", reason: "x" }), "INVALID_INPUT");
    expect(error.fieldErrors).toEqual({ name: ["A policy with this name already exists."] });
    const second = await createPolicy(db, admin, { name: `${name} 2`, effect: "ALLOW" });
    await expectDomainError(updatePolicy(db, admin, { id: second.id, name, effect: "ALLOW" }), "INVALID_INPUT");
  });

  it("rejects bad input with field errors, keyed per condition row", async () => {
    const db = getDb();
    const error = await expectDomainError(
      createPolicy(db, admin, {
        name: "",
        effect: "DENY",
        reason: "",
        conditions: [
          { path: "amountUsd", op: "gt", value: 100 },
          { path: "amountUsd", op: "gt", value: "lots" },
          { path: "to", op: "matches", value: "([" },
        ],
      }),
      "INVALID_INPUT",
    );
    expect(error.fieldErrors).toEqual({
      name: ["Give the policy a name."],
      reason: ["Say why, in words the agent will see when it is refused."],
      "conditions.1.value": ["gt needs a number"],
      "conditions.2.value": ["Not a valid regular expression."],
    });

    const one = await expectDomainError(
      createPolicy(db, admin, { name: "x", effect: "ALLOW", conditions: [{ path: "a b", op: "eq", value: 1 }] }),
      "INVALID_INPUT",
    );
    expect(one.message).toBe("Condition 1: Use argument names joined by dots, without spaces, e.g. customer.email.");

    const effect = await expectDomainError(
      createPolicy(db, admin, { name: "x", effect: "MAYBE" } as unknown as PolicyInput),
      "INVALID_INPUT",
    );
    expect(effect.fieldErrors?.effect).toEqual(["Pick allow, deny or require approval."]);

    const approval = await expectDomainError(createPolicy(db, admin, { name: "x", effect: "REQUIRE_APPROVAL" }), "INVALID_INPUT");
    expect(approval.fieldErrors).toEqual({ reason: ["Say why, in words the approver will see."] });
  });

  it("keeps policies inside their org", async () => {
    const db = getDb();
    const foreignAgent = await createAgent(db, other);
    const agentError = await expectDomainError(
      createPolicy(db, admin, { name: "Foreign agent", effect: "ALLOW", agentId: foreignAgent.id }),
      "INVALID_INPUT",
    );
    expect(agentError.fieldErrors).toEqual({ agentId: ["Pick an agent of your organisation."] });
    const userError = await expectDomainError(
      createPolicy(db, admin, { name: "Foreign person", effect: "ALLOW", onBehalfOfUserId: other.principals.MEMBER.userId }),
      "INVALID_INPUT",
    );
    expect(userError.fieldErrors).toEqual({ onBehalfOfUserId: ["Pick a member of your organisation."] });

    const mine = await createPolicy(db, admin, { name: `Mine ${unique()}`, effect: "ALLOW" });
    const rival = other.principals.OWNER;
    expect((await listPolicies(db, rival)).map((p) => p.id)).not.toContain(mine.id);
    await expectDomainError(updatePolicy(db, rival, { id: mine.id, name: "Stolen", effect: "ALLOW" }), "NOT_FOUND");
    await expectDomainError(setPolicyEnabled(db, rival, { id: mine.id, enabled: false }), "NOT_FOUND");
    await expectDomainError(deletePolicy(db, rival, mine.id), "NOT_FOUND");
    expect((await loadPolicyRules(db, other.orgId)).map((r) => r.id)).not.toContain(mine.id);
    expect((await loadPolicyRules(db, org.orgId)).map((r) => r.id)).toContain(mine.id);
  });

  it("lets supervisors read, and only admins and owners manage", async () => {
    const db = getDb();
    const policy = await createPolicy(db, org.principals.OWNER, { name: `Owner's ${unique()}`, effect: "ALLOW" });
    await listPolicies(db, org.principals.SUPERVISOR);
    await expectDomainError(listPolicies(db, org.principals.MEMBER), "FORBIDDEN");
    for (const role of ["SUPERVISOR", "MEMBER"] as const) {
      const principal = org.principals[role];
      await expectDomainError(createPolicy(db, principal, { name: `Nope ${unique()}`, effect: "ALLOW" }), "FORBIDDEN");
      await expectDomainError(updatePolicy(db, principal, { id: policy.id, name: "Nope", effect: "ALLOW" }), "FORBIDDEN");
      await expectDomainError(setPolicyEnabled(db, principal, { id: policy.id, enabled: false }), "FORBIDDEN");
      await expectDomainError(deletePolicy(db, principal, policy.id), "FORBIDDEN");
      await expectDomainError(updateGovernanceSettings(db, principal, {}), "FORBIDDEN");
    }
    await expectDomainError(getGovernanceSettings(db, org.principals.MEMBER), "FORBIDDEN");
    expect((await getGovernanceSettings(db, org.principals.SUPERVISOR)).loopThreshold).toBe(3);
  });

  it("seeds the default policies once, and leaves an admin's edits alone", async () => {
    const db = getDb();
    const fresh = await createTestOrg(db, "seeded");
    expect(await seedDefaultPolicies(db, fresh.orgId)).toEqual({ created: DEFAULT_POLICIES.map((p) => p.name) });
    expect(await seedDefaultPolicies(db, fresh.orgId)).toEqual({ created: [] });

    const rules = await loadPolicyRules(db, fresh.orgId);
    const byName = (name: string) => rules.find((r) => r.name === name);
    expect(rules).toHaveLength(4);
    expect(byName("Refunds up to $100")).toMatchObject({
      effect: "ALLOW",
      toolName: "issue_refund",
      conditions: [{ path: "amountUsd", op: "lte", value: 100 }],
    });
    expect(byName("Refunds over $100 need approval")).toMatchObject({
      effect: "REQUIRE_APPROVAL",
      toolName: "issue_refund",
      reason: "Refunds above $100 need a supervisor's approval.",
      conditions: [{ path: "amountUsd", op: "gt", value: 100 }],
    });
    expect(byName("Emails inside acme.test")).toMatchObject({
      effect: "ALLOW",
      toolName: "send_email",
      conditions: [{ path: "to", op: "ends_with", value: "@acme.test" }],
    });
    expect(byName("Emails outside the company need approval")).toMatchObject({
      effect: "REQUIRE_APPROVAL",
      toolName: "send_email",
      reason: "Emails to addresses outside acme.test need approval.",
      conditions: [{ path: "to", op: "not_ends_with", value: "@acme.test" }],
    });
    expect(rules.every((r) => r.enabled && r.agentId === null && r.toolRisk === null && r.onBehalfOfUserId === null)).toBe(true);

    const small = byName("Refunds up to $100")!;
    await setPolicyEnabled(db, fresh.principals.OWNER, { id: small.id, enabled: false });
    const large = byName("Refunds over $100 need approval")!;
    await deletePolicy(db, fresh.principals.OWNER, large.id);
    expect(await seedDefaultPolicies(db, fresh.orgId)).toEqual({ created: ["Refunds over $100 need approval"] });
    const after = await loadPolicyRules(db, fresh.orgId);
    expect(after).toHaveLength(4);
    expect(after.find((r) => r.id === small.id)?.enabled).toBe(false);
    expect(await db.auditEvent.count({ where: { orgId: fresh.orgId, action: "policy.created", actorType: "SYSTEM" } })).toBe(5);
  });

  it("tests a call exactly as the kernel would decide it, with the tool's name and risk", async () => {
    const db = getDb();
    const fresh = await createTestOrg(db, "tester");
    await seedDefaultPolicies(db, fresh.orgId);
    const agent = await createAgent(db, fresh);
    const [refund, email, unclassified] = await createTools(db, fresh, [
      { name: "issue_refund", risk: "WRITE" },
      { name: "send_email", risk: "EXTERNAL" },
      { name: "mystery", risk: null },
    ]);
    await db.toolGrant.create({ data: { orgId: fresh.orgId, agentId: agent.id, toolId: refund!.id } });
    const supervisor = fresh.principals.SUPERVISOR;
    const call = { agentId: agent.id, onBehalfOfUserId: fresh.principals.MEMBER.userId };

    const small = await testPolicyCall(db, supervisor, { ...call, toolId: refund!.id, args: { orderId: "1002", amountUsd: 20 } });
    expect(small).toMatchObject({
      effect: "ALLOW",
      policyName: "Refunds up to $100",
      tool: { id: refund!.id, name: "issue_refund", risk: "WRITE" },
      notes: [],
    });

    const large = await testPolicyCall(db, supervisor, { ...call, toolId: refund!.id, args: { amountUsd: "250" } });
    expect(large).toMatchObject({
      effect: "REQUIRE_APPROVAL",
      policyName: "Refunds over $100 need approval",
      reason: "Refunds above $100 need a supervisor's approval.",
    });
    expect(large.explanation.at(-1)).toBe("Decision: require approval.");

    const outside = await testPolicyCall(db, supervisor, { ...call, toolId: email!.id, args: { to: "x@example.com" } });
    expect(outside).toMatchObject({
      effect: "REQUIRE_APPROVAL",
      policyName: "Emails outside the company need approval",
      tool: { risk: "EXTERNAL" },
    });
    expect(outside.notes[0]).toContain("has not been granted");

    const mystery = await testPolicyCall(db, supervisor, { ...call, toolId: unclassified!.id, args: {} });
    expect(mystery).toMatchObject({ effect: "DENY", policyId: null, tool: { risk: null } });

    // Untrusted content: a call no rule covers (a write tool without policies) needs approval.
    const [write] = await createTools(db, fresh, [{ name: "update_crm", risk: "WRITE" }]);
    expect(await testPolicyCall(db, supervisor, { ...call, toolId: write!.id, untrustedContentSeen: false })).toMatchObject({
      effect: "ALLOW",
      policyId: null,
    });
    expect(await testPolicyCall(db, supervisor, { ...call, toolId: write!.id, untrustedContentSeen: true })).toMatchObject({
      effect: "REQUIRE_APPROVAL",
      policyId: null,
    });

    const foreign = await createAgent(db, other);
    const error = await expectDomainError(
      testPolicyCall(db, supervisor, {
        agentId: foreign.id,
        toolId: refund!.id,
        onBehalfOfUserId: other.principals.OWNER.userId,
        args: {},
      }),
      "INVALID_INPUT",
    );
    expect(error.fieldErrors).toEqual({
      agentId: ["Pick an agent of your organisation."],
      onBehalfOfUserId: ["Pick a member of your organisation."],
    });
    const badArgs = await expectDomainError(
      testPolicyCall(db, supervisor, { ...call, toolId: refund!.id, args: [1, 2] as unknown as Record<string, unknown> }),
      "INVALID_INPUT",
    );
    expect(badArgs.fieldErrors?.args).toBeDefined();
    await expectDomainError(testPolicyCall(db, fresh.principals.MEMBER, { ...call, toolId: refund!.id }), "FORBIDDEN");

    const targets = await listPolicyTargets(db, supervisor);
    expect(targets.agents.map((a) => a.id)).toEqual([agent.id]);
    expect(targets.tools.map((t) => t.name).sort()).toEqual(["issue_refund", "mystery", "send_email", "update_crm"]);
    expect(targets.members).toHaveLength(4);
  });

  it("fails closed on conditions that were damaged in the database", async () => {
    const db = getDb();
    const fresh = await createTestOrg(db, "damaged");
    await db.policy.create({
      data: {
        orgId: fresh.orgId,
        name: "Damaged deny",
        effect: "DENY",
        reason: "Damaged.",
        toolName: "issue_refund",
        conditions: [{ path: "amountUsd", op: "between", value: [1, 2] }],
      },
    });
    const agent = await createAgent(db, fresh);
    const [refund] = await createTools(db, fresh, [{ name: "issue_refund", risk: "WRITE" }]);
    const rules = await loadPolicyRules(db, fresh.orgId);
    expect(rules[0]?.conditions).toEqual([{ path: "amountUsd", op: "between", value: [1, 2] }]);
    const decision = await testPolicyCall(db, fresh.principals.OWNER, {
      agentId: agent.id,
      toolId: refund!.id,
      onBehalfOfUserId: fresh.principals.OWNER.userId,
      args: { amountUsd: 5 },
    });
    expect(decision).toMatchObject({ effect: "DENY", policyName: "Damaged deny" });
  });
});
