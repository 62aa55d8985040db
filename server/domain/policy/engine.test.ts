import { describe, expect, it } from "vitest";
import {
  DEFAULT_ALLOW_REASON,
  PolicyCondition,
  UNTRUSTED_CONTENT_REASON,
  decideToolCall,
  describeCondition,
  numberOf,
  specificityOf,
  unclassifiedToolReason,
  validateConditions,
  type ConditionOp,
  type PolicyRule,
  type ToolCallFacts,
} from "./engine";

let counter = 0;
function rule(partial: Partial<PolicyRule> & Pick<PolicyRule, "effect">): PolicyRule {
  counter += 1;
  return {
    id: `p${counter}`,
    name: `rule ${counter}`,
    reason: "",
    agentId: null,
    toolName: null,
    toolRisk: null,
    onBehalfOfUserId: null,
    conditions: [],
    enabled: true,
    ...partial,
  };
}

function facts(partial: Partial<ToolCallFacts> = {}): ToolCallFacts {
  return {
    agentId: "agent-1",
    toolName: "issue_refund",
    toolRisk: "WRITE",
    onBehalfOfUserId: "user-1",
    args: {},
    untrustedContentSeen: false,
    ...partial,
  };
}

/** Whether one condition holds for `args`, read through a single ALLOW rule (which needs every condition to hold). */
function holds(op: ConditionOp, value: unknown, args: Record<string, unknown>, path = "x"): boolean {
  const decision = decideToolCall(
    [rule({ effect: "DENY", reason: "d", toolName: "t", conditions: [{ path, op, value }] })],
    facts({ toolName: "t", args }),
  );
  return decision.effect === "DENY";
}

const REFUND_RULES = (): PolicyRule[] => [
  rule({
    id: "small",
    name: "Refunds up to $100",
    effect: "ALLOW",
    toolName: "issue_refund",
    conditions: [{ path: "amountUsd", op: "lte", value: 100 }],
  }),
  rule({
    id: "large",
    name: "Refunds over $100 need approval",
    effect: "REQUIRE_APPROVAL",
    reason: "Refunds above $100 need a supervisor's approval.",
    toolName: "issue_refund",
    conditions: [{ path: "amountUsd", op: "gt", value: 100 }],
  }),
];

describe("decideToolCall: classification", () => {
  it("denies a tool nobody classified, whatever the rules say", () => {
    const decision = decideToolCall(
      [rule({ effect: "ALLOW" }), rule({ effect: "ALLOW", toolName: "mystery" })],
      facts({ toolName: "mystery", toolRisk: null }),
    );
    expect(decision).toMatchObject({ effect: "DENY", policyId: null, policyName: null, matched: [] });
    expect(decision.reason).toBe('The tool "mystery" has not been classified yet; an admin must classify it before agents can call it.');
    expect(decision.reason).toBe(unclassifiedToolReason("mystery"));
    expect(decision.explanation.at(-1)).toBe("Decision: deny.");
  });
});

