import path from "node:path";
import { ROLE_SCOPES } from "@/lib/scopes";
import type { Db } from "@/server/db";
import type { ScriptTurn } from "../agents/config";
import { createAgent } from "../agents/agents";
import type { Principal } from "../identity/principal";

const PACE_MS = 400;

interface DemoAgent {
  slug: string;
  name: string;
  description: string;
  instructions: string;
  tools: string[];
  script: ScriptTurn[];
}

/** The demo organisation's agents. They run on the offline scripted model, so the demo works with no model API. */
export function demoAgents(sandboxDir: string): DemoAgent[] {
  return [
    {
      slug: "file-researcher",
      name: "File researcher",
      description: "Lists and reads the shared folder, then answers with what it found.",
      instructions: "You research questions using the files in the shared folder. List the folder, read what is relevant, and answer with a short summary that names your sources.",
      tools: ["list_directory", "read_text_file"],
      script: [
        { tool: "list_directory", args: { path: sandboxDir }, delayMs: PACE_MS },
        { tool: "read_text_file", args: { path: path.join(sandboxDir, "refund-policy.md") }, delayMs: PACE_MS },
        { final: "I listed the shared folder and read refund-policy.md.\n\nFiles:\n{{results.0}}\n\nFrom refund-policy.md:\n{{results.1}}", delayMs: PACE_MS },
      ],
    },
    {
      slug: "refund-agent",
      name: "Refund agent",
      description: "Looks up an order and refunds the amount named in the request, e.g. “refund order 1001 for $25”.",
      instructions: "You handle refund requests. Look the order up first, then issue a refund of exactly the amount the request names, never more than the order total.",
      tools: ["lookup_order", "issue_refund"],
      script: [
        { tool: "lookup_order", args: { orderId: "{{input.match:/order\\s*#?(\\d+)/i:1}}" }, delayMs: PACE_MS },
        { tool: "issue_refund", args: { orderId: "{{result.id}}", amountUsd: "{{input.match:/\\$\\s*(\\d+(?:\\.\\d+)?)/:1|number}}" }, delayMs: PACE_MS },
        {
          final: "Refunded ${{result.amountUsd}} on order {{result.orderId}} for {{result.customer}}.",
          onToolError: "I did not refund order {{results.0.id}}. {{result}}",
          delayMs: PACE_MS,
        },
      ],
    },
    {
      slug: "email-drafter",
      name: "Email drafter",
      description: "Drafts a reply to a customer about their order, e.g. “reply to the customer of order 1002”.",
      instructions: "You draft courteous, specific replies to customers. Look up their order first and mention its status. Never promise what policy does not allow.",
      tools: ["lookup_order"],
      script: [
        { tool: "lookup_order", args: { orderId: "{{input.match:/order\\s*#?(\\d+)/i:1}}" }, delayMs: PACE_MS },
        {
          final:
            "To: {{result.email}}\nSubject: Your order {{result.id}}\n\nHi {{result.customer}},\n\nThank you for getting in touch about order {{result.id}}. It is currently {{result.status}}, and we will keep you posted until it reaches you.\n\nBest regards,\nAcme Support",
          delayMs: PACE_MS,
        },
      ],
    },
  ];
}

/** Creates the demo agents that do not exist yet (by slug), granted their tools, as the org's first owner. */
export async function ensureDemoAgents(db: Db, orgId: string, sandboxDir: string): Promise<string[]> {
  const owner = await db.membership.findFirst({
    where: { orgId, role: "OWNER", revokedAt: null },
    orderBy: { createdAt: "asc" },
    select: { userId: true, user: { select: { email: true, name: true } } },
  });
  const model = await db.modelConfig.findFirst({ where: { orgId, name: "scripted" }, select: { id: true } });
  if (!owner || !model) return [];
  const principal: Principal = { kind: "user", orgId, userId: owner.userId, email: owner.user.email, name: owner.user.name, role: "OWNER", scopes: ROLE_SCOPES.OWNER };
  const created: string[] = [];
  for (const demo of demoAgents(sandboxDir)) {
    if (await db.agent.findFirst({ where: { orgId, slug: demo.slug }, select: { id: true } })) continue;
    const tools = await db.tool.findMany({ where: { orgId, name: { in: demo.tools } }, select: { id: true } });
    await createAgent(db, principal, {
      name: demo.name,
      slug: demo.slug,
      description: demo.description,
      instructions: demo.instructions,
      modelConfigId: model.id,
      config: { limits: { maxSteps: 10, maxCostMicros: 0, timeoutMs: 300_000 }, memory: { recallEnabled: true, recallTopK: 5 }, script: demo.script },
      toolIds: tools.map((t) => t.id),
    });
    created.push(demo.slug);
  }
  return created;
}
