/**
 * The demo business's MCP server: Acme's order desk. Four tools an agent can use — read the support mailbox, look up
 * an order, refund it, email the customer — with side effects recorded in an append-only ledger instead of a real payment provider or
 * mail server.
 *
 *   node --import tsx mcp-servers/demo/server.ts [--ledger <file>]
 *
 * Speaks MCP over stdio; logs go to stderr only (stdout carries the protocol). This is a separate program, not
 * Switchboard code, so it reads its own configuration from argv and the environment.
 *
 * Exactly-once side effects: a call that carries `_meta["switchboard/idempotencyKey"]` whose key is already in the
 * ledger returns the original result and records nothing. Switchboard retries an interrupted tool call with the
 * same key, so a crash between "refund issued" and "result saved" never refunds twice.
 */
import path from "node:path";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { appendDemoLedger, readDemoLedger, withLedgerLock, type DemoLedgerEntry } from "./ledger";

const IDEMPOTENCY_META_KEY = "switchboard/idempotencyKey";

interface Order {
  id: string;
  customer: string;
  email: string;
  items: { sku: string; name: string; quantity: number; unitPriceUsd: number }[];
  totalUsd: number;
  status: "processing" | "shipped" | "delivered";
  placedAt: string;
}

/** A fixed catalogue, so demos and tests are reproducible. Totals are the sums of their items. */
const ORDERS: readonly Order[] = [
  {
    id: "1001",
    customer: "Jane Cooper",
    email: "jane.cooper@example.com",
    items: [
      { sku: "DESK-OAK-140", name: "Standing desk, oak, 140 cm", quantity: 1, unitPriceUsd: 549 },
      { sku: "MAT-ERGO", name: "Anti-fatigue mat", quantity: 1, unitPriceUsd: 49 },
    ],
    totalUsd: 598,
    status: "delivered",
    placedAt: "2026-09-02T10:14:00Z",
  },
  {
    id: "1002",
    customer: "Rahul Mehta",
    email: "rahul.mehta@example.com",
    items: [{ sku: "CHAIR-MESH-BLK", name: "Mesh task chair, black", quantity: 2, unitPriceUsd: 189.5 }],
    totalUsd: 379,
    status: "shipped",
    placedAt: "2026-09-08T16:40:00Z",
  },
  {
    id: "1003",
    customer: "Sofia Alvarez",
    email: "sofia.alvarez@example.com",
    items: [
      { sku: "LAMP-ARC", name: "Arc floor lamp", quantity: 1, unitPriceUsd: 129 },
      { sku: "BULB-E27-4", name: "LED bulbs, E27, pack of 4", quantity: 2, unitPriceUsd: 14.75 },
    ],
    totalUsd: 158.5,
    status: "delivered",
    placedAt: "2026-09-11T09:05:00Z",
  },
  {
    id: "1004",
    customer: "Liam O'Brien",
    email: "liam.obrien@example.com",
    items: [{ sku: "MON-ARM-DUAL", name: "Dual monitor arm", quantity: 1, unitPriceUsd: 89.99 }],
    totalUsd: 89.99,
    status: "processing",
    placedAt: "2026-09-14T18:22:00Z",
  },
  {
    id: "1005",
    customer: "Mei Tanaka",
    email: "mei.tanaka@example.com",
    items: [
      { sku: "SOFA-3S-GRY", name: "Three-seat sofa, grey", quantity: 1, unitPriceUsd: 1240 },
      { sku: "CUSH-LIN-2", name: "Linen cushions, pair", quantity: 1, unitPriceUsd: 60 },
    ],
    totalUsd: 1300,
    status: "delivered",
    placedAt: "2026-09-15T12:00:00Z",
  },
];

interface CustomerEmail {
  id: string;
  from: string;
  customer: string;
  orderId: string;
  subject: string;
  body: string;
  receivedAt: string;
}

