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
  submitDrafts?: boolean;
  /** The built-in remember/recall and search_knowledge tools. */
  memory?: { remember: boolean; knowledge: boolean };
  /** Slugs of demo agents this one may delegate to (created before it). */
  delegates?: string[];
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
      description: "Drafts a reply to the newest customer email (or the one you name) for a person to review in the inbox; accepting sends it.",
      instructions:
        "You draft courteous, specific replies to customer emails. Read the email, look up the order it is about and mention its status. Submit the reply as a draft for review, proposing send_email as its commit action; if the reviewer asks for changes, revise and submit again. Never promise what policy does not allow.",
      tools: ["read_customer_email", "lookup_order", "send_email"],
      submitDrafts: true,
      script: [
        { tool: "read_customer_email", args: { query: "{{input}}" }, delayMs: PACE_MS },
        { tool: "lookup_order", args: { orderId: "{{result.orderId}}" }, delayMs: PACE_MS },
        {
          tool: "submit_draft",
          args: {
            kind: "email",
            title: "Re: {{results.0.subject}}",
            body: "Hi {{results.1.customer}},\n\nThank you for getting in touch about order {{results.1.id}}. It is currently **{{results.1.status}}**, and we will keep you posted until it reaches you.\n\n{{result.feedback|optional}}\n\nBest regards,\nAcme Support",
            commit: { tool: "send_email", args: { to: "{{results.0.from}}", subject: "Re: {{results.0.subject}}" }, bodyArg: "body" },
          },
          // While the reviewer asks for changes, the draft is resubmitted; a scripted model can only append their note,
          // a real model rewrites the draft from it.
          repeatWhile: "changes_requested",
          delayMs: PACE_MS,
        },
        {
          final: "The reply to {{results.0.customer}} was {{result.decision}} (revision {{result.revision}}).",
          onToolError: "The reply to {{results.0.customer}} was not sent: {{result}}",
          delayMs: PACE_MS,
        },
      ],
    },
    {
      slug: "support-lead",
      name: "Support lead",
      description: "Splits a customer case between the specialists: the file researcher checks the policy while the email drafter prepares the reply; answers when both are done.",
      instructions:
        "You coordinate customer cases. Delegate policy questions to the file researcher and the reply to the email drafter, at the same time, then summarise what each did.",
      tools: [],
      delegates: ["file-researcher", "email-drafter"],
      script: [
        {
          tool: "delegate_to_file_researcher",
          args: { task: "Find what our refund policy says, for a customer case: {{input}}" },
          alsoCall: [{ tool: "delegate_to_email_drafter", args: { task: "{{input}}" } }],
          delayMs: PACE_MS,
        },
        {
          final: "Both specialists are done.\n\nPolicy research:\n{{results.0}}\n\nCustomer reply:\n{{results.1}}",
          onToolError: "A specialist did not finish: {{result}}",
          delayMs: PACE_MS,
        },
      ],
    },
    {
      slug: "concierge",
      name: "Concierge",
      description: "Remembers what you tell it (“Remember that I prefer email”) and answers questions from the knowledge base, citing your memories and the documents.",
      instructions:
        "You are the organisation's concierge. When the person asks you to remember something, store it with the remember tool (a preference of theirs is kept for them only). Otherwise search the knowledge base and answer, citing the passages and any of their memories you rely on.",
      tools: [],
      memory: { remember: true, knowledge: true },
      script: [
        { tool: "remember", onlyIf: "\\bremember\\b", args: { content: "{{input.match:/remember(?:\\s+that)?\\s+(.+)/i:1}}", kind: "preference" }, delayMs: PACE_MS },
        { final: "Noted. {{result}}", onToolError: "I could not remember that: {{result}}", onlyIf: "\\bremember\\b", delayMs: PACE_MS },
        { tool: "search_knowledge", args: { query: "{{input}}", k: 3 }, delayMs: PACE_MS },
        { final: "From our documents:\n{{result}}\n\n{{memories|optional}}", delayMs: PACE_MS },
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
    const delegates = demo.delegates?.length ? await db.agent.findMany({ where: { orgId, slug: { in: demo.delegates } }, select: { id: true } }) : [];
    await createAgent(db, principal, {
      name: demo.name,
      slug: demo.slug,
      description: demo.description,
      instructions: demo.instructions,
      modelConfigId: model.id,
      config: {
        limits: { maxSteps: 10, maxCostMicros: 0, timeoutMs: 300_000 },
        memory: { recallEnabled: true, recallTopK: 5, ...(demo.memory ?? { remember: false, knowledge: false }) },
        script: demo.script,
        submitDrafts: demo.submitDrafts ?? false,
        delegateAgentIds: delegates.map((agent) => agent.id),
      },
      toolIds: tools.map((t) => t.id),
    });
    created.push(demo.slug);
  }
  return created;
}
