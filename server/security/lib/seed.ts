import crypto from "node:crypto";
import { SCOPES } from "@/lib/scopes";
import type { Db } from "@/server/db";
import { createAgent } from "@/server/domain/agents/agents";
import { requestApproval } from "@/server/domain/approvals/approvals";
import { submitDraft } from "@/server/domain/inbox/inbox";
import { inviteMember } from "@/server/domain/identity/members";
import { hashPassword } from "@/server/domain/identity/passwords";
import { uploadDocument } from "@/server/domain/knowledge/knowledge";
import { createMemory, updateMemory } from "@/server/domain/memory/memories";
import { createPolicy } from "@/server/domain/policy/policies";
import { createSecret } from "@/server/domain/secrets/secrets";
import { createSpendLimit } from "@/server/domain/spend/limits";
import { setAgentToolGrants } from "@/server/domain/tools/tools";
import { setSchedule } from "@/server/domain/triggers/schedules";
import { issueWebhookSecret } from "@/server/domain/triggers/webhooks";
import { runtimeSecrets } from "@/server/env";
import { expectedMigrations } from "@/server/observability/readiness";
import { createTestAgentAndRun, createTestApiKey, createTestOrg, type TestOrg } from "@/server/testing/fixtures";

/** Plaintexts that must never come back from any endpoint, and what they are. */
export interface PlantedSecrets {
  apiKey: string;
  secretValue: string;
  webhookSecret: string;
  invitationToken: string;
  password: string;
  /** Every distinctive string of the org's content (names, texts, emails): another org must never see one. */
  marker: string;
}

export interface SeededOrg {
  org: TestOrg;
  apiKey: { id: string; plaintext: string };
  agentId: string;
  agentSlug: string;
  runId: string;
  planted: PlantedSecrets;
}

/**
 * An organisation with at least one row of every kind the product stores, made through the domain functions where
 * they exist (so rows look exactly as in production) and directly where only the kernel writes them (run events).
 * Every free-text field carries `marker`, so a leak of any row shows up as a substring search.
 */
/**
 * Test databases are built from the raw migration SQL; record the history `npm run db:deploy` would have written, so
 * the readiness endpoint is exercised on a ready database (its 503 is covered by readiness.integration.test.ts).
 */
async function recordMigrationHistory(db: Db): Promise<void> {
  await db.$executeRawUnsafe(
    `CREATE TABLE IF NOT EXISTS _prisma_migrations (id text PRIMARY KEY, checksum text NOT NULL DEFAULT '', finished_at timestamptz,
       migration_name text NOT NULL, logs text, rolled_back_at timestamptz, started_at timestamptz NOT NULL DEFAULT now(), applied_steps_count int NOT NULL DEFAULT 1)`,
  );
  for (const name of expectedMigrations()) {
    await db.$executeRaw`INSERT INTO _prisma_migrations (id, migration_name, finished_at) VALUES (${name}, ${name}, now()) ON CONFLICT (id) DO NOTHING`;
  }
}

