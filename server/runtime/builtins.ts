import { z } from "zod";
import type { KernelTool } from "./kernel-deps";

/**
 * Tools Switchboard itself provides, offered to the model next to the agent's MCP tools when its version enables
 * them. They pass the same gates as any tool call (identity, redaction, loop detector, policy) and are written to
 * the same trace; what differs is what "executing" means: `submit_draft` hands a work product to the inbox and
 * waits for a person, `delegate_to_<slug>` starts a child run of another agent and waits for it, `remember` writes a
 * long-term memory, `recall` and `search_knowledge` read memories and knowledge passages.
 *
 * `remember` is classified WRITE: a memory outlives the run and shapes later ones, so after untrusted content entered
 * a run, policy holds it for a person (memory poisoning). The others are READ: none has a side effect by itself. A draft's commit action runs through
 * policy again when a reviewer accepts it, and a child run's tool calls pass their own gates.
 */
export const BUILTIN_SERVER = "switchboard";
export const SUBMIT_DRAFT = "submit_draft";
export const DELEGATE_PREFIX = "delegate_to_";

export const DRAFT_KINDS = ["EMAIL", "DOCUMENT", "TICKET_REPLY"] as const;

export const SubmitDraftArgs = z.object({
  kind: z
    .string({ error: "kind must be one of email, document or ticket_reply." })
    .transform((kind) => kind.trim().toUpperCase().replace(/[\s-]+/g, "_"))
    .pipe(z.enum(DRAFT_KINDS, "kind must be one of email, document or ticket_reply.")),
  title: z.string({ error: "title must be text." }).trim().min(1, "title must not be empty.").max(300, "title must be at most 300 characters."),
  body: z.string({ error: "body must be Markdown text." }).min(1, "body must not be empty.").max(100_000, "body must be at most 100,000 characters."),
  commit: z
    .object({
      tool: z.string({ error: "commit.tool must name one of your tools." }).min(1, "commit.tool must name one of your tools."),
      args: z.record(z.string(), z.unknown(), { error: "commit.args must be an object." }).default({}),
      bodyArg: z.string().min(1).optional(),
      titleArg: z.string().min(1).optional(),
    })
    .optional(),
});
export type SubmitDraftArgs = z.infer<typeof SubmitDraftArgs>;

export const DelegateArgs = z.object({
  task: z.string({ error: "task must be text: what the other agent should do." }).trim().min(1, "task must not be empty.").max(100_000, "task is too long."),
});

const submitDraftSchema: Record<string, unknown> = {
  type: "object",
  properties: {
    kind: { type: "string", enum: ["email", "document", "ticket_reply"], description: "What the work product is." },
    title: { type: "string", description: "A short title, e.g. the email's subject." },
    body: { type: "string", description: "The draft itself, in Markdown." },
    commit: {
      type: "object",
      description: "What accepting the draft should do: one of your tools with its arguments. The accepted body (and title) are put into the arguments named by bodyArg (and titleArg).",
      properties: {
        tool: { type: "string" },
        args: { type: "object" },
        bodyArg: { type: "string", description: "The argument that receives the accepted body, e.g. \"body\"." },
        titleArg: { type: "string", description: "The argument that receives the accepted title, e.g. \"subject\"." },
      },
      required: ["tool", "args"],
    },
  },
  required: ["kind", "title", "body"],
};

export function submitDraftTool(): KernelTool {
  return {
    toolId: `builtin:${SUBMIT_DRAFT}`,
    modelName: SUBMIT_DRAFT,
    serverToolName: SUBMIT_DRAFT,
    serverName: BUILTIN_SERVER,
    description:
      "Submit a work product (an email, a document, a ticket reply) for a person to review in the inbox. You wait for their decision: accepted (the commit action runs), changes requested (revise using their feedback and submit again), or discarded.",
    inputSchema: submitDraftSchema,
    idempotent: false,
    risk: "READ",
    builtin: { kind: "submit_draft" },
  };
}

