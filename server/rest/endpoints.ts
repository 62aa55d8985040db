import { z } from "zod";
import { SCOPES } from "@/lib/scopes";
import { APPROVAL_STATUSES } from "../domain/approvals/approvals";
import { DRAFT_KIND_NAMES, INBOX_DECISIONS, INBOX_STATUSES } from "../domain/inbox/inbox";
import { MAX_MEMORY_CHARS, MEMORY_KINDS, MEMORY_SCOPES } from "../domain/memory/memories";
import { MAX_DOCUMENT_BYTES } from "../domain/knowledge/extract";
import { RUN_STATUSES } from "../domain/runs/runs";
import { defineEndpoint } from "./endpoint";

const IdParams = z.object({ id: z.string().min(1).max(100) });
const Timestamp = z.iso.datetime();

export const MeResponse = z.object({
  org: z.object({ id: z.string(), name: z.string(), slug: z.string() }),
  principal: z.object({
    kind: z.enum(["user", "apiKey"]),
    id: z.string(),
    scopes: z.array(z.string()),
  }),
});

export const AgentResponse = z.object({
  id: z.string(),
  slug: z.string(),
  name: z.string(),
  description: z.string(),
  status: z.enum(["active", "disabled", "archived"]),
  version: z.number().int().nullable(),
  model: z.string().nullable(),
  createdAt: Timestamp,
});

export const RunStatusName = z.enum(RUN_STATUSES.map((s) => s.toLowerCase()) as [string, ...string[]]);

export const RunResponse = z.object({
  id: z.string(),
  agent: z.string().meta({ description: "The agent's slug" }),
  status: RunStatusName,
  input: z.string(),
  output: z.string().nullable(),
  error: z.string().nullable(),
  steps: z.array(
    z.object({
      seq: z.number().int(),
      type: z.string(),
      name: z.string(),
      status: z.string(),
      startedAt: Timestamp,
      endedAt: Timestamp.nullable(),
    }),
  ),
  usage: z.object({ inputTokens: z.number().int(), outputTokens: z.number().int(), costUsd: z.number() }),
  createdAt: Timestamp,
});

export const ListRunsQuery = z.object({
  status: RunStatusName.optional(),
  agent: z.string().max(100).optional().meta({ description: "Agent slug" }),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(100).optional(),
});

export const ApprovalResponse = z.object({
  id: z.string(),
  runId: z.string(),
  agent: z.string().meta({ description: "The agent's slug" }),
  onBehalfOf: z.string().meta({ description: "Email of the user the run acts for" }),
  tool: z.string(),
  args: z.record(z.string(), z.unknown()).meta({ description: "The arguments the agent asked for (secrets redacted)" }),
  approvedArgs: z.record(z.string(), z.unknown()).nullable().meta({ description: "What was approved (differs from args when a person edited them)" }),
  reason: z.string().meta({ description: "Why policy held the call" }),
  policy: z.string().nullable(),
  status: z.enum(APPROVAL_STATUSES.map((s) => s.toLowerCase()) as [string, ...string[]]),
  comment: z.string().nullable(),
  decidedBy: z.string().nullable(),
  createdAt: Timestamp,
  expiresAt: Timestamp,
  decidedAt: Timestamp.nullable(),
});

const lower = <T extends string>(values: readonly T[]) => values.map((v) => v.toLowerCase()) as [string, ...string[]];

export const InboxItemSummary = z.object({
  id: z.string(),
  runId: z.string(),
  agent: z.string().meta({ description: "The agent's slug" }),
  kind: z.enum(lower(DRAFT_KIND_NAMES)),
  title: z.string(),
  status: z.enum(lower(INBOX_STATUSES)),
  revision: z.number().int().meta({ description: "The current revision number (1 = the first draft)" }),
  createdAt: Timestamp,
});

