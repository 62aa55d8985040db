import { describe, expect, it } from "vitest";
import { ModelCallError } from "./errors";
import { wrapUntrusted } from "../../domain/guards/untrusted";
import { runScript } from "./scripted";
import type { ChatMessage, ModelCallInput, ScriptTurn } from "./types";

const refundScript: ScriptTurn[] = [
  { tool: "lookup_order", args: { orderId: "{{input.match:/order (\\d+)/:1}}" }, say: "Looking up the order." },
  {
    tool: "issue_refund",
    args: {
      orderId: "{{result.order.id}}",
      amountUsd: "{{input.match:/\\$(\\d+(?:\\.\\d+)?)/:1|number}}",
      note: "Refund for {{result.order.customer.name}} ({{input}})",
    },
  },
  { final: "Refunded order {{results.0.order.id}}; confirmation {{result.confirmation}}." },
];

const orderResult = { order: { id: "1001", customer: { name: "Ada" }, items: [{ sku: "A-1" }, { sku: "B-2" }] } };

function input(script: unknown, messages: ChatMessage[], signal?: AbortSignal): ModelCallInput {
  return { messages, tools: [], script: script as ScriptTurn[], signal };
}

function conversation(...turns: Array<{ call: string; result: unknown }>): ChatMessage[] {
  const messages: ChatMessage[] = [
    { role: "system", content: "You are a refund agent." },
    { role: "user", content: "refund order 1001 for $250" },
  ];
  turns.forEach((turn, i) => {
    messages.push({ role: "assistant", content: "", toolCalls: [{ id: `call_${i}`, name: turn.call, args: {} }] });
    messages.push({ role: "tool", toolCallId: `call_${i}`, name: turn.call, content: typeof turn.result === "string" ? turn.result : JSON.stringify(turn.result) });
  });
  return messages;
}

async function scriptError(promise: Promise<unknown>): Promise<ModelCallError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ModelCallError);
  expect((error as ModelCallError).kind).toBe("script");
  return error as ModelCallError;
}

