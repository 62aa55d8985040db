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
  /** Digest of the facts above, for gateUnchangedSql. */
  digest: string;
}

interface GateRow {
  governance: Prisma.JsonValue;
  membership: { role: RoleName; revokedAt: string | null; email: string; disabledAt: string | null } | null;
  policies: StoredPolicyRule[];
}

/**
 * The gate's facts as one row (governance, membership, policies) for org `orgParam` and user `userParam` (SQL
 * expressions, e.g. "$1"). Shared by the read and by the check a trace write makes (gateUnchangedSql), so both see
 * exactly the same facts.
 */
function gateRowSql(orgParam: string, userParam: string): string {
  return `SELECT o.governance,
            (SELECT json_build_object('role', m.role::text, 'revokedAt', m.revoked_at, 'email', u.email, 'disabledAt', u.disabled_at)
               FROM memberships m JOIN users u ON u.id = m.user_id
              WHERE m.org_id = o.id AND m.user_id = ${userParam}) AS membership,
            (SELECT COALESCE(json_agg(json_build_object(
                      'id', p.id, 'name', p.name, 'effect', p.effect::text, 'reason', p.reason, 'agentId', p.agent_id,
                      'toolName', p.tool_name, 'toolRisk', p.tool_risk::text, 'onBehalfOfUserId', p.on_behalf_of_user_id,
                      'conditions', p.conditions, 'enabled', p.enabled) ORDER BY p.id), '[]'::json)
               FROM policies p WHERE p.org_id = o.id) AS policies
       FROM orgs o WHERE o.id = ${orgParam}`;
}

/** A digest of the gate's facts, over a row named `gate`: equal digests, equal facts (json text is deterministic for equal rows). */
const GATE_DIGEST = "md5(row_to_json(gate)::text)";

/** The digest of the gate's facts for org `orgParam` and user `userParam` (SQL expressions), as a scalar subquery. */
export function gateDigestSql(orgParam: string, userParam: string): string {
  return `(SELECT ${GATE_DIGEST} FROM (${gateRowSql(orgParam, userParam)}) AS gate)`;
}

/**
 * A condition for a statement that acts on a gate read earlier: true while the gate's facts are still those the
 * digest was taken of. A trace write that carries it (writeTrace's `gate`) writes nothing once anything changed.
 */
export function gateUnchangedSql(orgParam: string, userParam: string, digestParam: string): string {
  return `${gateDigestSql(orgParam, userParam)} IS NOT DISTINCT FROM ${digestParam}`;
}

/** Whether the gate's facts for this user are still those `digest` was taken of. */
export async function toolCallGateUnchanged(db: DbOrTx, orgId: string, userId: string, digest: string): Promise<boolean> {
  const rows = await sqlFor(db).query<{ unchanged: boolean }>(`SELECT ${gateUnchangedSql("$1", "$2", "$3")} AS unchanged`, [orgId, userId, digest]);
  return rows[0]?.unchanged === true;
}

/**
 * Reads a tool call's gate in one statement — the same facts as userMayActFor, loadGovernanceSettings and
 * loadPolicyRules, in one round trip instead of four on the kernel's hot path — with the digest a later write can
 * check them against (gateUnchangedSql), so a revoked membership or a new policy applies to the very next call
 * without reading the gate again before every call.
 */
export async function loadToolCallGate(db: DbOrTx, orgId: string, userId: string): Promise<ToolCallGate> {
  const rows = await sqlFor(db).query<GateRow & { digest: string }>(
    `SELECT gate.*, ${GATE_DIGEST} AS digest FROM (${gateRowSql("$1", "$2")}) AS gate`,
    [orgId, userId],
  );
  const row = rows[0];
  if (!row) throw new NotFound("Organisation");
  return {
    refusal: refusalToActFor(row.membership),
    settings: settingsFrom(row.governance),
    rules: row.policies.map(policyRuleFromRow),
    digest: row.digest,
  };
}