describe("decideToolCall: matching", () => {
  it("allows by default when no policy matches", () => {
    const decision = decideToolCall([rule({ effect: "DENY", reason: "no", toolName: "other_tool" })], facts());
    expect(decision).toMatchObject({ effect: "ALLOW", reason: DEFAULT_ALLOW_REASON, policyId: null, policyName: null, matched: [] });
    expect(decision.reason).toBe("No policy matched; granted and classified tools are allowed.");
  });

  it("allows by default with no policies at all", () => {
    expect(decideToolCall([], facts())).toMatchObject({ effect: "ALLOW", policyId: null });
  });

  it("matches a rule only when every non-null match field equals the facts", () => {
    const base = { effect: "DENY" as const, reason: "no" };
    const cases: [Partial<PolicyRule>, boolean][] = [
      [{ agentId: "agent-1" }, true],
      [{ agentId: "agent-2" }, false],
      [{ toolName: "issue_refund" }, true],
      [{ toolName: "send_email" }, false],
      [{ toolRisk: "WRITE" }, true],
      [{ toolRisk: "READ" }, false],
      [{ onBehalfOfUserId: "user-1" }, true],
      [{ onBehalfOfUserId: "user-2" }, false],
      [{ agentId: "agent-1", toolName: "issue_refund", toolRisk: "WRITE", onBehalfOfUserId: "user-1" }, true],
      [{ agentId: "agent-1", toolName: "issue_refund", toolRisk: "WRITE", onBehalfOfUserId: "user-2" }, false],
      [{}, true],
    ];
    for (const [fields, matches] of cases) {
      const decision = decideToolCall([rule({ ...base, ...fields })], facts());
      expect(decision.effect, JSON.stringify(fields)).toBe(matches ? "DENY" : "ALLOW");
    }
  });

  it("skips disabled rules", () => {
    const decision = decideToolCall([rule({ effect: "DENY", reason: "no", toolName: "issue_refund", enabled: false })], facts());
    expect(decision).toMatchObject({ effect: "ALLOW", policyId: null });
    expect(decision.explanation.join("\n")).toContain("1 disabled policy was skipped.");
  });

  it("requires every condition of a rule to hold (AND)", () => {
    const both = rule({
      effect: "DENY",
      reason: "no",
      conditions: [
        { path: "amountUsd", op: "gt", value: 100 },
        { path: "currency", op: "eq", value: "USD" },
      ],
    });
    expect(decideToolCall([both], facts({ args: { amountUsd: 500, currency: "USD" } })).effect).toBe("DENY");
    expect(decideToolCall([both], facts({ args: { amountUsd: 500, currency: "EUR" } })).effect).toBe("ALLOW");
    expect(decideToolCall([both], facts({ args: { amountUsd: 50, currency: "USD" } })).effect).toBe("ALLOW");
  });

  it("counts specificity as non-null match fields plus conditions", () => {
    expect(specificityOf(rule({ effect: "ALLOW" }))).toBe(0);
    expect(specificityOf(rule({ effect: "ALLOW", toolName: "t", conditions: [{ path: "a", op: "exists" }] }))).toBe(2);
    expect(
      specificityOf(
        rule({
          effect: "ALLOW",
          agentId: "a",
          toolName: "t",
          toolRisk: "READ",
          onBehalfOfUserId: "u",
          conditions: [
            { path: "a", op: "exists" },
            { path: "b", op: "exists" },
          ],
        }),
      ),
    ).toBe(6);
  });

  it("lets only the most specific matching rules decide, even when a broader rule is stricter", () => {
    const broadDeny = rule({ id: "broad", effect: "DENY", reason: "No writes.", toolRisk: "WRITE" });
    const specificAllow = rule({
      id: "specific",
      effect: "ALLOW",
      toolName: "issue_refund",
      conditions: [{ path: "amountUsd", op: "lte", value: 100 }],
    });
    const decision = decideToolCall([broadDeny, specificAllow], facts({ args: { amountUsd: 20 } }));
    expect(decision).toMatchObject({ effect: "ALLOW", policyId: "specific" });
    expect(decision.matched.map((m) => [m.id, m.specificity])).toEqual([
      ["specific", 2],
      ["broad", 1],
    ]);
    expect(decision.explanation.join("\n")).toContain("1 less specific policy is set aside");
    // When the specific rule does not apply, the broader one decides.
    expect(decideToolCall([broadDeny, specificAllow], facts({ args: { amountUsd: 200 } }))).toMatchObject({
      effect: "DENY",
      policyId: "broad",
      reason: "No writes.",
    });
  });

  it("breaks ties of equal specificity: deny beats require approval beats allow", () => {
    const allow = rule({ id: "allow", effect: "ALLOW", toolName: "issue_refund" });
    const approve = rule({ id: "approve", effect: "REQUIRE_APPROVAL", reason: "Ask.", toolRisk: "WRITE" });
    const deny = rule({ id: "deny", effect: "DENY", reason: "Never.", agentId: "agent-1" });
    expect(decideToolCall([allow, approve, deny], facts())).toMatchObject({ effect: "DENY", policyId: "deny", reason: "Never." });
    expect(decideToolCall([allow, approve], facts())).toMatchObject({ effect: "REQUIRE_APPROVAL", policyId: "approve", reason: "Ask." });
    expect(decideToolCall([allow], facts())).toMatchObject({ effect: "ALLOW", policyId: "allow" });
    const decision = decideToolCall([allow, approve, deny], facts());
    expect(decision.matched.map((m) => m.effect)).toEqual(["DENY", "REQUIRE_APPROVAL", "ALLOW"]);
    expect(decision.explanation.join("\n")).toContain("deny beats require approval beats allow");
  });

  it("names the deciding rule and uses its reason, or a generated one when it has none", () => {
    const decision = decideToolCall([rule({ id: "x", name: "Allow refunds", effect: "ALLOW", toolName: "issue_refund" })], facts());
    expect(decision).toMatchObject({ policyId: "x", policyName: "Allow refunds", reason: "Allowed by the policy “Allow refunds”." });
  });

  it("decides the seeded refund pair by amount", () => {
    expect(decideToolCall(REFUND_RULES(), facts({ args: { orderId: "1002", amountUsd: 20 } }))).toMatchObject({
      effect: "ALLOW",
      policyId: "small",
    });
    expect(decideToolCall(REFUND_RULES(), facts({ args: { amountUsd: 100 } }))).toMatchObject({ effect: "ALLOW", policyId: "small" });
    expect(decideToolCall(REFUND_RULES(), facts({ args: { amountUsd: 100.01 } }))).toMatchObject({
      effect: "REQUIRE_APPROVAL",
      policyId: "large",
      reason: "Refunds above $100 need a supervisor's approval.",
    });
  });
});

