/** Files of the demo organisation's shared drive, served read-write to agents by the filesystem MCP server. */
export const DEMO_SANDBOX_FILES: Record<string, string> = {
  "employee-handbook.md": `# Acme Corp — Employee handbook (excerpt)

_Last updated: 1 September 2026. Owner: People Operations._

## Who we are
Acme sells home-office furniture online in the US and Canada: desks, chairs, lighting and storage. About 140 people
work here, two thirds of them remote. Headquarters: 410 Market Street, Suite 900, San Francisco.

## Working hours
Core hours are 10:00–15:00 in your own time zone. Support runs 07:00–19:00 Pacific, Monday to Saturday.

## Customer support principles
1. Answer within one business day; most tickets should be answered within four hours.
2. Say what you will do and by when. Never promise a date the warehouse has not confirmed.
3. Refunds follow the refund policy (refund-policy.md). When in doubt, ask your team lead before you act.
4. Never share a customer's personal data outside the ticket.

## Expenses
Submit receipts within 30 days in the finance tool. Anything above $500 needs your manager's approval first.

## Who to ask
- Refunds and payments: finance@acme.test
- Shipping and returns: logistics@acme.test
- Anything else: your team lead, or #help in chat
`,
  "refund-policy.md": `# Refund policy

_Applies to all orders placed on acme.test. Effective 1 July 2026._

## Standard refunds
- Customers may return any item within **30 days of delivery** for a full refund of the item price.
- Items must be unused and in their original packaging. Assembled furniture counts as used unless it arrived damaged.
- Shipping costs are refunded only when the item arrived damaged or we sent the wrong item.

## Damaged or wrong items
- Refund or replace in full, including shipping, without asking for the item back when it is under $150.
- Ask for two photos of the damage for anything above that.

## Partial refunds
- A goodwill partial refund of up to **15 % of the order total** may be offered for late deliveries (more than 5
  business days late) or minor cosmetic damage the customer chooses to keep.

## Approvals
- Any single refund above **$500** needs approval from a support lead before it is issued.
- Refunds on orders older than 90 days need approval from finance.
- Never refund more than the order total, and never to a different payment method than the original one.

## Communication
Tell the customer the amount, the payment method it goes back to, and that banks take 5–10 business days to show it.
`,
  "q3-2026-report.md": `# Q3 2026 — Business review (internal)

| Metric | Q2 2026 | Q3 2026 | Change |
|---|---:|---:|---:|
| Revenue | $4.62 M | $5.18 M | +12.1 % |
| Orders | 11,940 | 13,210 | +10.6 % |
| Average order value | $387 | $392 | +1.3 % |
| Refund rate (by value) | 3.9 % | 3.4 % | −0.5 pt |
| Support tickets | 6,810 | 7,020 | +3.1 % |
| Median first response | 5.2 h | 3.6 h | −31 % |
| Customer satisfaction (CSAT) | 88 % | 91 % | +3 pt |

## Highlights
- The standing desk range (DESK-OAK-140 and siblings) was the top seller: 2,380 units, 21 % of revenue.
- Median first response improved after agents started drafting replies for supervisors to review.
- Damage claims fell after the switch to the new packaging supplier in July.

## Concerns
- Sofa deliveries (SOFA-3S-GRY) averaged 9 business days late in September; expect goodwill refund requests.
- Refunds above $500 took 2.3 days on average to approve; target is same day.

## Q4 priorities
1. Same-day approval of large refunds.
2. Holiday peak staffing: +6 temporary support agents from 15 November.
3. Launch the lighting range in Canada.
`,
  "support-macros.txt": `Support macros — copy, adapt, never send unchanged.

[refund-issued]
Hi {first_name},
We've refunded {amount} to your original payment method for order {order_id}. Banks usually take 5–10 business days
to show it. Sorry again for the trouble — thanks for shopping with Acme.
— {agent_name}, Acme Support

[delivery-delay]
Hi {first_name},
Your order {order_id} is running late: the carrier now expects to deliver it by {new_date}. As an apology we've
refunded {goodwill_amount} to your original payment method.
— {agent_name}, Acme Support

[need-photos]
Hi {first_name},
Sorry your {item} arrived damaged. Could you reply with two photos — one of the damage, one of the box? We'll sort
out a refund or replacement as soon as we see them.
— {agent_name}, Acme Support
`,
};