/** The support mailbox: customer emails waiting for a reply, newest first. Fixed, like the orders. */
const MAILBOX: readonly CustomerEmail[] = [
  {
    id: "m-2041",
    from: "rahul.mehta@example.com",
    customer: "Rahul Mehta",
    orderId: "1002",
    subject: "Where are my chairs?",
    body: "Hi Acme,\n\nI ordered two mesh chairs (order 1002) on 8 September and haven't received them yet. Could you tell me when they will arrive?\n\nThanks,\nRahul",
    receivedAt: "2026-09-16T08:12:00Z",
  },
  {
    id: "m-2038",
    from: "liam.obrien@example.com",
    customer: "Liam O'Brien",
    orderId: "1004",
    subject: "Monitor arm order",
    body: "Hello,\n\nMy order 1004 still says processing. Is anything wrong with it?\n\nLiam",
    receivedAt: "2026-09-15T19:40:00Z",
  },
  {
    id: "m-2031",
    from: "sofia.alvarez@example.com",
    customer: "Sofia Alvarez",
    orderId: "1003",
    subject: "Bulbs for the arc lamp",
    body: "Hi,\n\nThe lamp from order 1003 arrived, thank you! Do the bulbs I ordered fit it?\n\nBest,\nSofia",
    receivedAt: "2026-09-12T10:02:00Z",
  },
];

/** The email a query names (its id, order number, sender or customer name), or the newest one for an empty query. */
function findEmail(query: string): CustomerEmail | undefined {
  const q = query.trim().toLowerCase();
  if (q === "") return MAILBOX[0];
  return MAILBOX.find(
    (email) =>
      q.includes(email.id) ||
      new RegExp(`\\b${email.orderId}\\b`).test(q) ||
      q.includes(email.from) ||
      q.includes(email.customer.toLowerCase()) ||
      q.includes(email.customer.split(" ")[0]!.toLowerCase()),
  );
}

function ledgerPath(): string {
  const flag = process.argv.indexOf("--ledger");
  const fromFlag = flag >= 0 ? process.argv[flag + 1] : process.argv.find((a) => a.startsWith("--ledger="))?.slice(9);
  if (fromFlag) return path.resolve(fromFlag);
  if (process.env.DEMO_MCP_LEDGER) return path.resolve(process.env.DEMO_MCP_LEDGER);
  return path.resolve(process.env.SWITCHBOARD_DATA_DIR ?? "./data", "demo-mcp", "ledger.jsonl");
}

const LEDGER = ledgerPath();