describe("decideToolCall: untrusted content guard", () => {
  it("turns a default allow of a side-effecting call into require approval after untrusted content", () => {
    for (const toolRisk of ["WRITE", "EXTERNAL"] as const) {
      const decision = decideToolCall([], facts({ toolRisk, untrustedContentSeen: true }));
      expect(decision).toMatchObject({ effect: "REQUIRE_APPROVAL", reason: UNTRUSTED_CONTENT_REASON, policyId: null });
    }
    expect(UNTRUSTED_CONTENT_REASON).toBe(
      "Untrusted tool output entered this run; side-effecting calls need a person's approval unless a policy explicitly allows them.",
    );
  });

  it("leaves reads alone", () => {
    expect(decideToolCall([], facts({ toolRisk: "READ", untrustedContentSeen: true }))).toMatchObject({
      effect: "ALLOW",
      reason: DEFAULT_ALLOW_REASON,
    });
  });

  it("does nothing before untrusted content entered the run", () => {
    expect(decideToolCall([], facts({ toolRisk: "EXTERNAL", untrustedContentSeen: false })).effect).toBe("ALLOW");
  });

  it("respects an explicit matching allow rule", () => {
    const decision = decideToolCall(REFUND_RULES(), facts({ args: { amountUsd: 20 }, untrustedContentSeen: true }));
    expect(decision).toMatchObject({ effect: "ALLOW", policyId: "small" });
    expect(decision.explanation.join("\n")).toContain("explicitly allows this call");
  });

  it("keeps a stricter decision as it is", () => {
    expect(decideToolCall(REFUND_RULES(), facts({ args: { amountUsd: 500 }, untrustedContentSeen: true }))).toMatchObject({
      effect: "REQUIRE_APPROVAL",
      policyId: "large",
    });
    const deny = rule({ id: "d", effect: "DENY", reason: "No.", toolName: "issue_refund" });
    expect(decideToolCall([deny], facts({ untrustedContentSeen: true }))).toMatchObject({ effect: "DENY", policyId: "d" });
  });
});