export const InboxItemResponse = InboxItemSummary.extend({
  commitAction: z
    .object({ tool: z.string(), args: z.record(z.string(), z.unknown()), bodyArg: z.string().optional(), titleArg: z.string().optional() })
    .nullable()
    .meta({ description: "What accepting does: this tool with these args, the accepted body in bodyArg (and title in titleArg)" }),
  revisions: z.array(
    z.object({
      revision: z.number().int(),
      title: z.string(),
      body: z.string().meta({ description: "Markdown" }),
      author: z.enum(["agent", "human"]),
      feedback: z.string().nullable().meta({ description: "The reviewer's feedback on this revision, when they requested changes" }),
      createdAt: Timestamp,
    }),
  ),
  decidedBy: z.string().nullable(),
  decidedAt: Timestamp.nullable(),
});

export const MemoryResponse = z.object({
  id: z.string(),
  content: z.string(),
  scope: z.enum(lower(MEMORY_SCOPES)),
  kind: z.enum(lower(MEMORY_KINDS)),
  pinned: z.boolean(),
  score: z.number().nullable().meta({ description: "Full-text rank of the match (higher is better); null without q" }),
  source: z.object({
    runId: z.string().nullable().meta({ description: "The run that wrote it" }),
    eventId: z.string().nullable().meta({ description: "The run event (the remember call) that wrote it" }),
    person: z.string().nullable().meta({ description: "Email of the person who wrote it, when a person did" }),
  }),
  agent: z.string().nullable().meta({ description: "The agent's slug (agent memories)" }),
  user: z.string().nullable().meta({ description: "Email of the person it belongs to (user memories)" }),
  createdAt: Timestamp,
  expiresAt: Timestamp.nullable(),
});

export const ApiKeyResponse = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  scopes: z.array(z.string()),
  createdAt: Timestamp,
  lastUsedAt: Timestamp.nullable(),
  expiresAt: Timestamp.nullable(),
  revokedAt: Timestamp.nullable(),
});

export const CreateApiKeyBody = z.object({
  name: z.string().trim().min(1, "Give the key a name.").max(100),
  scopes: z.array(z.enum(SCOPES)).min(1, "Choose at least one scope."),
  expiresAt: z.iso.datetime().optional(),
});

export const WebhookParams = z.object({
  agentId: z.string().min(1).max(100).meta({ description: "The agent's id" }),
  secret: z.string().min(1).max(200).meta({ description: "The webhook secret, shown once when the webhook URL was created" }),
});

