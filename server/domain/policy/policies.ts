import { z } from "zod";
import { inTransaction, type DbOrTx, type Tx } from "@/server/db";
import type { Prisma } from "@/server/generated/prisma/client";
import { logger } from "@/server/logger";
import { appendAudit, type AuditActorType } from "../audit/audit-log";
import { Conflict, InvalidInput, NotFound, type FieldErrors } from "../errors";
import { actorOf, requireScope, type Principal } from "../identity/principal";
import { TOOL_RISKS } from "../tools/servers";
import {
  decideToolCall,
  POLICY_EFFECTS,
  PolicyCondition,
  PolicyConditions,
  type ConditionOp,
  type PolicyConditionInput,
  type PolicyDecision,
  type PolicyEffect,
  type PolicyRule,
  type PolicyToolRisk,
} from "./engine";

/**
 * Policies: the org's rules for tool calls (decided by ./engine.ts), their CRUD, and the "test a call" panel.
 *
 * What must stay true:
 * - Every query filters by the principal's orgId. A policy may only point at an agent and a person of the same
 *   org; anything else is InvalidInput (a foreign id is indistinguishable from a missing one).
 * - Conditions are validated (and normalized: numbers stored as numbers, text trimmed) before they are stored;
 *   the engine still re-checks them when it runs, so bad data in the database fails closed rather than open.
 * - Names are unique per org (the seed is idempotent by name). Writes take a per-org advisory lock so two
 *   concurrent saves cannot both pass the uniqueness check.
 * - Every change is audited in the same transaction.
 */

const nullableText = (max: number, message: string) =>
  z
    .string({ error: "Enter text, or leave it empty." })
    .trim()
    .max(max, message)
    .nullish()
    .transform((value) => (value ? value : null));

const PolicyFields = z
  .object({
    name: z
      .string({ error: "Give the policy a name." })
      .trim()
      .min(1, "Give the policy a name.")
      .max(80, "Keep the name under 80 characters."),
    description: z
      .string()
      .trim()
      .max(500, "Keep the description under 500 characters.")
      .nullish()
      .transform((value) => value ?? ""),
    effect: z.enum(POLICY_EFFECTS, { error: "Pick allow, deny or require approval." }),
    /** Shown to the agent (deny) and to the approver (require approval). Optional for allow rules. */
    reason: z
      .string()
      .trim()
      .max(300, "Keep the reason under 300 characters.")
      .nullish()
      .transform((value) => value ?? ""),
    agentId: nullableText(100, "Not a valid agent id."),
    /** The name the MCP server knows the tool by, e.g. issue_refund. */
    toolName: nullableText(200, "Keep the tool name under 200 characters."),
    toolRisk: z
      .enum(TOOL_RISKS, { error: "Pick read, write or external, or any risk." })
      .nullish()
      .transform((value) => value ?? null),
    onBehalfOfUserId: nullableText(100, "Not a valid member id."),
    conditions: z.array(PolicyCondition, { error: "Conditions must be a list." }).max(20, "At most 20 conditions.").default([]),
    enabled: z.boolean({ error: "Enabled is true or false." }).default(true),
  })
  .superRefine((policy, ctx) => {
    if (policy.effect !== "ALLOW" && policy.reason === "") {
      ctx.addIssue({
        code: "custom",
        path: ["reason"],
        message:
          policy.effect === "DENY"
            ? "Say why, in words the agent will see when it is refused."
            : "Say why, in words the approver will see.",
      });
    }
  });
type ParsedPolicy = z.output<typeof PolicyFields>;

/** What forms and API callers send to create a policy. */
export interface PolicyInput {
  name: string;
  description?: string | null;
  effect: PolicyEffect;
  reason?: string | null;
  agentId?: string | null;
  toolName?: string | null;
  toolRisk?: PolicyToolRisk | null;
  onBehalfOfUserId?: string | null;
  conditions?: PolicyConditionInput[];
  enabled?: boolean;
}
export type CreatePolicyInput = PolicyInput;
export interface UpdatePolicyInput extends PolicyInput {
  id: string;
}

