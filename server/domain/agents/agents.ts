import type { DbOrTx } from "@/server/db";
import { NotFound } from "../errors";
import { requireScope, type Principal } from "../identity/principal";

const agentSummarySelect = {
  id: true,
  slug: true,
  name: true,
  description: true,
  status: true,
  createdAt: true,
  updatedAt: true,
  currentVersion: {
    select: { id: true, version: true, modelConfig: { select: { name: true, provider: true, model: true } } },
  },
} as const;

export async function listAgents(db: DbOrTx, principal: Principal) {
  requireScope(principal, "agents:read");
  return db.agent.findMany({
    where: { orgId: principal.orgId, status: { not: "ARCHIVED" } },
    select: agentSummarySelect,
    orderBy: { name: "asc" },
  });
}

/** Looks an agent up by id or slug, always inside the caller's org: another org's agent is simply not found. */
export async function getAgent(db: DbOrTx, principal: Principal, idOrSlug: string) {
  requireScope(principal, "agents:read");
  const agent = await db.agent.findFirst({
    where: { orgId: principal.orgId, OR: [{ id: idOrSlug }, { slug: idOrSlug }] },
    select: agentSummarySelect,
  });
  if (!agent) throw new NotFound("Agent");
  return agent;
}