export function delegateTool(agent: { id: string; slug: string; name: string; description: string }): KernelTool {
  const name = `${DELEGATE_PREFIX}${agent.slug.replace(/-/g, "_")}`;
  return {
    toolId: `builtin:delegate:${agent.id}`,
    modelName: name,
    serverToolName: name,
    serverName: BUILTIN_SERVER,
    description: `Delegate a task to the agent "${agent.name}"${agent.description ? ` (${agent.description})` : ""}. It works as itself, for the same person, and you receive its final answer.`,
    inputSchema: { type: "object", properties: { task: { type: "string", description: "What the agent should do, with everything it needs to know." } }, required: ["task"] },
    idempotent: false,
    risk: "READ",
    builtin: { kind: "delegate", agentId: agent.id, agentSlug: agent.slug },
  };
}

export const REMEMBER = "remember";
export const RECALL = "recall";
export const SEARCH_KNOWLEDGE = "search_knowledge";
export const MEMORY_KINDS = ["FACT", "PREFERENCE", "EPISODE"] as const;
const upperWord = (value: string) => value.trim().toUpperCase();

export const RememberArgs = z.object({
  content: z.string({ error: "content must be text: what to remember." }).trim().min(1, "content must not be empty.").max(4_000, "content must be at most 4,000 characters."),
  kind: z
    .string({ error: "kind must be one of fact, preference or episode." })
    .transform(upperWord)
    .pipe(z.enum(MEMORY_KINDS, "kind must be one of fact, preference or episode."))
    .default("FACT"),
  scope: z
    .string({ error: "scope must be one of org, agent or user." })
    .transform(upperWord)
    .pipe(z.enum(["ORG", "AGENT", "USER"], "scope must be one of org, agent or user."))
    .optional(),
});

const K = z.number({ error: "k must be a number." }).int("k must be a whole number.").min(1, "k must be at least 1.").max(20, "k must be at most 20.").default(5);
export const RecallArgs = z.object({ query: z.string({ error: "query must be text." }).trim().min(1, "query must not be empty.").max(1_000), k: K });
export const SearchKnowledgeArgs = RecallArgs;

export function memoryTools(): KernelTool[] {
  const base = { serverName: BUILTIN_SERVER, idempotent: false } as const;
  return [
    {
      ...base,
      toolId: `builtin:${REMEMBER}`,
      modelName: REMEMBER,
      serverToolName: REMEMBER,
      description:
        "Remember something for later runs: a fact, a preference of the person you work for, or an episode (what happened). Preferences are kept for that person only.",
      inputSchema: {
        type: "object",
        properties: {
          content: { type: "string", description: "What to remember, as one self-contained sentence." },
          kind: { type: "string", enum: ["fact", "preference", "episode"] },
          scope: { type: "string", enum: ["org", "agent", "user"], description: "Who may recall it: everyone's agents, only you, or only runs for this person. Default: user for preferences, otherwise agent." },
        },
        required: ["content"],
      },
      risk: "WRITE",
      builtin: { kind: "remember" },
    },
    {
      ...base,
      toolId: `builtin:${RECALL}`,
      modelName: RECALL,
      serverToolName: RECALL,
      description: "Search your long-term memories. Returns the most relevant ones with markers like [memory:<id>] to cite.",
      inputSchema: { type: "object", properties: { query: { type: "string" }, k: { type: "number", description: "How many (1–20, default 5)." } }, required: ["query"] },
      risk: "READ",
      builtin: { kind: "recall" },
    },
  ];
}

export function searchKnowledgeTool(): KernelTool {
  return {
    toolId: `builtin:${SEARCH_KNOWLEDGE}`,
    modelName: SEARCH_KNOWLEDGE,
    serverToolName: SEARCH_KNOWLEDGE,
    serverName: BUILTIN_SERVER,
    description: "Search the organisation's knowledge documents. Returns passages with citations like [doc:<title> §<n>] to quote in your answer.",
    inputSchema: { type: "object", properties: { query: { type: "string" }, k: { type: "number", description: "How many passages (1–20, default 5)." } }, required: ["query"] },
    idempotent: true,
    risk: "READ",
    builtin: { kind: "search_knowledge" },
  };
}

/** Zod issues as one sentence the model (and a person reading the trace) can act on. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => (issue.path.length > 0 && !issue.message.startsWith(String(issue.path[0])) ? `${issue.path.join(".")}: ${issue.message}` : issue.message)).join(" ");
}
