import type { DbOrTx } from "@/server/db";
import { ensureKnowledgeDocument } from "./knowledge";

/**
 * The demo organisation's "support" collection: the policies the demo agents (and the people reviewing their
 * drafts) cite. Consistent with the demo MCP server's orders, mailbox and refund rules (mcp-servers/demo).
 */
export const DEMO_KNOWLEDGE = [
  {
    collection: "support",
    title: "Refund policy",
    fileName: "refund-policy.md",
    mimeType: "text/markdown",
    text: `# Refund policy

Acme refunds furniture and accessories bought from acme.example, in whole or in part, to the original payment method.

## Who can get a refund

Customers may request a refund within 30 days of delivery. Items must be unused and in their original packaging,
except when they arrived damaged or faulty. Orders that are still processing can be cancelled for a full refund
at any time before they ship.

## How much

- Damaged or faulty items: a full refund of the item, including its share of shipping.
- Change of mind: the item's price; return shipping is paid by the customer.
- Late delivery (more than 10 business days after the promised date): up to 10% of the order total as a goodwill
  refund, without returning anything.

A refund can never exceed what is left to refund on the order: earlier partial refunds count against the total.

## Approval

Refunds up to $100 are issued by the support agent straight away. Refunds over $100 need a supervisor's approval
in Switchboard before they are issued. Refunds reach the customer's account within five business days.
`,
  },
  {
    collection: "support",
    title: "Shipping FAQ",
    fileName: "shipping-faq.md",
    mimeType: "text/markdown",
    text: `# Shipping FAQ

## What do the order statuses mean?

- **Processing**: we have the order and are picking it in the warehouse. Most orders leave within 2 business days.
- **Shipped**: the parcel is with the carrier. The tracking number is in the shipping confirmation email.
- **Delivered**: the carrier has confirmed delivery.

## How long does delivery take?

Small items (lamps, bulbs, mats, monitor arms) arrive 2–4 business days after shipping. Chairs and desks ship
flat-packed and take 3–6 business days. Sofas are delivered by a two-person crew within 10 business days; the crew
calls the day before to agree a time slot.

## My order still says processing

An order that has been processing for more than 3 business days is usually waiting for an item to come back in
stock. Tell the customer the expected date and offer to cancel for a full refund if it no longer suits them.

## Where is my parcel?

Look up the order first. If it is shipped, point the customer to the tracking number in the shipping email; if the
carrier shows no movement for 5 business days, open a trace with the carrier and offer a replacement.
`,
  },
  {
    collection: "support",
    title: "Product care and warranty",
    fileName: "product-care.md",
    mimeType: "text/markdown",
    text: `# Product care and warranty

## Warranty

All furniture carries a two-year warranty against manufacturing defects from the delivery date. Normal wear,
misuse and damage from moving the furniture are not covered. Warranty repairs and replacements are free.

## Lighting

The arc floor lamp takes one E27 bulb of up to 60 W (LED recommended). The LED bulbs, E27, pack of 4 fit it.
Bulbs are consumables: they are not covered by the furniture warranty, but faulty bulbs are replaced within 30 days.

## Desks and chairs

Tighten the bolts of standing desks and task chairs after the first two weeks. The mesh task chair can be cleaned
with a damp cloth and mild soap; never use solvents on the mesh.

## Sofas

Rotate the seat cushions monthly. The linen cushion covers can be washed at 30 °C.
`,
  },
] as const;

/** Adds the demo documents the organisation does not have yet (by collection and title); returns how many it added. */
export async function seedDemoKnowledge(db: DbOrTx, orgId: string): Promise<number> {
  let added = 0;
  for (const document of DEMO_KNOWLEDGE) {
    if (await ensureKnowledgeDocument(db, orgId, document)) added++;
  }
  return added;
}