export const SetPolicyEnabledInput = z.object({ id: z.string().min(1), enabled: z.boolean() });
export type SetPolicyEnabledInput = z.input<typeof SetPolicyEnabledInput>;

export const TestPolicyCallInput = z.object({
  agentId: z.string({ error: "Pick an agent." }).min(1, "Pick an agent."),
  toolId: z.string({ error: "Pick a tool." }).min(1, "Pick a tool."),
  onBehalfOfUserId: z.string({ error: "Pick the person the agent acts for." }).min(1, "Pick the person the agent acts for."),
  args: z.record(z.string(), z.unknown(), { error: 'Arguments must be a JSON object, e.g. {"amountUsd": 250}.' }).default({}),
  untrustedContentSeen: z.boolean().default(false),
});
export type TestPolicyCallInput = z.input<typeof TestPolicyCallInput>;

/**
 * Like tools/input.ts `parseInput`, but a condition's errors are keyed by row and field ("conditions.1.value"),
 * so the condition builder can show each message next to its input.
 */
function parsePolicyFields(raw: unknown): ParsedPolicy {
  const result = PolicyFields.safeParse(raw);
  if (result.success) return result.data;
  const fields: FieldErrors = {};
  const summaries: string[] = [];
  for (const issue of result.error.issues) {
    const [first, index, field] = issue.path;
    let key = typeof first === "string" ? first : "form";
    let summary = issue.message;
    if (first === "conditions" && typeof index === "number") {
      key = typeof field === "string" ? `conditions.${index}.${field}` : `conditions.${index}`;
      summary = `Condition ${index + 1}: ${issue.message}`;
    }
    (fields[key] ??= []).push(issue.message);
    summaries.push(summary);
  }
  const keys = Object.keys(fields);
  throw new InvalidInput(
    keys.length === 1 && summaries.length === 1 ? (summaries[0] ?? "Check the policy.") : `${keys.length} fields need attention.`,
    fields,
  );
}

const policySelect = {
  id: true,
  name: true,
  description: true,
  effect: true,
  reason: true,
  agentId: true,
  toolName: true,
  toolRisk: true,
  onBehalfOfUserId: true,
  conditions: true,
  enabled: true,
  createdAt: true,
  updatedAt: true,
  agent: { select: { id: true, slug: true, name: true } },
  onBehalfOf: { select: { id: true, email: true, name: true } },
} as const;

type PolicyRow = Prisma.PolicyGetPayload<{ select: typeof policySelect }>;

/**
 * Stored conditions as the engine's type. They were validated when saved; anything that no longer is (a manual
 * database edit) is passed on as it is, and the engine treats it as "cannot be judged" — restrictive rules still
 * apply, allow rules do not.
 */
function conditionsFromStored(stored: Prisma.JsonValue, policyId: string): PolicyCondition[] {
  const parsed = PolicyConditions.safeParse(stored);
  if (parsed.success) return parsed.data;
  logger.warn("policy has invalid stored conditions; they fail closed", { policyId });
  const items = Array.isArray(stored) ? stored : [stored];
  return items.map((item) => {
    const record = item && typeof item === "object" && !Array.isArray(item) ? (item as Record<string, unknown>) : {};
    const op = typeof record.op === "string" ? record.op : "invalid";
    return { path: typeof record.path === "string" ? record.path : "", op: op as ConditionOp, value: record.value };
  });
}

function present(row: PolicyRow) {
  return { ...row, conditions: conditionsFromStored(row.conditions, row.id) };
}

export type PolicyView = ReturnType<typeof present>;

function conditionsJson(conditions: PolicyCondition[]): Prisma.InputJsonArray {
  // Values were validated as JSON primitives (or lists of them) by PolicyCondition.
  return conditions.map((c) =>
    c.value === undefined ? { path: c.path, op: c.op } : { path: c.path, op: c.op, value: c.value as Prisma.InputJsonValue },
  );
}

