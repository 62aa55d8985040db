import crypto from "node:crypto";
import path from "node:path";
import { SCOPES } from "@/lib/scopes";
import type { Db } from "@/server/db";
import { appendAudit } from "../audit/audit-log";
import { hashApiKey } from "../identity/api-keys";
import { hashPassword, verifyPassword } from "../identity/passwords";
import { seedDemoKnowledge } from "../knowledge/demo-documents";
import { seedDefaultPolicies } from "../policy/policies";
import { seedDemoTools } from "../tools/seed-demo";
import { ensureDemoAgents } from "./demo-agents";

export const DEFAULT_ORG = { slug: "acme", name: "Acme Corp" } as const;

const DEMO_USERS = [
  { email: "admin@acme.test", name: "Ada Admin", role: "OWNER" },
  { email: "supervisor@acme.test", name: "Sam Supervisor", role: "SUPERVISOR" },
  { email: "member@acme.test", name: "Mia Member", role: "MEMBER" },
] as const;

export interface SeedOptions {
  /** The data folder: the demo's sandbox files, demo MCP ledger and memory file live under it. Omit to skip the demo tools and agents. */
  dataDir?: string;
  initAdmin?: { email: string; password: string };
  initApiKey?: string;
}

export interface SeedReport {
  orgId: string;
  /** Sign-in details of users created by this call: printed once, never stored in plain text. */
  createdCredentials: { email: string; password: string; role: string }[];
  initAdmin?: { email: string; created: boolean };
  initApiKey?: { created: boolean };
  toolServers?: { name: string; ok: boolean; error: string | null; tools: number }[];
  demoAgents?: string[];
}

/**
 * Brings the database to the demo organisation's baseline. Idempotent: running it again changes nothing that
 * exists (passwords of existing users are left alone), so `npm start` can call it on every start.
 */
export async function seed(db: Db, options: SeedOptions = {}): Promise<SeedReport> {
  const org = await db.org.upsert({
    where: { slug: DEFAULT_ORG.slug },
    create: { slug: DEFAULT_ORG.slug, name: DEFAULT_ORG.name },
    update: {},
  });
  const report: SeedReport = { orgId: org.id, createdCredentials: [] };

  if (options.initAdmin) {
    const created = await ensureUser(db, org.id, { ...options.initAdmin, name: "Administrator", role: "OWNER" });
    report.initAdmin = { email: options.initAdmin.email, created };
  } else {
    for (const demo of DEMO_USERS) {
      const password = crypto.randomBytes(9).toString("base64url");
      const created = await ensureUser(db, org.id, { ...demo, password, keepExistingPassword: true });
      if (created) report.createdCredentials.push({ email: demo.email, password, role: demo.role });
    }
  }

  if (options.initApiKey) {
    const hashedKey = hashApiKey(options.initApiKey);
    const existing = await db.apiKey.findUnique({ where: { hashedKey }, select: { id: true } });
    if (!existing) {
      // The key acts for the org's first owner (runs started with it are "on behalf of" a real person).
      const owner = await db.membership.findFirst({ where: { orgId: org.id, role: "OWNER", revokedAt: null }, orderBy: { createdAt: "asc" }, select: { userId: true } });
      const key = await db.apiKey.create({
        data: { orgId: org.id, name: "Initial admin key", prefix: options.initApiKey.slice(0, 10), hashedKey, scopes: [...SCOPES], createdById: owner?.userId ?? null },
        select: { id: true },
      });
      await appendAudit(db, { orgId: org.id, action: "apikey.created", actorType: "SYSTEM", targetType: "ApiKey", targetId: key.id, data: { name: "Initial admin key", via: "SWITCHBOARD_INIT_API_KEY" } });
    }
    report.initApiKey = { created: !existing };
  }

  await ensureDemoModel(db, org.id);
  if (options.dataDir) {
    const tools = await seedDemoTools(db, org.id, { dataDir: options.dataDir });
    report.toolServers = tools.servers;
    report.demoAgents = await ensureDemoAgents(db, org.id, path.join(options.dataDir, "sandbox"));
    await seedDefaultPolicies(db, org.id);
    await seedDemoKnowledge(db, org.id);
  }
  return report;
}

async function ensureUser(
  db: Db,
  orgId: string,
  input: { email: string; name: string; role: "OWNER" | "ADMIN" | "SUPERVISOR" | "MEMBER"; password: string; keepExistingPassword?: boolean },
): Promise<boolean> {
  const email = input.email.toLowerCase();
  const existing = await db.user.findUnique({ where: { email }, omit: { passwordHash: false } });
  let created = false;
  let userId: string;
  if (!existing) {
    const user = await db.user.create({ data: { email, name: input.name, passwordHash: await hashPassword(input.password) } });
    userId = user.id;
    created = true;
  } else {
    userId = existing.id;
    // Headless init owns its admin's password: a changed SWITCHBOARD_INIT_ADMIN_PASSWORD takes effect on restart.
    const stale = !existing.passwordHash || !(await verifyPassword(input.password, existing.passwordHash));
    if (!input.keepExistingPassword && stale) {
      await db.user.update({ where: { id: userId }, data: { passwordHash: await hashPassword(input.password) } });
    }
  }
  const membership = await db.membership.findUnique({ where: { orgId_userId: { orgId, userId } } });
  if (!membership) {
    await db.membership.create({ data: { orgId, userId, role: input.role } });
    await appendAudit(db, { orgId, action: "member.added", actorType: "SYSTEM", targetType: "User", targetId: userId, data: { email, role: input.role } });
  }
  return created;
}

/** The offline scripted model, priced so that cost and spend limits work end to end in the demo. */
async function ensureDemoModel(db: Db, orgId: string): Promise<void> {
  await db.modelConfig.upsert({
    where: { orgId_name: { orgId, name: "scripted" } },
    create: {
      orgId,
      name: "scripted",
      provider: "SCRIPTED",
      model: "scripted-v1",
      inputPriceMicros: 1_000_000,
      outputPriceMicros: 2_000_000,
      contextWindow: 16_384,
    },
    update: {},
  });
}
