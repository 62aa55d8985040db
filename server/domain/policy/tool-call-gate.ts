import type { DbOrTx } from "@/server/db";
import type { RoleName } from "@/lib/scopes";
import type { Prisma } from "@/server/generated/prisma/client";
import { sqlFor } from "@/server/sql";
import { NotFound } from "../errors";
import { settingsFrom, type GovernanceSettings } from "../governance/settings";
import { refusalToActFor } from "../identity/acting-for";
import type { PolicyRule } from "./engine";
import { policyRuleFromRow, type StoredPolicyRule } from "./policies";

/** Everything the gates of one tool call judge: may the user still act, the org's guard settings, its policies. */
export interface ToolCallGate {
  /** Why the run's user may not act (userMayActFor), or null. */
  refusal: string | null;
  settings: GovernanceSettings;
  rules: PolicyRule[];
}

interface GateRow {
  governance: Prisma.JsonValue;
  membership: { role: RoleName; revokedAt: string | null; email: string; disabledAt: string | null } | null;
  policies: StoredPolicyRule[];
}

/**
 * Reads a tool call's gate in one statement — the same facts as userMayActFor, loadGovernanceSettings and
 * loadPolicyRules, read fresh for every call (a revoked membership or a new policy applies to the very next call),
 * but in one round trip instead of four on the kernel's hot path.
 */
export async function loadToolCallGate(db: DbOrTx, orgId: string, userId: string): Promise<ToolCallGate> {
  const rows = await sqlFor(db).query<GateRow>(
    `SELECT o.governance,
            (SELECT json_build_object('role', m.role::text, 'revokedAt', m.revoked_at, 'email', u.email, 'disabledAt', u.disabled_at)
               FROM memberships m JOIN users u ON u.id = m.user_id
              WHERE m.org_id = o.id AND m.user_id = $2) AS membership,
            (SELECT COALESCE(json_agg(json_build_object(
                      'id', p.id, 'name', p.name, 'effect', p.effect::text, 'reason', p.reason, 'agentId', p.agent_id,
                      'toolName', p.tool_name, 'toolRisk', p.tool_risk::text, 'onBehalfOfUserId', p.on_behalf_of_user_id,
                      'conditions', p.conditions, 'enabled', p.enabled) ORDER BY p.id), '[]'::json)
               FROM policies p WHERE p.org_id = o.id) AS policies
       FROM orgs o WHERE o.id = $1`,
    [orgId, userId],
  );
  const row = rows[0];
  if (!row) throw new NotFound("Organisation");
  return {
    refusal: refusalToActFor(row.membership),
    settings: settingsFrom(row.governance),
    rules: row.policies.map(policyRuleFromRow),
  };
}
