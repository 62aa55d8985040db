import crypto from "node:crypto";
import { ROLE_SCOPES, type RoleName } from "@/lib/scopes";
import type { Db } from "../db";
import type { Principal } from "../domain/identity/principal";
import { createApiKey } from "../domain/identity/api-keys";

export interface TestOrg {
  orgId: string;
  principals: Record<RoleName, Principal & { kind: "user" }>;
}

const unique = () => crypto.randomBytes(5).toString("hex");

/** An organisation with one user per role, each with a real membership: tenants never share rows. */
export async function createTestOrg(db: Db, label = "org"): Promise<TestOrg> {
  const suffix = unique();
  const org = await db.org.create({ data: { name: `${label} ${suffix}`, slug: `${label}-${suffix}` } });
  const roles: RoleName[] = ["OWNER", "ADMIN", "SUPERVISOR", "MEMBER"];
  const entries = await Promise.all(
    roles.map(async (role) => {
      const email = `${role.toLowerCase()}-${suffix}@${label}.test`;
      const user = await db.user.create({ data: { email, name: `${role} ${suffix}` } });
      await db.membership.create({ data: { orgId: org.id, userId: user.id, role } });
      const principal: Principal & { kind: "user" } = {
        kind: "user",
        orgId: org.id,
        userId: user.id,
        email,
        name: user.name,
        role,
        scopes: ROLE_SCOPES[role],
      };
      return [role, principal] as const;
    }),
  );
  return { orgId: org.id, principals: Object.fromEntries(entries) as TestOrg["principals"] };
}

/** An agent with one version on a scripted model, plus one queued run of it. */
export async function createTestAgentAndRun(db: Db, org: TestOrg) {
  const owner = org.principals.OWNER;
  const model = await db.modelConfig.create({
    data: { orgId: org.orgId, name: `scripted-${unique()}`, provider: "SCRIPTED", model: "scripted-v1" },
  });
  const agent = await db.agent.create({ data: { orgId: org.orgId, slug: `agent-${unique()}`, name: "Test agent" } });
  const version = await db.agentVersion.create({
    data: { orgId: org.orgId, agentId: agent.id, version: 1, instructions: "Be helpful.", modelConfigId: model.id, config: {} },
  });
  await db.agent.update({ where: { id: agent.id }, data: { currentVersionId: version.id } });
  const run = await db.run.create({
    data: { orgId: org.orgId, agentId: agent.id, agentVersionId: version.id, onBehalfOfUserId: owner.userId, input: "hello" },
  });
  return { agent, version, run };
}

export async function createTestApiKey(db: Db, org: TestOrg, scopes: Principal["scopes"]) {
  const { key, plaintext } = await createApiKey(db, org.principals.OWNER, { name: `key-${unique()}`, scopes: [...scopes] });
  return { id: key.id, plaintext };
}
