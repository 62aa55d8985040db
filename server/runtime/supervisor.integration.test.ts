import { afterAll, beforeAll, expect, it } from "vitest";
import { readDemoLedger } from "@/mcp-servers/demo/ledger";
import { GET as listInboxRoute } from "@/app/api/v1/inbox/route";
import { POST as decideInboxRoute } from "@/app/api/v1/inbox/[id]/route";
import { overrideDatabaseForTests } from "../db";
import { decideInboxItem, getInboxItem, inboxCounts, listInbox } from "../domain/inbox/inbox";
import { seedDefaultPolicies } from "../domain/policy/policies";
import { getRunTree } from "../domain/runs/delegation";
import { cancelRun, createRun, getRunTrace } from "../domain/runs/runs";
import { demoAgents } from "../domain/setup/demo-agents";
import { describeOnEachDatabase } from "../testing/databases";
import { createTestApiKey, createTestOrg, type TestOrg } from "../testing/fixtures";
import { createDemoToolsFor, createScriptedAgent, waitForRun } from "../testing/kernel-fixtures";
import { callRest } from "../testing/rest";
import { createKernelDeps } from "./deps";
import { McpClientPool } from "./mcp/pool";
import type { ScriptTurn } from "./models/types";
import { Worker } from "./worker";

const ENCRYPTION_KEY = Buffer.alloc(32, 7);

/** The seeded email-drafter's own script and tools: the test drives the demo exactly as shipped. */
const emailDrafter = demoAgents("/unused").find((agent) => agent.slug === "email-drafter")!;