function columnsOf(policy: ParsedPolicy) {
  return {
    name: policy.name,
    description: policy.description,
    effect: policy.effect,
    reason: policy.reason,
    agentId: policy.agentId,
    toolName: policy.toolName,
    toolRisk: policy.toolRisk,
    onBehalfOfUserId: policy.onBehalfOfUserId,
    conditions: conditionsJson(policy.conditions),
    enabled: policy.enabled,
  };
}

function auditDataOf(policy: ParsedPolicy): Prisma.InputJsonObject {
  const { description: _description, ...rest } = columnsOf(policy);
  return rest;
}

async function lockPolicies(tx: Tx, orgId: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${"policies:" + orgId}))`;
}

const nameTaken = () => new InvalidInput("A policy with this name already exists.", { name: ["A policy with this name already exists."] });

/** agentId and onBehalfOfUserId must name an agent and a member of the caller's org. */
async function assertTargetsInOrg(db: DbOrTx, orgId: string, policy: ParsedPolicy): Promise<void> {
  const fields: FieldErrors = {};
  if (policy.agentId) {
    const agent = await db.agent.findFirst({ where: { id: policy.agentId, orgId }, select: { id: true } });
    if (!agent) fields.agentId = ["Pick an agent of your organisation."];
  }
  if (policy.onBehalfOfUserId) {
    const member = await db.membership.findFirst({ where: { orgId, userId: policy.onBehalfOfUserId }, select: { id: true } });
    if (!member) fields.onBehalfOfUserId = ["Pick a member of your organisation."];
  }
  const messages = Object.values(fields).flat();
  if (messages.length > 0)
    throw new InvalidInput(messages.length === 1 ? (messages[0] ?? "") : `${messages.length} fields need attention.`, fields);
}

export async function listPolicies(db: DbOrTx, principal: Principal): Promise<PolicyView[]> {
  requireScope(principal, "policies:read");
  const rows = await db.policy.findMany({
    where: { orgId: principal.orgId },
    select: policySelect,
    orderBy: [{ name: "asc" }, { id: "asc" }],
  });
  return rows.map(present);
}

/** What the policy form and the test panel offer to pick from: the org's agents, tools and members. */
export async function listPolicyTargets(db: DbOrTx, principal: Principal) {
  requireScope(principal, "policies:read");
  const orgId = principal.orgId;
  const [agentRows, tools, memberships] = await Promise.all([
    db.agent.findMany({
      where: { orgId },
      select: { id: true, slug: true, name: true, status: true, toolGrants: { where: { orgId }, select: { toolId: true } } },
      orderBy: { name: "asc" },
    }),
    db.tool.findMany({
      where: { orgId },
      select: { id: true, name: true, risk: true, status: true, inputSchema: true, server: { select: { id: true, name: true } } },
      orderBy: [{ server: { name: "asc" } }, { name: "asc" }],
    }),
    db.membership.findMany({
      where: { orgId },
      select: { role: true, revokedAt: true, user: { select: { id: true, email: true, name: true } } },
      orderBy: { createdAt: "asc" },
    }),
  ]);
  const members = memberships.map((m) => ({
    userId: m.user.id,
    email: m.user.email,
    name: m.user.name,
    role: m.role,
    revoked: m.revokedAt !== null,
  }));
  // The tools each agent was granted: the test panel marks the others, which the identity gate refuses.
  const agents = agentRows.map(({ toolGrants, ...agent }) => ({ ...agent, toolIds: toolGrants.map((grant) => grant.toolId) }));
  return { agents, tools, members };
}

export async function createPolicy(db: DbOrTx, principal: Principal, raw: CreatePolicyInput): Promise<PolicyView> {
  requireScope(principal, "policies:manage");
  const policy = parsePolicyFields(raw);
  const orgId = principal.orgId;
  await assertTargetsInOrg(db, orgId, policy);
  return inTransaction(db, async (tx) => {
    await lockPolicies(tx, orgId);
    const clash = await tx.policy.findFirst({ where: { orgId, name: policy.name }, select: { id: true } });
    if (clash) throw nameTaken();
    const row = await tx.policy.create({ data: { orgId, ...columnsOf(policy) }, select: policySelect });
    await appendAudit(tx, {
      orgId,
      action: "policy.created",
      ...actorOf(principal),
      targetType: "Policy",
      targetId: row.id,
      data: auditDataOf(policy),
    });
    return present(row);
  });
}

/** Replaces a policy's fields with exactly the given ones. */
export async function updatePolicy(db: DbOrTx, principal: Principal, raw: UpdatePolicyInput): Promise<PolicyView> {
  requireScope(principal, "policies:manage");
  const id = typeof raw === "object" && raw !== null && typeof raw.id === "string" ? raw.id : "";
  if (!id) throw new InvalidInput("Which policy? The id is missing.", { id: ["The id is missing."] });
  const policy = parsePolicyFields(raw);
  const orgId = principal.orgId;
  await assertTargetsInOrg(db, orgId, policy);
  return inTransaction(db, async (tx) => {
    await lockPolicies(tx, orgId);
    const current = await tx.policy.findFirst({ where: { id, orgId }, select: { name: true } });
    if (!current) throw new NotFound("Policy");
    const clash = await tx.policy.findFirst({ where: { orgId, name: policy.name, id: { not: id } }, select: { id: true } });
    if (clash) throw nameTaken();
    const { count } = await tx.policy.updateMany({ where: { id, orgId }, data: columnsOf(policy) });
    if (count === 0) throw new NotFound("Policy");
    await appendAudit(tx, {
      orgId,
      action: "policy.updated",
      ...actorOf(principal),
      targetType: "Policy",
      targetId: id,
      data: { ...auditDataOf(policy), previousName: current.name },
    });
    return present(await tx.policy.findFirstOrThrow({ where: { id, orgId }, select: policySelect }));
  });
}

export async function deletePolicy(db: DbOrTx, principal: Principal, id: string): Promise<{ id: string; name: string }> {
  requireScope(principal, "policies:manage");
  const orgId = principal.orgId;
  return inTransaction(db, async (tx) => {
    const policy = await tx.policy.findFirst({ where: { id, orgId }, select: { id: true, name: true, effect: true } });
    if (!policy) throw new NotFound("Policy");
    // Approvals it created keep their reason; their policyId becomes null (onDelete: SetNull).
    const { count } = await tx.policy.deleteMany({ where: { id, orgId } });
    if (count === 0) throw new NotFound("Policy");
    await appendAudit(tx, {
      orgId,
      action: "policy.deleted",
      ...actorOf(principal),
      targetType: "Policy",
      targetId: id,
      data: { name: policy.name, effect: policy.effect },
    });
    return { id: policy.id, name: policy.name };
  });
}

export async function setPolicyEnabled(db: DbOrTx, principal: Principal, raw: SetPolicyEnabledInput): Promise<PolicyView> {
  requireScope(principal, "policies:manage");
  const input = SetPolicyEnabledInput.safeParse(raw);
  if (!input.success) throw new InvalidInput("Send the policy's id and whether it is enabled.");
  const { id, enabled } = input.data;
  const orgId = principal.orgId;
  return inTransaction(db, async (tx) => {
    const policy = await tx.policy.findFirst({ where: { id, orgId }, select: { name: true } });
    if (!policy) throw new NotFound("Policy");
    // CAS on the current state: toggling twice from two tabs is a Conflict, not a silent no-op.
    const { count } = await tx.policy.updateMany({ where: { id, orgId, enabled: !enabled }, data: { enabled } });
    if (count === 0) throw new Conflict(`The policy “${policy.name}” is already ${enabled ? "enabled" : "disabled"}.`);
    await appendAudit(tx, {
      orgId,
      action: enabled ? "policy.enabled" : "policy.disabled",
      ...actorOf(principal),
      targetType: "Policy",
      targetId: id,
      data: { name: policy.name },
    });
    return present(await tx.policy.findFirstOrThrow({ where: { id, orgId }, select: policySelect }));
  });
}

/** Every policy of the org (enabled or not; the engine skips disabled ones), for the kernel. No principal: the run's org is trusted. */
export async function loadPolicyRules(db: DbOrTx, orgId: string): Promise<PolicyRule[]> {
  const rows = await db.policy.findMany({
    where: { orgId },
    select: {
      id: true,
      name: true,
      effect: true,
      reason: true,
      agentId: true,
      toolName: true,
      toolRisk: true,
      onBehalfOfUserId: true,
      conditions: true,
      enabled: true,
    },
    orderBy: { id: "asc" },
  });
  return rows.map(policyRuleFromRow);
}

/** A policy row as read from the database: the engine's rule with its conditions still as stored JSON. */
export type StoredPolicyRule = Omit<PolicyRule, "conditions"> & { conditions: Prisma.JsonValue };

/** A stored policy row as the engine's rule: conditions that no longer parse fail closed (see conditionsFromStored). */
export function policyRuleFromRow(row: StoredPolicyRule): PolicyRule {
  return { ...row, conditions: conditionsFromStored(row.conditions, row.id) };
}

export type PolicyTestResult = PolicyDecision & {
  tool: { id: string; name: string; risk: PolicyToolRisk | null; status: string; serverName: string };
  agent: { id: string; slug: string; name: string };
  /** What the gates before and after policy would say (grant, tool status): policy is not the only gate. */
  notes: string[];
};

/** Decides a hypothetical call with the org's current policies, exactly as the kernel would, without running anything. */
export async function testPolicyCall(db: DbOrTx, principal: Principal, raw: TestPolicyCallInput): Promise<PolicyTestResult> {
  requireScope(principal, "policies:read");
  const result = TestPolicyCallInput.safeParse(raw);
  if (!result.success) {
    const fields: FieldErrors = {};
    for (const issue of result.error.issues) {
      const key = typeof issue.path[0] === "string" ? issue.path[0] : "form";
      (fields[key] ??= []).push(issue.message);
    }
    const first = result.error.issues[0]?.message ?? "Check the call.";
    throw new InvalidInput(Object.keys(fields).length === 1 ? first : `${Object.keys(fields).length} fields need attention.`, fields);
  }
  const input = result.data;
  const orgId = principal.orgId;
  const [agent, tool, member, grant, rules] = await Promise.all([
    db.agent.findFirst({ where: { id: input.agentId, orgId }, select: { id: true, slug: true, name: true, status: true } }),
    db.tool.findFirst({
      where: { id: input.toolId, orgId },
      select: { id: true, name: true, risk: true, status: true, server: { select: { name: true, status: true } } },
    }),
    db.membership.findFirst({ where: { orgId, userId: input.onBehalfOfUserId }, select: { revokedAt: true } }),
    db.toolGrant.findFirst({ where: { orgId, agentId: input.agentId, toolId: input.toolId }, select: { agentId: true } }),
    loadPolicyRules(db, orgId),
  ]);
  const fields: FieldErrors = {};
  if (!agent) fields.agentId = ["Pick an agent of your organisation."];
  if (!tool) fields.toolId = ["Pick a tool of your organisation."];
  if (!member) fields.onBehalfOfUserId = ["Pick a member of your organisation."];
  const messages = Object.values(fields).flat();
  if (!agent || !tool || !member)
    throw new InvalidInput(messages.length === 1 ? (messages[0] ?? "") : `${messages.length} fields need attention.`, fields);

  const decision = decideToolCall(rules, {
    agentId: agent.id,
    toolName: tool.name,
    toolRisk: tool.risk,
    onBehalfOfUserId: input.onBehalfOfUserId,
    args: input.args,
    untrustedContentSeen: input.untrustedContentSeen,
  });
  const notes: string[] = [];
  if (!grant) notes.push(`${agent.name} has not been granted “${tool.name}”: the identity gate refuses the call before policy is asked.`);
  if (agent.status !== "ACTIVE") notes.push(`${agent.name} is ${agent.status.toLowerCase()}: it does not start new runs.`);
  if (tool.status === "PENDING_REVIEW")
    notes.push(`“${tool.name}” changed since it was approved and waits for review: it cannot be called until then.`);
  if (tool.status === "DISABLED") notes.push(`The server no longer offers “${tool.name}”.`);
  if (tool.server.status === "DISABLED") notes.push(`The server “${tool.server.name}” is disabled.`);
  if (member.revokedAt) notes.push("This person's access has been revoked: runs cannot act for them.");
  return {
    ...decision,
    tool: { id: tool.id, name: tool.name, risk: tool.risk, status: tool.status, serverName: tool.server.name },
    agent: { id: agent.id, slug: agent.slug, name: agent.name },
    notes,
  };
}

interface DefaultPolicy {
  name: string;
  description: string;
  effect: PolicyEffect;
  reason: string;
  toolName: string;
  conditions: PolicyCondition[];
}

/** The demo's starting rules: refunds and outside emails go to a person above a threshold. */
export const DEFAULT_POLICIES: readonly DefaultPolicy[] = [
  {
    name: "Refunds up to $100",
    description: "Small refunds go through without waiting for anyone.",
    effect: "ALLOW",
    reason: "Refunds up to $100 are allowed without approval.",
    toolName: "issue_refund",
    conditions: [{ path: "amountUsd", op: "lte", value: 100 }],
  },
  {
    name: "Refunds over $100 need approval",
    description: "",
    effect: "REQUIRE_APPROVAL",
    reason: "Refunds above $100 need a supervisor's approval.",
    toolName: "issue_refund",
    conditions: [{ path: "amountUsd", op: "gt", value: 100 }],
  },
  {
    name: "Emails inside acme.test",
    description: "Colleagues can be emailed without approval.",
    effect: "ALLOW",
    reason: "Emails to acme.test addresses are allowed without approval.",
    toolName: "send_email",
    conditions: [{ path: "to", op: "ends_with", value: "@acme.test" }],
  },
  {
    name: "Emails outside the company need approval",
    description: "",
    effect: "REQUIRE_APPROVAL",
    reason: "Emails to addresses outside acme.test need approval.",
    toolName: "send_email",
    conditions: [{ path: "to", op: "not_ends_with", value: "@acme.test" }],
  },
];

/**
 * Creates the default policies that do not exist yet (by name). Idempotent: a policy an admin edited, disabled
 * or renamed is left alone, and one they deleted comes back only if its name is free.
 */
export async function seedDefaultPolicies(
  db: DbOrTx,
  orgId: string,
  actor: { actorType: AuditActorType; actorId?: string | null } = { actorType: "SYSTEM" },
) {
  return inTransaction(db, async (tx) => {
    await lockPolicies(tx, orgId);
    const existing = await tx.policy.findMany({
      where: { orgId, name: { in: DEFAULT_POLICIES.map((p) => p.name) } },
      select: { name: true },
    });
    const created: string[] = [];
    for (const policy of DEFAULT_POLICIES) {
      if (existing.some((row) => row.name === policy.name)) continue;
      const row = await tx.policy.create({
        data: {
          orgId,
          name: policy.name,
          description: policy.description,
          effect: policy.effect,
          reason: policy.reason,
          toolName: policy.toolName,
          conditions: conditionsJson(policy.conditions),
        },
        select: { id: true },
      });
      await appendAudit(tx, {
        orgId,
        action: "policy.created",
        ...actor,
        targetType: "Policy",
        targetId: row.id,
        data: {
          name: policy.name,
          effect: policy.effect,
          toolName: policy.toolName,
          conditions: conditionsJson(policy.conditions),
          via: "seed",
        },
      });
      created.push(policy.name);
    }
    return { created };
  });
}