describe("scripted model", () => {
  it("plays the first turn as a tool call with a regex capture from the input", async () => {
    const response = await runScript(input(refundScript, conversation()));
    expect(response.toolCalls).toEqual([{ id: "call_0", name: "lookup_order", args: { orderId: "1001" } }]);
    expect(response.content).toBe("Looking up the order.");
    expect(response.usage.inputTokens).toBeGreaterThan(0);
    expect(response.usage.outputTokens).toBeGreaterThan(0);
  });

  it("turns a |number template into a number and resolves nested paths of the latest result", async () => {
    const response = await runScript(input(refundScript, conversation({ call: "lookup_order", result: orderResult })));
    expect(response.toolCalls).toEqual([
      {
        id: "call_1",
        name: "issue_refund",
        args: { orderId: "1001", amountUsd: 250, note: "Refund for Ada (refund order 1001 for $250)" },
      },
    ]);
    expect(response.content).toBe("");
  });

  it("answers the final turn from earlier results by index and the latest result", async () => {
    const messages = conversation({ call: "lookup_order", result: orderResult }, { call: "issue_refund", result: { confirmation: "R-77" } });
    const response = await runScript(input(refundScript, messages));
    expect(response.toolCalls).toEqual([]);
    expect(response.content).toBe("Refunded order 1001; confirmation R-77.");
  });

  it("plays a repeatWhile turn again while its result matches, then moves on", async () => {
    const script: ScriptTurn[] = [
      { tool: "submit_draft", args: { body: "Draft. {{result.feedback|optional}}" }, repeatWhile: '"changes_requested"' },
      { final: "Draft {{result.decision}}." },
    ];
    const first = await runScript(input(script, conversation()));
    expect(first.toolCalls[0]?.args).toEqual({ body: "Draft. " });
    const again = await runScript(input(script, conversation({ call: "submit_draft", result: { decision: "changes_requested", feedback: "Mention the date." } })));
    expect(again.toolCalls).toEqual([{ id: "call_1", name: "submit_draft", args: { body: "Draft. Mention the date." } }]);
    const done = await runScript(
      input(
        script,
        conversation(
          { call: "submit_draft", result: { decision: "changes_requested", feedback: "Mention the date." } },
          { call: "submit_draft", result: { decision: "accepted" } },
        ),
      ),
    );
    expect(done.toolCalls).toEqual([]);
    expect(done.content).toBe("Draft accepted.");
  });

  it("ends with a summary once every turn has been played", async () => {
    const messages = conversation({ call: "a", result: "x" }, { call: "b", result: "y" });
    messages.push({ role: "assistant", content: "done", toolCalls: [] });
    const response = await runScript(input(refundScript, messages));
    expect(response.toolCalls).toEqual([]);
    expect(response.content).toMatch(/script has ended: all 3 scripted turn/);
  });

  it("keeps the value's type for a whole-string template and renders JSON inside text", async () => {
    const script: ScriptTurn[] = [
      { tool: "noop", args: { x: 1 } },
      {
        tool: "save",
        args: { order: "{{result.order}}", sku: "{{results.0.order.items.1.sku}}", raw: ["{{result.order.customer}} as text"], flag: true },
      },
    ];
    const response = await runScript(input(script, conversation({ call: "noop", result: orderResult })));
    expect(response.toolCalls[0]?.args).toEqual({ order: orderResult.order, sku: "B-2", raw: ['{"name":"Ada"} as text'], flag: true });
  });

  it("reads decimal amounts and the whole match with group 0", async () => {
    const script: ScriptTurn[] = [{ tool: "refund", args: { amount: "{{input.match:/\\$(\\d+(?:\\.\\d+)?)/:1|number}}", phrase: "{{input.match:/for \\S+/i:0}}" } }];
    const response = await runScript(input(script, [{ role: "user", content: "Refund FOR $12.50 please" }]));
    expect(response.toolCalls[0]?.args).toEqual({ amount: 12.5, phrase: "FOR $12.50" });
  });

  it("says onToolError instead of final when the last tool call failed, and reads tool output inside the untrusted fence", async () => {
    const script: ScriptTurn[] = [{ tool: "issue_refund", args: {} }, { final: "Refunded ${{result.amountUsd}}.", onToolError: "No refund: {{result}}" }];
    const failed = await runScript(input(script, conversation({ call: "issue_refund", result: "Error: A person rejected this call: store credit instead." })));
    expect(failed.content).toBe("No refund: Error: A person rejected this call: store credit instead.");
    const fenced = conversation({ call: "issue_refund", result: "" });
    fenced[fenced.length - 1] = { ...fenced[fenced.length - 1]!, content: wrapUntrusted("demo/issue_refund", JSON.stringify({ amountUsd: 200 })) };
    expect((await runScript(input(script, fenced))).content).toBe("Refunded $200.");
  });

  it("uses a tool result that is not JSON as text", async () => {
    const script: ScriptTurn[] = [{ tool: "fetch", args: {} }, { final: "Got: {{result}}" }];
    const response = await runScript(input(script, conversation({ call: "fetch", result: "plain words" })));
    expect(response.content).toBe("Got: plain words");
  });

  it("waits for a turn's delay", async () => {
    const started = performance.now();
    await runScript(input([{ final: "slow", delayMs: 80 }], conversation()));
    expect(performance.now() - started).toBeGreaterThanOrEqual(75);
  });

  it("stops a turn's delay as soon as the signal aborts", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("stop now")), 30);
    const started = performance.now();
    await expect(runScript(input([{ final: "slow", delayMs: 10_000 }], conversation(), controller.signal))).rejects.toThrow("stop now");
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it("names the turn and the template when a template cannot be resolved", async () => {
    const noResult = await scriptError(runScript(input([{ tool: "t", args: { id: "{{result.id}}" } }], conversation())));
    expect(noResult.message).toBe("Script turn 1 of 1: template {{result.id}} in args.id cannot be resolved: there is no tool result yet.");

    const missingPath = await scriptError(
      runScript(input([{ tool: "a", args: {} }, { final: "{{result.order.total}}" }], conversation({ call: "a", result: orderResult }))),
    );
    expect(missingPath.message).toContain('Script turn 2 of 2: template {{result.order.total}} in final cannot be resolved: the tool result has no "order.total"');

    const noMatch = await scriptError(runScript(input([{ tool: "t", args: { n: "{{input.match:/€(\\d+)/:1|number}}" } }], conversation())));
    expect(noMatch.message).toContain("does not match the input");

    const notNumber = await scriptError(runScript(input([{ tool: "t", args: { n: "{{input.match:/order (\\w+)/|number}}" } }], [{ role: "user", content: "order abc" }])));
    expect(notNumber.message).toContain("abc is not a number");

    const unknown = await scriptError(runScript(input([{ final: "{{secrets.key}}" }], conversation())));
    expect(unknown.message).toContain("unknown template");

    const outOfRange = await scriptError(runScript(input([{ final: "{{results.3.id}}" }], conversation())));
    expect(outOfRange.message).toContain("only 0 tool result(s) exist so far");
  });

  it("rejects a malformed script before playing it", async () => {
    expect((await scriptError(runScript(input(undefined, conversation())))).message).toMatch(/has no script/);
    expect((await scriptError(runScript(input([{ final: "ok" }, { say: "hi" }], conversation())))).message).toBe(
      'Script turn 2 of 2 must have exactly one of "tool" or "final".',
    );
    expect((await scriptError(runScript(input([{ tool: "t", args: [] }], conversation())))).message).toContain('"args" must be an object');
    expect((await scriptError(runScript(input([{ final: "x", delayMs: -1 }], conversation())))).message).toContain('"delayMs"');
  });
});