describe("conditions", () => {
  it("compares numbers, coercing numeric strings so a string cannot bypass a limit", () => {
    expect(holds("gt", 100, { x: 101 })).toBe(true);
    expect(holds("gt", 100, { x: 100 })).toBe(false);
    expect(holds("gte", 100, { x: 100 })).toBe(true);
    expect(holds("lt", 100, { x: 99.5 })).toBe(true);
    expect(holds("lte", 100, { x: 100 })).toBe(true);
    expect(holds("lte", 100, { x: 100.01 })).toBe(false);
    expect(holds("gt", 100, { x: "250" })).toBe(true);
    expect(holds("gt", 100, { x: " 250 " })).toBe(true);
    expect(holds("gt", 100, { x: "1e3" })).toBe(true);
    expect(decideToolCall(REFUND_RULES(), facts({ args: { amountUsd: "250" } }))).toMatchObject({
      effect: "REQUIRE_APPROVAL",
      policyId: "large",
    });
    expect(decideToolCall(REFUND_RULES(), facts({ args: { amountUsd: "20" } }))).toMatchObject({ effect: "ALLOW", policyId: "small" });
  });

  it("fails closed on a value that is not a number: restrictive rules apply, allow rules do not", () => {
    for (const amountUsd of ["$250", "1,000", "0x1F4", "Infinity", true, { usd: 250 }]) {
      const decision = decideToolCall(REFUND_RULES(), facts({ args: { amountUsd } }));
      expect(decision, JSON.stringify(amountUsd)).toMatchObject({
        effect: "REQUIRE_APPROVAL",
        policyId: "large",
        matched: [{ id: "large" }],
      });
      expect(decision.explanation.join("\n")).toContain("applies to be safe");
    }
  });

  it("treats a missing path as false, except exists and the negated comparisons", () => {
    const missing = {};
    expect(holds("eq", "a", missing)).toBe(false);
    expect(holds("gt", 1, missing)).toBe(false);
    expect(holds("lte", 1, missing)).toBe(false);
    expect(holds("contains", "a", missing)).toBe(false);
    expect(holds("starts_with", "a", missing)).toBe(false);
    expect(holds("ends_with", "a", missing)).toBe(false);
    expect(holds("matches", "a", missing)).toBe(false);
    expect(holds("in", ["a"], missing)).toBe(false);
    expect(holds("neq", "a", missing)).toBe(true);
    expect(holds("not_contains", "a", missing)).toBe(true);
    expect(holds("not_ends_with", "a", missing)).toBe(true);
    expect(holds("not_in", ["a"], missing)).toBe(true);
    expect(holds("exists", undefined, missing)).toBe(false);
    expect(holds("exists", false, missing)).toBe(true);
    expect(holds("exists", undefined, { x: 0 })).toBe(true);
    expect(holds("exists", undefined, { x: null })).toBe(false);
    expect(holds("exists", undefined, { x: [] })).toBe(false);
  });

  it("sends an email with no recipient to approval under the seeded email pair", () => {
    const rules = [
      rule({ id: "inside", effect: "ALLOW", toolName: "send_email", conditions: [{ path: "to", op: "ends_with", value: "@acme.test" }] }),
      rule({
        id: "outside",
        effect: "REQUIRE_APPROVAL",
        reason: "Outside.",
        toolName: "send_email",
        conditions: [{ path: "to", op: "not_ends_with", value: "@acme.test" }],
      }),
    ];
    const send = (args: Record<string, unknown>) => decideToolCall(rules, facts({ toolName: "send_email", toolRisk: "EXTERNAL", args }));
    expect(send({ to: "bob@acme.test" }).policyId).toBe("inside");
    expect(send({ to: "Bob@ACME.TEST" }).policyId).toBe("inside");
    expect(send({ to: "bob@example.com" }).policyId).toBe("outside");
    expect(send({ to: "bob@acme.test.evil.com" }).policyId).toBe("outside");
    expect(send({}).policyId).toBe("outside");
    // A list of recipients is inside only when every address is.
    expect(send({ to: ["a@acme.test", "b@acme.test"] }).policyId).toBe("inside");
    expect(send({ to: ["a@evil.com", "b@acme.test"] })).toMatchObject({ effect: "REQUIRE_APPROVAL", policyId: "outside" });
  });

  it("compares text without regard to case", () => {
    expect(holds("ends_with", "@acme.test", { x: "Bob@Acme.Test" })).toBe(true);
    expect(holds("starts_with", "re:", { x: "RE: refund" })).toBe(true);
    expect(holds("contains", "URGENT", { x: "this is urgent" })).toBe(true);
    expect(holds("not_contains", "urgent", { x: "this is URGENT" })).toBe(false);
    expect(holds("eq", "usd", { x: "USD" })).toBe(true);
    expect(holds("neq", "usd", { x: "USD" })).toBe(false);
    expect(holds("in", ["open", "paid"], { x: "PAID" })).toBe(true);
    expect(holds("not_in", ["open", "paid"], { x: "closed" })).toBe(true);
    expect(holds("matches", "^ord-\\d+$", { x: "ORD-1002" })).toBe(true);
    expect(holds("matches", "^ord-\\d+$", { x: "ORD-x" })).toBe(false);
  });

  it("compares eq by kind: numbers numerically, booleans as booleans", () => {
    expect(holds("eq", 100, { x: "100" })).toBe(true);
    expect(holds("eq", 100, { x: 100.0 })).toBe(true);
    expect(holds("eq", 100, { x: "abc" })).toBe(false);
    expect(holds("eq", true, { x: true })).toBe(true);
    expect(holds("eq", true, { x: "TRUE" })).toBe(true);
    expect(holds("eq", true, { x: 1 })).toBe(false);
    expect(holds("in", [1, 2], { x: "2" })).toBe(true);
  });

  it("follows dot paths into objects and list indexes, never into the prototype chain", () => {
    expect(holds("ends_with", "@acme.test", { customer: { email: "c@acme.test" } }, "customer.email")).toBe(true);
    expect(holds("eq", "DESK", { items: [{ sku: "DESK" }] }, "items.0.sku")).toBe(true);
    expect(holds("exists", undefined, { items: [] }, "items.0.sku")).toBe(false);
    expect(holds("exists", undefined, {}, "constructor")).toBe(false);
    expect(holds("exists", undefined, { a: "text" }, "a.length")).toBe(false);
  });

  it("fails closed on a stored condition that is not valid", () => {
    const broken = { path: "x", op: "between" as ConditionOp, value: [1, 2] };
    const deny = rule({ id: "deny", effect: "DENY", reason: "no", conditions: [broken] });
    const allow = rule({ id: "allow", effect: "ALLOW", conditions: [broken] });
    expect(decideToolCall([deny], facts({ args: { x: 1 } })).effect).toBe("DENY");
    expect(decideToolCall([allow], facts({ args: { x: 1 } }))).toMatchObject({ effect: "ALLOW", policyId: null });
    const badRegex = rule({ effect: "REQUIRE_APPROVAL", reason: "r", conditions: [{ path: "x", op: "matches", value: "(" }] });
    expect(decideToolCall([badRegex], facts({ args: { x: "a" } })).effect).toBe("REQUIRE_APPROVAL");
  });

  it("explains each step in plain language", () => {
    const decision = decideToolCall(
      [
        ...REFUND_RULES(),
        rule({ effect: "DENY", reason: "x", toolName: "send_email" }),
        rule({ effect: "DENY", reason: "x", enabled: false }),
      ],
      facts({ args: { amountUsd: 250 } }),
    );
    expect(decision.explanation).toEqual([
      "“issue_refund” is classified as write (changes data inside your systems).",
      "“Refunds over $100 need approval” (require approval, specificity 2: tool, 1 condition) applies: amountUsd > 100 holds; amountUsd is 250.",
      "“Refunds up to $100” (allow, specificity 2: tool, 1 condition) does not apply: amountUsd ≤ 100 does not hold; amountUsd is 250.",
      "1 other enabled policy is about other agents, tools, risks or people.",
      "1 disabled policy was skipped.",
      "“Refunds over $100 need approval” decides: require approval.",
      "Decision: require approval.",
    ]);
  });
});