function findOrder(orderId: string): Order | undefined {
  return ORDERS.find((order) => order.id === orderId.trim().replace(/^#/, ""));
}

function result(value: Record<string, unknown>): CallToolResult {
  return { content: [{ type: "text", text: JSON.stringify(value, null, 2) }], structuredContent: value };
}

function failure(message: string): CallToolResult {
  return { content: [{ type: "text", text: message }], isError: true };
}

function idempotencyKeyOf(meta: Record<string, unknown> | undefined): string | null {
  const key = meta?.[IDEMPOTENCY_META_KEY];
  return typeof key === "string" && key.length > 0 ? key : null;
}

/** Side effects run one at a time in this process; the ledger lock covers other processes. */
let queue: Promise<unknown> = Promise.resolve();
function serialised<T>(fn: () => Promise<T>): Promise<T> {
  const next = queue.then(fn, fn);
  queue = next.catch(() => undefined);
  return next;
}

/**
 * Runs a side effect exactly once per idempotency key: under the lock, a key already in the ledger returns the
 * result recorded with it; otherwise `effect` decides and its entry is appended (and fsynced) before answering.
 */
function recordOnce(
  key: string | null,
  effect: (ledger: DemoLedgerEntry[]) => { entry: DemoLedgerEntry } | { error: string },
): Promise<CallToolResult> {
  return serialised(() =>
    withLedgerLock(LEDGER, () => {
      const ledger = readDemoLedger(LEDGER);
      if (key) {
        const previous = ledger.find((entry) => entry.idempotencyKey === key);
        // The original answer, byte for byte: the caller cannot tell a replay from the first call.
        if (previous) return result(previous.result as Record<string, unknown>);
      }
      const outcome = effect(ledger);
      if ("error" in outcome) return failure(outcome.error);
      appendDemoLedger(LEDGER, outcome.entry);
      return result(outcome.entry.result as Record<string, unknown>);
    }),
  );
}

const roundCents = (usd: number) => Math.round(usd * 100) / 100;

function newId(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

const server = new McpServer({ name: "acme-orders", version: "1.0.0" }, { capabilities: { tools: {} } });

server.registerTool(
  "read_customer_email",
  {
    title: "Read a customer email",
    description:
      "Reads an email from the support mailbox: the one a query names (message id like m-2041, order number, customer name or address), or the newest when the query is empty.",
    inputSchema: { query: z.string().max(2_000).default("").describe("What to look for; empty for the newest email") },
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  },
  ({ query }) => {
    const email = findEmail(query);
    if (!email) return failure(`No email in the mailbox matches "${query}". Try a message id (m-2041), an order number or a customer's name.`);
    return result({ ...email });
  },
);

server.registerTool(
  "lookup_order",
  {
    title: "Look up an order",
    description: "Returns an Acme order by its number: customer, email, items, total in USD, status and refunds so far.",
    inputSchema: { orderId: z.string().min(1).describe("The order number, e.g. 1001") },
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  },
  ({ orderId }) => {
    const order = findOrder(orderId);
    if (!order) return failure(`There is no order ${orderId}. Order numbers look like 1001.`);
    const refundedUsd = roundCents(
      readDemoLedger(LEDGER)
        .filter((entry) => entry.kind === "refund" && entry.orderId === order.id)
        .reduce((sum, entry) => sum + (entry.kind === "refund" ? entry.amountUsd : 0), 0),
    );
    return result({ ...order, refundedUsd });
  },
);

server.registerTool(
  "issue_refund",
  {
    title: "Issue a refund",
    description:
      "Refunds part or all of an order to the customer's original payment method. The amount cannot exceed what is left to refund on the order.",
    inputSchema: {
      orderId: z.string().min(1).describe("The order number, e.g. 1001"),
      amountUsd: z.number().positive().describe("Amount to refund in US dollars, e.g. 49.99"),
    },
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  },
  ({ orderId, amountUsd }, extra) =>
    recordOnce(idempotencyKeyOf(extra._meta), (ledger) => {
      const order = findOrder(orderId);
      if (!order) return { error: `There is no order ${orderId}; nothing was refunded.` };
      const amount = roundCents(amountUsd);
      const refunded = roundCents(
        ledger.reduce((sum, entry) => sum + (entry.kind === "refund" && entry.orderId === order.id ? entry.amountUsd : 0), 0),
      );
      const remaining = roundCents(order.totalUsd - refunded);
      if (amount > remaining) {
        return {
          error: `Cannot refund $${amount.toFixed(2)} on order ${order.id}: the order total is $${order.totalUsd.toFixed(2)} and $${refunded.toFixed(2)} was already refunded, so at most $${remaining.toFixed(2)} can be refunded.`,
        };
      }
      const refundId = newId("rf");
      const at = new Date().toISOString();
      return {
        entry: {
          at,
          kind: "refund",
          idempotencyKey: idempotencyKeyOf(extra._meta),
          orderId: order.id,
          amountUsd: amount,
          refundId,
          result: {
            refundId,
            orderId: order.id,
            customer: order.customer,
            amountUsd: amount,
            totalRefundedUsd: roundCents(refunded + amount),
            status: "refunded",
            refundedAt: at,
          },
        },
      };
    }),
);

server.registerTool(
  "send_email",
  {
    title: "Send an email",
    description: "Sends an email from support@acme.test to a customer. Use plain text; the body is sent as written.",
    inputSchema: {
      to: z.email().describe("Recipient address"),
      subject: z.string().min(1).max(200).describe("Subject line"),
      body: z.string().min(1).max(20_000).describe("Plain-text body"),
    },
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  },
  ({ to, subject, body }, extra) =>
    recordOnce(idempotencyKeyOf(extra._meta), () => {
      const messageId = newId("msg");
      const at = new Date().toISOString();
      return {
        entry: {
          at,
          kind: "email",
          idempotencyKey: idempotencyKeyOf(extra._meta),
          to,
          subject,
          body,
          messageId,
          result: { messageId, to, subject, status: "sent", sentAt: at },
        },
      };
    }),
);

async function main(): Promise<void> {
  await server.connect(new StdioServerTransport());
  console.error(`acme-orders MCP server ready (ledger: ${LEDGER})`);
}

main().catch((error: unknown) => {
  console.error("acme-orders MCP server failed:", error);
  process.exit(1);
});
