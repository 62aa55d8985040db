import { z } from "zod";
import { inTransaction, type DbOrTx } from "@/server/db";
import { appendAudit } from "../audit/audit-log";
import { NotFound } from "../errors";
import { actorOf, requireScope, type Principal } from "../identity/principal";
import { normaliseAllowEntry } from "../guards/egress";
import { parseInput } from "../tools/input";

/** A named pattern redacted from tool inputs and outputs, e.g. { name: "ticket", regex: "TCK-\\d{6}" }. */
export const RedactionPattern = z.object({
  name: z.string().trim().min(1, "Give the pattern a name.").max(40, "Keep the name under 40 characters."),
  regex: z
    .string()
    .min(1, "Enter a regular expression.")
    .max(500, "Keep the expression under 500 characters.")
    .refine((source) => {
      try {
        new RegExp(source, "g");
        return true;
      } catch {
        return false;
      }
    }, "Not a valid regular expression."),
});

/**
 * A host an admin lets tool servers live at although it is loopback, private, link-local or a metadata address:
 * an exact host name, an IP address or a CIDR range. Stored in canonical form (lowercase, no brackets).
 */
export const EgressAllowEntry = z.string().transform((raw, ctx) => {
  const entry = normaliseAllowEntry(raw);
  if (entry === null) {
    const shown = raw.trim().length > 60 ? `${raw.trim().slice(0, 60)}…` : raw.trim();
    ctx.addIssue({
      code: "custom",
      message: `“${shown}” is not a host name, IP address or CIDR range. Write one per line without scheme, port or path, e.g. mcp.internal, 10.0.0.5 or 10.0.0.0/24.`,
    });
    return z.NEVER;
  }
  return entry;
});

/**
 * An org's governance settings. Stored as JSON on the org (`orgs.governance`); every field has a default, so an
 * empty object is a complete, safe configuration.
 */
export const GovernanceSettings = z.object({
  /** How long an approval waits for a person before its default outcome applies. */
  approvalTimeoutMinutes: z.number().int().min(1, "At least 1 minute.").max(60 * 24 * 30, "At most 30 days.").default(60 * 24),
  /** What happens to an approval nobody decided in time. */
  approvalDefaultOutcome: z.enum(["REJECT", "APPROVE"]).default("REJECT"),
  /** A run that makes the same tool call with the same arguments this many times is halted ("loop"). */
  loopThreshold: z.number().int().min(2, "At least 2.").max(50, "At most 50.").default(3),
  redaction: z
    .object({
      /** Values of the org's stored Secrets. */
      secrets: z.boolean().default(true),
      /** Strings that look like API keys or tokens (sb_…, sk-…, ghp_…, AKIA…, Bearer …). */
      apiKeys: z.boolean().default(true),
      emails: z.boolean().default(false),
      /** Card numbers (13–19 digits passing the Luhn check). */
      cardNumbers: z.boolean().default(true),
      patterns: z.array(RedactionPattern).max(50, "At most 50 patterns.").default([]),
    })
    .prefault({}),
  /**
   * Hosts tool servers may be registered at and connected to although the egress guard would refuse them
   * (loopback, private, link-local, metadata addresses). Empty: public addresses only.
   */
  egressAllowHosts: z
    .array(EgressAllowEntry)
    .max(100, "At most 100 allowed hosts.")
    .default([])
    .transform((entries) => [...new Set(entries)]),
});
export type GovernanceSettings = z.output<typeof GovernanceSettings>;

/** Reads an org's settings with defaults filled in. A stored value that no longer validates falls back field by field. */
export async function loadGovernanceSettings(db: DbOrTx, orgId: string): Promise<GovernanceSettings> {
  const org = await db.org.findUnique({ where: { id: orgId }, select: { governance: true } });
  if (!org) throw new NotFound("Organisation");
  return settingsFrom(org.governance);
}

export function settingsFrom(stored: unknown): GovernanceSettings {
  const parsed = GovernanceSettings.safeParse(stored ?? {});
  return parsed.success ? parsed.data : GovernanceSettings.parse({});
}

export async function getGovernanceSettings(db: DbOrTx, principal: Principal): Promise<GovernanceSettings> {
  requireScope(principal, "policies:read");
  return loadGovernanceSettings(db, principal.orgId);
}

export async function updateGovernanceSettings(db: DbOrTx, principal: Principal, raw: unknown): Promise<GovernanceSettings> {
  requireScope(principal, "policies:manage");
  const settings = parseInput(GovernanceSettings, raw);
  await inTransaction(db, async (tx) => {
    await tx.org.update({ where: { id: principal.orgId }, data: { governance: settings } });
    await appendAudit(tx, {
      orgId: principal.orgId,
      action: "governance.updated",
      ...actorOf(principal),
      targetType: "Org",
      targetId: principal.orgId,
      data: settings,
    });
  });
  return settings;
}