describe("condition validation", () => {
  const issuesOf = (conditions: unknown) => {
    const result = validateConditions(conditions);
    return result.ok ? [] : result.issues;
  };

  it("accepts and normalizes valid conditions", () => {
    const result = validateConditions([
      { path: " amountUsd ", op: "gt", value: "100" },
      { path: "to", op: "ends_with", value: " @acme.test " },
      { path: "status", op: "in", value: ["open", " paid "] },
      { path: "note", op: "exists" },
      { path: "id", op: "matches", value: "^ord-\\d+$" },
    ]);
    expect(result).toEqual({
      ok: true,
      conditions: [
        { path: "amountUsd", op: "gt", value: 100 },
        { path: "to", op: "ends_with", value: "@acme.test" },
        { path: "status", op: "in", value: ["open", "paid"] },
        { path: "note", op: "exists" },
        { path: "id", op: "matches", value: "^ord-\\d+$" },
      ],
    });
  });

  it("explains what is wrong, per row and field", () => {
    expect(issuesOf([{ path: "amountUsd", op: "gt", value: "lots" }])).toEqual([
      { index: 0, field: "value", message: "gt needs a number" },
    ]);
    expect(issuesOf([{ path: "a", op: "lte" }])).toEqual([{ index: 0, field: "value", message: "lte needs a number" }]);
    expect(issuesOf([{ path: "a", op: "matches", value: "(" }])).toEqual([
      { index: 0, field: "value", message: "Not a valid regular expression." },
    ]);
    expect(issuesOf([{ path: "a", op: "ends_with", value: "" }])[0]?.message).toBe("ends_with needs some text, e.g. @acme.test");
    expect(issuesOf([{ path: "a", op: "in", value: [] }])[0]?.message).toBe("in needs a list of values");
    expect(issuesOf([{ path: "a", op: "in", value: [{}] }])[0]?.message).toBe("in needs a list of values: text, numbers, true or false");
    expect(issuesOf([{ path: "a", op: "eq", value: { a: 1 } }])[0]?.message).toBe("eq needs a value: text, a number, true or false");
    expect(issuesOf([{ path: "a", op: "exists", value: "yes" }])[0]?.message).toBe("exists takes true, false or nothing");
    expect(issuesOf([{ path: "a b", op: "eq", value: 1 }])).toEqual([
      { index: 0, field: "path", message: "Use argument names joined by dots, without spaces, e.g. customer.email." },
    ]);
    expect(issuesOf([{ path: "a..b", op: "eq", value: 1 }])[0]?.field).toBe("path");
    expect(issuesOf([{ path: "", op: "between", value: 1 }]).map((i) => i.field)).toEqual(["path", "op"]);
    expect(
      issuesOf([
        { path: "ok", op: "eq", value: 1 },
        { path: "x", op: "gt", value: null },
      ]),
    ).toEqual([{ index: 1, field: "value", message: "gt needs a number" }]);
    expect(issuesOf("nope")).toEqual([{ index: null, field: null, message: "Conditions must be a list." }]);
    expect(issuesOf(Array.from({ length: 21 }, () => ({ path: "a", op: "exists" })))[0]?.message).toBe("At most 20 conditions.");
  });

  it("offers the same checks as a zod schema", () => {
    const bad = PolicyCondition.safeParse({ path: "a", op: "gt", value: "x" });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]).toMatchObject({ path: ["value"], message: "gt needs a number" });
    expect(PolicyCondition.parse({ path: "a", op: "gte", value: "7.5" })).toEqual({ path: "a", op: "gte", value: 7.5 });
  });

  it("reads only decimal numbers as numbers", () => {
    expect(numberOf("250")).toBe(250);
    expect(numberOf("-1.5")).toBe(-1.5);
    expect(numberOf("0x1F4")).toBeNull();
    expect(numberOf("")).toBeNull();
    expect(numberOf("Infinity")).toBeNull();
    expect(numberOf(Number.NaN)).toBeNull();
  });

  it("describes conditions in words", () => {
    expect(describeCondition({ path: "amountUsd", op: "gt", value: 100 })).toBe("amountUsd > 100");
    expect(describeCondition({ path: "to", op: "not_ends_with", value: "@acme.test" })).toBe('to does not end with "@acme.test"');
    expect(describeCondition({ path: "s", op: "in", value: ["a", "b"] })).toBe('s is one of "a", "b"');
    expect(describeCondition({ path: "n", op: "exists" })).toBe("n is present");
  });
});