export const endpoints = {
  health: defineEndpoint({
    method: "GET",
    path: "/api/health",
    summary: "Liveness and database reachability",
    tag: "System",
    auth: null,
    response: z.object({ status: z.enum(["ok", "degraded"]), database: z.enum(["embedded", "postgresql"]), checks: z.record(z.string(), z.string()) }),
  }),
  ready: defineEndpoint({
    method: "GET",
    path: "/api/health/ready",
    summary: "Readiness: the database answers and every migration of this build is applied (503 with the reason otherwise)",
    tag: "System",
    auth: null,
    response: z.object({ status: z.enum(["ready", "not_ready"]), reason: z.string().optional(), checks: z.record(z.string(), z.string()) }),
  }),
  openapi: defineEndpoint({
    method: "GET",
    path: "/api/v1/openapi.json",
    summary: "This OpenAPI document",
    tag: "System",
    auth: null,
    response: z.record(z.string(), z.unknown()),
  }),
  me: defineEndpoint({
    method: "GET",
    path: "/api/v1/me",
    summary: "The organisation and principal behind the API key",
    tag: "Identity",
    auth: "any",
    response: MeResponse,
  }),
  getAgent: defineEndpoint({
    method: "GET",
    path: "/api/v1/agents/{id}",
    summary: "An agent by id or slug",
    tag: "Agents",
    auth: "agents:read",
    params: IdParams,
    response: AgentResponse,
  }),
  listRuns: defineEndpoint({
    method: "GET",
    path: "/api/v1/runs",
    summary: "Runs, newest first",
    tag: "Runs",
    auth: "runs:read",
    query: ListRunsQuery,
    response: z.object({ items: z.array(RunResponse.omit({ steps: true })), nextCursor: z.string().nullable() }),
  }),
  createRun: defineEndpoint({
    method: "POST",
    path: "/api/v1/runs",
    summary: "Start a run of an agent; it is queued and a worker picks it up",
    tag: "Runs",
    auth: "runs:write",
    body: z.object({
      agent: z.string().trim().min(1, "Name the agent by slug.").max(100).meta({ description: "The agent's slug (or id)" }),
      input: z.string().max(100_000, "The input is limited to 100,000 characters.").default("").meta({ description: "What the agent should do; some agents need none (e.g. email-drafter reads its mailbox)" }),
      onBehalfOf: z.email("onBehalfOf must be a member's email address.").optional().meta({ description: "Email of the member the run acts for; defaults to the key's owner" }),
    }),
    response: z.object({ id: z.string(), status: RunStatusName }),
    successStatus: 201,
  }),
  cancelRun: defineEndpoint({
    method: "POST",
    path: "/api/v1/runs/{id}/cancel",
    summary: "Cancel a run: queued runs end at once, running ones stop between steps",
    tag: "Runs",
    auth: "runs:cancel",
    params: IdParams,
    response: z.object({ id: z.string(), status: RunStatusName }),
  }),
  getRunTrace: defineEndpoint({
    method: "GET",
    path: "/api/v1/runs/{id}/trace",
    summary: "Every event of a run's trace, with payloads, tokens, cost and timing",
    tag: "Runs",
    auth: "runs:read",
    params: IdParams,
    response: z.object({
      events: z.array(
        z.object({
          seq: z.number().int(),
          type: z.string(),
          name: z.string(),
          status: z.string(),
          payload: z.unknown(),
          inputTokens: z.number().int(),
          outputTokens: z.number().int(),
          costUsd: z.number(),
          startedAt: Timestamp,
          endedAt: Timestamp.nullable(),
          durationMs: z.number().int().nullable(),
        }),
      ),
    }),
  }),
  getRun: defineEndpoint({
    method: "GET",
    path: "/api/v1/runs/{id}",
    summary: "A run with its steps and usage",
    tag: "Runs",
    auth: "runs:read",
    params: IdParams,
    response: RunResponse,
  }),
  resumeRun: defineEndpoint({
    method: "POST",
    path: "/api/v1/runs/{id}/resume",
    summary: "Resume a run halted by its budget (after raising the limit) or by an interrupted call",
    tag: "Runs",
    auth: "runs:write",
    params: IdParams,
    response: z.object({ id: z.string(), status: RunStatusName }),
  }),
  listApprovals: defineEndpoint({
    method: "GET",
    path: "/api/v1/approvals",
    summary: "Tool calls held for a person's decision (pending ones oldest first)",
    tag: "Approvals",
    auth: "approvals:read",
    query: z.object({
      status: z.enum(APPROVAL_STATUSES.map((s) => s.toLowerCase()) as [string, ...string[]]).optional(),
      runId: z.string().max(100).optional(),
      limit: z.coerce.number().int().min(1).max(100).default(50),
      cursor: z.string().max(100).optional(),
    }),
    response: z.object({ items: z.array(ApprovalResponse), nextCursor: z.string().nullable() }),
  }),
  getApproval: defineEndpoint({
    method: "GET",
    path: "/api/v1/approvals/{id}",
    summary: "One approval",
    tag: "Approvals",
    auth: "approvals:read",
    params: IdParams,
    response: ApprovalResponse,
  }),
  decideApproval: defineEndpoint({
    method: "POST",
    path: "/api/v1/approvals/{id}",
    summary: "Decide a pending approval exactly once: approve (optionally with edited args) or reject with a comment for the agent",
    tag: "Approvals",
    auth: "approvals:decide",
    params: IdParams,
    body: z.object({
      decision: z.enum(["approve", "reject"], "decision must be \"approve\" or \"reject\"."),
      args: z.record(z.string(), z.unknown()).optional().meta({ description: "Edited arguments (approve only); validated against the tool's input schema" }),
      comment: z.string().max(2_000).optional().meta({ description: "Returned to the agent as the tool result when rejecting" }),
    }),
    response: ApprovalResponse,
  }),
  listInbox: defineEndpoint({
    method: "GET",
    path: "/api/v1/inbox",
    summary: "Drafts agents submitted for review (pending ones oldest first)",
    tag: "Inbox",
    auth: "inbox:read",
    query: z.object({
      status: z.enum([...lower(INBOX_STATUSES), "open"]).optional().meta({ description: '"open" = pending or being revised' }),
      agent: z.string().max(100).optional().meta({ description: "Agent id" }),
      assignee: z.string().max(100).optional().meta({ description: 'A user id, "me" or "none"' }),
      minAgeHours: z.coerce.number().min(0).max(8_760).optional().meta({ description: "Only drafts waiting at least this long" }),
      kind: z.enum(lower(DRAFT_KIND_NAMES)).optional(),
      limit: z.coerce.number().int().min(1).max(100).default(50),
      cursor: z.string().max(100).optional(),
    }),
    response: z.object({ items: z.array(InboxItemSummary), nextCursor: z.string().nullable() }),
  }),
  getInboxItem: defineEndpoint({
    method: "GET",
    path: "/api/v1/inbox/{id}",
    summary: "One draft with every revision",
    tag: "Inbox",
    auth: "inbox:read",
    params: IdParams,
    response: InboxItemResponse,
  }),
  decideInboxItem: defineEndpoint({
    method: "POST",
    path: "/api/v1/inbox/{id}",
    summary:
      "Decide a pending draft once per revision: accept (optionally with an edited body/title, kept as a revision; the commit action then runs through policy acting for you), request_changes with feedback (the agent revises), or discard",
    tag: "Inbox",
    auth: "inbox:decide",
    params: IdParams,
    body: z.object({
      decision: z.enum(INBOX_DECISIONS, 'decision must be "accept", "request_changes" or "discard".'),
      body: z.string().max(100_000).optional().meta({ description: "accept only: the edited body (Markdown)" }),
      title: z.string().max(300).optional().meta({ description: "accept only: the edited title" }),
      feedback: z.string().max(5_000).optional().meta({ description: "request_changes: what the agent should change (required)" }),
      expectedRevision: z.number().int().min(1).optional().meta({ description: "Refuse the decision if the agent has submitted a newer revision" }),
    }),
    response: InboxItemResponse,
  }),
  uploadKnowledgeDocument: defineEndpoint({
    method: "POST",
    path: "/api/v1/knowledge/documents",
    summary: "Upload a document (Markdown, plain text or PDF, at most 10 MB) into a knowledge collection; it is split into passages and indexed for search",
    tag: "Knowledge",
    auth: "memory:write",
    bodyType: "multipart",
    // The file plus the multipart framing around it.
    maxBodyBytes: MAX_DOCUMENT_BYTES + 64 * 1024,
    body: z.object({
      file: z.file("Attach the document as the form field \"file\".").meta({ description: "A .md, .txt or .pdf file" }),
      collection: z.string("Name the collection in the form field \"collection\".").meta({ description: "e.g. support" }),
      title: z.string().optional().meta({ description: "Defaults to the first Markdown heading, else the file name" }),
    }),
    response: z.object({ id: z.string(), chunks: z.number().int().meta({ description: "How many passages the document was split into" }) }),
    successStatus: 201,
    errors: { "413": "The file is larger than 10 MB" },
  }),
  searchKnowledge: defineEndpoint({
    method: "GET",
    path: "/api/v1/knowledge/search",
    summary: "Full-text search over the organisation's knowledge: the best-matching passages, best first, with what a citation needs",
    tag: "Knowledge",
    auth: "memory:read",
    query: z.object({
      q: z.string().max(1_000).meta({ description: "Words, \"quoted phrases\", or and -exclusions (web search syntax)" }),
      k: z.coerce.number().int().min(1).max(50).default(10).meta({ description: "How many passages" }),
      collection: z.string().max(60).optional().meta({ description: "Only this collection" }),
    }),
    response: z.object({
      items: z.array(
        z.object({
          chunkId: z.string(),
          documentId: z.string(),
          title: z.string().meta({ description: "The document's title" }),
          collection: z.string(),
          position: z.number().int().meta({ description: "1-based passage number; the console shows it at /knowledge/{documentId}#chunk-{position}" }),
          content: z.string(),
          score: z.number().meta({ description: "Relevance in [0, 1), higher is better" }),
        }),
      ),
    }),
  }),
  listMemories: defineEndpoint({
    method: "GET",
    path: "/api/v1/memories",
    summary:
      "Search memories (full text, websearch syntax: words, \"a phrase\", -excluded, or), best match first; without q, newest first. Personal memories of other people are only visible to admins.",
    tag: "Memory",
    auth: "memory:read",
    query: z.object({
      q: z.string().max(500).optional().meta({ description: "What to look for" }),
      scope: z.enum(lower(MEMORY_SCOPES)).optional(),
      k: z.coerce.number().int().min(1).max(100).default(20).meta({ description: "How many memories to return" }),
    }),
    response: z.object({ items: z.array(MemoryResponse) }),
  }),
  createMemory: defineEndpoint({
    method: "POST",
    path: "/api/v1/memories",
    summary: "Keep a memory: for the whole organisation, for one agent's runs, or for one person (and runs acting for them)",
    tag: "Memory",
    auth: "memory:write",
    body: z.object({
      content: z.string().max(MAX_MEMORY_CHARS).meta({ description: "One fact, preference or episode, in plain words" }),
      scope: z.enum(lower(MEMORY_SCOPES), 'scope must be "org", "agent" or "user".'),
      kind: z.enum(lower(MEMORY_KINDS), 'kind must be "fact", "preference" or "episode".').default("fact"),
      agent: z.string().max(100).optional().meta({ description: "scope agent: the agent's id or slug" }),
      user: z.string().max(320).optional().meta({ description: "scope user: the person's id or email (admins only for someone else); defaults to the key's owner" }),
      ttlDays: z.number().int().min(1).max(3_650).optional().meta({ description: "Delete it after this many days" }),
      pinned: z.boolean().optional().meta({ description: "Pinned memories are recalled first when they match" }),
    }),
    response: z.object({ id: z.string() }),
    successStatus: 201,
  }),
  deleteMemory: defineEndpoint({
    method: "DELETE",
    path: "/api/v1/memories/{id}",
    summary: "Delete a memory for good: with its edit history and the near-duplicates it replaced; search and recall no longer find it",
    tag: "Memory",
    auth: "memory:delete",
    params: IdParams,
    response: z.undefined(),
    successStatus: 204,
  }),
  agentWebhook: defineEndpoint({
    method: "POST",
    path: "/api/hooks/agents/{agentId}/{secret}",
    summary:
      "Inbound webhook: start a run of the agent with the request body as its input (JSON is re-indented, any other content type is taken as text; at most 64 KB). No API key: the secret in the URL is the credential, and the run acts for the person who created it.",
    tag: "Triggers",
    auth: null,
    params: WebhookParams,
    body: z.unknown().meta({ description: "Any JSON value, or text with another Content-Type" }),
    response: z.object({ id: z.string(), status: RunStatusName }),
    successStatus: 201,
    errors: {
      "404": "No webhook with this agent and secret (the same answer for both, by design)",
      "409": "The agent is disabled or archived, or the webhook's person may no longer run agents",
      "413": "The body is larger than 64 KB",
      "429": "Too many calls: at most 60 a minute per agent",
    },
  }),
  listApiKeys: defineEndpoint({
    method: "GET",
    path: "/api/v1/api-keys",
    summary: "API keys of the organisation (never the keys themselves)",
    tag: "Identity",
    auth: "apikeys:manage",
    response: z.object({ items: z.array(ApiKeyResponse) }),
  }),
  createApiKey: defineEndpoint({
    method: "POST",
    path: "/api/v1/api-keys",
    summary: "Create an API key; the key is in the response once and never again",
    tag: "Identity",
    auth: "apikeys:manage",
    body: CreateApiKeyBody,
    response: ApiKeyResponse.extend({ key: z.string() }),
    successStatus: 201,
  }),
  getApiKey: defineEndpoint({
    method: "GET",
    path: "/api/v1/api-keys/{id}",
    summary: "One API key's metadata",
    tag: "Identity",
    auth: "apikeys:manage",
    params: IdParams,
    response: ApiKeyResponse,
  }),
  revokeApiKey: defineEndpoint({
    method: "POST",
    path: "/api/v1/api-keys/{id}/revoke",
    summary: "Revoke an API key; it stops working at once",
    tag: "Identity",
    auth: "apikeys:manage",
    params: IdParams,
    response: ApiKeyResponse,
  }),
};

export type EndpointName = keyof typeof endpoints;