export async function seedRichOrg(db: Db, label: string): Promise<SeededOrg> {
  await recordMigrationHistory(db);
  const marker = `${label.toUpperCase()}-CANARY-${crypto.randomBytes(6).toString("hex")}`;
  const org = await createTestOrg(db, label);
  const owner = org.principals.OWNER;
  const encryption = { encryptionKey: runtimeSecrets().encryptionKey };

  const password = `${marker}-password-Aa1!`;
  await db.user.update({ where: { id: owner.userId }, data: { passwordHash: await hashPassword(password) } });

  const { agent, run } = await createTestAgentAndRun(db, org);
  await db.run.update({ where: { id: run.id }, data: { input: `${marker} run input`, output: `${marker} run output` } });
  const secondAgent = await createAgent(db, owner, {
    name: `${marker} second agent`,
    slug: `${label}-second-${crypto.randomBytes(3).toString("hex")}`,
    instructions: `${marker} instructions`,
    modelConfigId: (await db.modelConfig.findFirstOrThrow({ where: { orgId: org.orgId } })).id,
    config: { script: [{ final: `${marker} done` }] },
  });

  const server = await db.toolServer.create({
    data: { orgId: org.orgId, name: `${label}-crm`, transport: "HTTP", url: "https://mcp.example.test/mcp", headerSecrets: { authorization: `${label}-token` } },
  });
  const tool = await db.tool.create({
    data: {
      orgId: org.orgId,
      serverId: server.id,
      name: "issue_refund",
      description: `${marker} refunds`,
      inputSchema: { type: "object", properties: { amount: { type: "number" } } },
      definitionHash: "seeded",
      risk: "WRITE",
    },
  });
  await setAgentToolGrants(db, owner, { agentId: agent.id, toolIds: [tool.id] });

  const toolEvent = await db.runEvent.create({
    data: { orgId: org.orgId, runId: run.id, seq: 1, type: "TOOL_CALL", name: "issue_refund", status: "PENDING", payload: { note: marker } },
  });
  await requestApproval(db, {
    orgId: org.orgId,
    runId: run.id,
    eventId: toolEvent.id,
    toolId: tool.id,
    toolName: "issue_refund",
    args: { amount: 10, note: marker },
    policyId: null,
    reason: `${marker} needs a person`,
    expiresAt: new Date(Date.now() + 86_400_000),
  });
  const draftEvent = await db.runEvent.create({
    data: { orgId: org.orgId, runId: run.id, seq: 2, type: "DRAFT", name: "submit_draft", status: "PENDING", payload: { note: marker } },
  });
  await submitDraft(db, {
    orgId: org.orgId,
    runId: run.id,
    agentId: agent.id,
    eventId: draftEvent.id,
    kind: "EMAIL",
    title: `${marker} draft`,
    body: `${marker} draft body`,
    commitAction: null,
  });

  const memory = await createMemory(db, owner, { content: `${marker} the customer prefers email`, scope: "ORG" });
  await updateMemory(db, owner, { id: memory.id, content: `${marker} the customer prefers email, always` });
  await createMemory(db, owner, { content: `${marker} agent memory`, scope: "AGENT", agentId: agent.id });
  await createMemory(db, owner, { content: `${marker} personal memory`, scope: "USER" });
  await uploadDocument(db, owner, {
    collection: `${label} handbook`,
    fileName: "handbook.md",
    mimeType: "text/markdown",
    bytes: new TextEncoder().encode(`# ${marker} handbook\n\nRefunds above 100 need approval. ${marker}`),
  });

  await createPolicy(db, owner, { name: `${marker} hold refunds`, effect: "REQUIRE_APPROVAL", reason: `${marker} refunds need a person`, toolName: "issue_refund", agentId: agent.id });
  await createSpendLimit(db, owner, { scope: "AGENT", agentId: agent.id, period: "MONTH", limitUsd: 25 });
  await createSpendLimit(db, owner, { scope: "USER", userId: owner.userId, period: "DAY", limitUsd: 5 });

  const secretValue = `${marker}-secret-value-${crypto.randomBytes(8).toString("hex")}`;
  await createSecret(db, owner, { name: `${label}-crm-token`, value: secretValue }, encryption);
  const apiKey = await createTestApiKey(db, org, SCOPES);
  await setSchedule(db, owner, { agentId: agent.id, schedule: "0 9 * * 1-5" });
  const webhook = await issueWebhookSecret(db, owner, { agentId: secondAgent.agentId });
  const invitation = await inviteMember(db, owner, { email: `invitee-${crypto.randomBytes(3).toString("hex")}@${label}.test`, role: "MEMBER" });

  return {
    org,
    apiKey,
    agentId: agent.id,
    agentSlug: agent.slug,
    runId: run.id,
    planted: { apiKey: apiKey.plaintext, secretValue, webhookSecret: webhook.secret, invitationToken: invitation.token, password, marker },
  };
}