describeOnEachDatabase("supervisor work: inbox and delegation", (getDb, kind) => {
  let org: TestOrg;
  let demo: Awaited<ReturnType<typeof createDemoToolsFor>>;
  let worker: Worker;
  const pool = new McpClientPool();

  const emailsOf = (runId: string) => readDemoLedger(demo.ledger).filter((e) => e.kind === "email" && e.idempotencyKey?.startsWith(`${runId}:`));

  async function drafter() {
    return createScriptedAgent(getDb(), org, { tools: emailDrafter.tools, script: emailDrafter.script, submitDrafts: true });
  }

  async function openItemOf(runId: string, revision: number) {
    await waitForRun(getDb(), runId, { until: (s) => s === "WAITING_REVIEW" });
    const { items } = await listInbox(getDb(), org.principals.SUPERVISOR, { status: "PENDING" });
    const item = items.find((i) => i.runId === runId);
    expect(item).toBeDefined();
    expect(item!.currentRevision).toBe(revision);
    return item!;
  }

  beforeAll(async () => {
    const db = getDb();
    overrideDatabaseForTests(db, kind === "pglite" ? { kind: "pglite", dataDir: "memory://" } : { kind: "postgres", url: "test" });
    org = await createTestOrg(db, "supervisor");
    demo = await createDemoToolsFor(db, org);
    await seedDefaultPolicies(db, org.orgId);
    worker = new Worker(createKernelDeps(db, { pool, encryptionKey: ENCRYPTION_KEY }), { pollMs: 50, heartbeatMs: 500, orgIds: [org.orgId] });
    worker.start();
  }, 120_000);

  afterAll(async () => {
    await worker?.stop(2_000);
    await pool.closeAll();
  });

  it("drafts a reply into the inbox; requested changes make revision 2; accepting sends exactly the accepted body", async () => {
    const db = getDb();
    const agent = await drafter();
    const apiKey = await createTestApiKey(db, org, ["inbox:read", "inbox:decide"]);
    const { id: runId } = await createRun(db, org.principals.OWNER, { agent: agent.slug, input: "" });

    const first = await openItemOf(runId, 1);
    expect(first).toMatchObject({ kind: "EMAIL", title: "Re: Where are my chairs?", status: "PENDING", readAt: null });
    expect(await inboxCounts(db, org.principals.MEMBER)).toMatchObject({ pending: expect.any(Number) as unknown, unread: expect.any(Number) as unknown });

    // REST lists it in the documented shape.
    const listed = await callRest(listInboxRoute, apiKey.plaintext, {}, { path: "/api/v1/inbox?status=pending" });
    expect(listed.status).toBe(200);
    const listedBody = (await listed.json()) as { items: Record<string, unknown>[] };
    expect(listedBody.items.find((i) => i.id === first.id)).toEqual({
      id: first.id,
      runId,
      agent: agent.slug,
      kind: "email",
      title: "Re: Where are my chairs?",
      status: "pending",
      revision: 1,
      createdAt: first.createdAt.toISOString(),
    });

    // Feedback is required to request changes; the error names the field.
    await expect(decideInboxItem(db, org.principals.SUPERVISOR, { itemId: first.id, decision: "request_changes" })).rejects.toMatchObject({
      code: "INVALID_INPUT",
      fieldErrors: { feedback: [expect.stringMatching(/Say what should change/) as unknown] },
    });
    const sentBack = await callRest(decideInboxRoute, apiKey.plaintext, { id: first.id }, {
      method: "POST",
      body: JSON.stringify({ decision: "request_changes", feedback: "Please add that the tracking number is in the shipping email." }),
    });
    expect(sentBack.status).toBe(200);

    const second = await openItemOf(runId, 2);
    expect(second.id).toBe(first.id);
    const detail = await getInboxItem(db, org.principals.SUPERVISOR, second.id);
    expect(detail.revisions.map((r) => [r.revision, r.author, r.feedback])).toEqual([
      [1, "AGENT", "Please add that the tracking number is in the shipping email."],
      [2, "AGENT", null],
    ]);
    expect(detail.revisions[1]!.body).toContain("tracking number is in the shipping email");
    expect(detail.sources.map((s) => s.tool)).toEqual(["read_customer_email", "lookup_order"]);
    expect(detail.commitAction).toMatchObject({ tool: "send_email", args: { to: "rahul.mehta@example.com" }, bodyArg: "body" });

    // A stale decision (on revision 1) is refused; then the reviewer edits revision 2 and accepts it.
    await expect(decideInboxItem(db, org.principals.SUPERVISOR, { itemId: second.id, decision: "accept", expectedRevision: 1 })).rejects.toMatchObject({ code: "CONFLICT" });
    const acceptedBody = `${detail.revisions[1]!.body}\n\nP.S. Your chairs ship with free assembly.`;
    await decideInboxItem(db, org.principals.SUPERVISOR, { itemId: second.id, decision: "accept", body: acceptedBody, expectedRevision: 2 });
    await expect(decideInboxItem(db, org.principals.OWNER, { itemId: second.id, decision: "discard" })).rejects.toMatchObject({
      code: "CONFLICT",
      message: expect.stringMatching(/already accepted by/) as unknown,
    });

    const run = await waitForRun(db, runId);
    expect(run.status).toBe("SUCCEEDED");
    expect(run.output).toBe("The reply to Rahul Mehta was accepted (revision 3).");
    const emails = emailsOf(runId);
    expect(emails).toHaveLength(1);
    expect(emails[0]).toMatchObject({ to: "rahul.mehta@example.com", subject: "Re: Where are my chairs?", body: acceptedBody });

    const final = await getInboxItem(db, org.principals.SUPERVISOR, second.id);
    expect(final.status).toBe("ACCEPTED");
    expect(final.revisions.map((r) => [r.revision, r.author])).toEqual([
      [1, "AGENT"],
      [2, "AGENT"],
      [3, "HUMAN"],
    ]);
    // The commit ran through policy acting for the reviewer; policy held the external email and the reviewer's
    // acceptance (they may decide approvals) was the approval.
    const trace = await getRunTrace(db, org.principals.OWNER, runId);
    const commitDecision = trace.find((e) => e.type === "POLICY_DECISION" && (e.payload as { commitOf?: string }).commitOf);
    expect(commitDecision?.payload).toMatchObject({ effect: "REQUIRE_APPROVAL", onBehalfOfUserId: org.principals.SUPERVISOR.userId, approvedBy: org.principals.SUPERVISOR.email });
    expect(trace.filter((e) => e.type === "DRAFT").map((e) => [e.status, (e.payload as { outcome?: string }).outcome])).toEqual([
      ["OK", "CHANGES_REQUESTED"],
      ["OK", "ACCEPTED"],
    ]);
  });

  it("discarding a draft sends nothing, and cancelling a run under review discards its draft", async () => {
    const db = getDb();
    const agent = await drafter();
    const { id: discarded } = await createRun(db, org.principals.OWNER, { agent: agent.slug, input: "the email about order 1004" });
    const item = await openItemOf(discarded, 1);
    expect(item.title).toBe("Re: Monitor arm order");
    await decideInboxItem(db, org.principals.SUPERVISOR, { itemId: item.id, decision: "discard" });
    const run = await waitForRun(db, discarded);
    expect(run).toMatchObject({ status: "SUCCEEDED", output: "The reply to Liam O'Brien was discarded (revision 1)." });
    expect(emailsOf(discarded)).toHaveLength(0);

    const { id: cancelled } = await createRun(db, org.principals.OWNER, { agent: agent.slug, input: "Sofia" });
    const waiting = await openItemOf(cancelled, 1);
    await cancelRun(db, org.principals.OWNER, cancelled);
    expect((await waitForRun(db, cancelled)).status).toBe("CANCELLED");
    expect((await getInboxItem(db, org.principals.SUPERVISOR, waiting.id)).status).toBe("DISCARDED");
    await expect(decideInboxItem(db, org.principals.SUPERVISOR, { itemId: waiting.id, decision: "accept" })).rejects.toMatchObject({ code: "CONFLICT" });
  });

  it("a draft whose commit tool the agent does not have is refused back to the model, and another org cannot see the item", async () => {
    const db = getDb();
    const script: ScriptTurn[] = [
      { tool: "submit_draft", args: { kind: "memo", title: "T", body: "B" } },
      { tool: "submit_draft", args: { kind: "document", title: "T", body: "B", commit: { tool: "issue_refund", args: {} } } },
      { final: "{{results.0}} | {{result}}" },
    ];
    const agent = await createScriptedAgent(db, org, { tools: ["lookup_order"], script, submitDrafts: true });
    const { id } = await createRun(db, org.principals.OWNER, { agent: agent.slug, input: "x" });
    const run = await waitForRun(db, id);
    expect(run.status).toBe("SUCCEEDED");
    expect(run.output).toContain("kind must be one of email, document or ticket_reply.");
    expect(run.output).toContain('commit.tool "issue_refund" is not one of your tools (lookup_order)');

    const other = await createTestOrg(db, "outsider");
    const mine = await listInbox(db, org.principals.OWNER, {});
    expect(mine.items.length).toBeGreaterThan(0);
    await expect(getInboxItem(db, other.principals.OWNER, mine.items[0]!.id)).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect((await listInbox(db, other.principals.OWNER, {})).items).toEqual([]);
  });

  it("a parent delegates to two agents side by side: each child has its own trace, and the tree rolls costs up", async () => {
    const db = getDb();
    const childScript = (label: string): ScriptTurn[] => [
      { tool: "lookup_order", args: { orderId: "{{input.match:/order (\\d+)/:1}}" }, delayMs: 300 },
      { final: `${label}: order {{result.id}} is {{result.status}}.` },
    ];
    const shipping = await createScriptedAgent(db, org, { tools: ["lookup_order"], script: childScript("Shipping"), slug: `shipping-${kind}` });
    const billing = await createScriptedAgent(db, org, { tools: ["lookup_order"], script: childScript("Billing"), slug: `billing-${kind}` });
    const parent = await createScriptedAgent(db, org, {
      tools: [],
      delegateAgentIds: [shipping.agentId, billing.agentId],
      script: [
        {
          tool: `delegate_to_shipping_${kind}`,
          args: { task: "Check order 1002 for {{input}}" },
          alsoCall: [{ tool: `delegate_to_billing_${kind}`, args: { task: "Check order 1005 for {{input}}" } }],
        },
        { final: "Both answered. {{results.0}} {{results.1}}" },
      ],
    });
    const { id } = await createRun(db, org.principals.MEMBER, { agent: parent.slug, input: "a customer" });
    const run = await waitForRun(db, id);
    expect(run.status).toBe("SUCCEEDED");
    expect(run.output).toContain("Shipping: order 1002 is shipped.");
    expect(run.output).toContain("Billing: order 1005 is delivered.");

    const children = await db.run.findMany({ where: { parentRunId: id }, orderBy: { createdAt: "asc" }, include: { agent: { select: { slug: true } } } });
    expect(children.map((c) => [c.agent.slug, c.trigger, c.status, c.onBehalfOfUserId])).toEqual([
      [`shipping-${kind}`, "DELEGATION", "SUCCEEDED", org.principals.MEMBER.userId],
      [`billing-${kind}`, "DELEGATION", "SUCCEEDED", org.principals.MEMBER.userId],
    ]);
    for (const child of children) {
      const trace = await getRunTrace(db, org.principals.MEMBER, child.id);
      expect(trace[0]).toMatchObject({ type: "RUN_STARTED", name: child.agent.slug });
      expect(trace.some((e) => e.type === "TOOL_CALL" && e.name === "lookup_order" && e.status === "OK")).toBe(true);
    }
    // Both children were started before the parent waited: the parent parked once and resumed after them.
    const parentTrace = await getRunTrace(db, org.principals.MEMBER, id);
    const delegations = parentTrace.filter((e) => e.type === "DELEGATION");
    expect(delegations.map((e) => e.status)).toEqual(["OK", "OK"]);
    expect(delegations[1]!.seq).toBeLessThan(parentTrace.findIndex((e) => e.type === "RUN_RESUMED") + 1);

    const tree = await getRunTree(db, org.principals.MEMBER, children[1]!.id);
    expect(tree.rootId).toBe(id);
    expect(tree.nodes.map((n) => [n.depth, n.agent.slug])).toEqual([
      [0, parent.slug],
      [1, `shipping-${kind}`],
      [1, `billing-${kind}`],
    ]);
    const [root, a, b] = tree.nodes;
    expect(a!.costMicros).toBeGreaterThan(0);
    expect(root!.treeCostMicros).toBe(root!.costMicros + a!.costMicros + b!.costMicros);
    await expect(getRunTree(db, (await createTestOrg(db, "peeker")).principals.OWNER, id)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("refuses delegating to a disabled agent, and the model is told why", async () => {
    const db = getDb();
    const helper = await createScriptedAgent(db, org, { tools: [], script: [{ final: "done" }], slug: `helper-${kind}` });
    const parent = await createScriptedAgent(db, org, {
      tools: [],
      delegateAgentIds: [helper.agentId],
      script: [{ tool: `delegate_to_helper_${kind}`, args: { task: "help" } }, { final: "ok", onToolError: "Could not delegate: {{result}}" }],
    });
    await db.agent.update({ where: { id: helper.agentId }, data: { status: "DISABLED" } });
    const { id } = await createRun(db, org.principals.OWNER, { agent: parent.slug, input: "go" });
    const run = await waitForRun(db, id);
    expect(run.output).toMatch(/Could not delegate: .*could not start: The agent "helper-.*" is disabled/);
  });
});
