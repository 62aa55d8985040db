/**
 * The SCRIPTED provider: a deterministic, offline "model" for demos and tests. It is stateless — the turn to play is
 * the number of assistant messages already in the conversation — so a run resumed from its persisted events on
 * another worker continues exactly where it stopped.
 *
 * Templates in tool args, `say` and `final` strings:
 *   {{input}}                       the first user message
 *   {{input.match:/re/flags:group}} a capture group (default 1, 0 = whole match) of a regex over {{input}}
 *   {{result}} / {{result.a.0.b}}   the most recent tool result (parsed as JSON when it is JSON)
 *   {{results.N.path}}              the N-th tool result of the run, 0-based
 *   {{memories}} / {{citations}}    the memories put into the context at run start ("[memory:id] text" lines) /
 *                                   just their citation markers, as a real model would cite them
 *   ...|number                      assert the value is numeric and produce a number
 *   ...|optional                    an empty string when the value does not exist (instead of an error)
 * Any turn may carry `onlyIf` (a regex over {{input}}, case-insensitive): it is skipped when the input does not match.
 * A tool turn may carry `alsoCall`: more tool calls in the same turn, side by side (parallel tool calls).
 * A tool turn may carry `repeatWhile` (a regex): while its tool result matches, the same turn is played again — a
 * draft resubmitted while the reviewer asks for changes. The turn to play is still derived from the conversation
 * alone (see `currentTurn`).
 * A final turn may carry `onToolError`: said instead of `final` when the last tool call failed ({{result}} is then
 * the error text), so a demo agent can answer sensibly after a person rejected its call.
 * A string that is exactly one template takes the value's own type (object, number, ...); a template embedded in
 * longer text is rendered as text (JSON for objects).
 */
import { ModelCallError } from "./errors";
import { abortableSleep } from "./sleep";
import type { ChatMessage, JsonObject, ModelCallInput, ModelResponse, ScriptTurn, ToolCallRequest } from "./types";
import { estimateInputTokens, estimateOutputTokens } from "./usage";

// Either the regex form (its body may contain braces, so it is matched up to the closing slash) or any other body.
const TEMPLATE =
  /\{\{\s*input\.match:\/((?:\\.|[^\\/\n])+)\/([a-z]*)(?::(\d+))?\s*(\|[^}]*)?\}\}|\{\{([^}]*)\}\}/g;
const NUMERIC = /^-?\d+(?:\.\d+)?$/;

interface TemplateContext {
  input: string | undefined;
  /** "[memory:id] text" lines from the system message (see server/domain/memory/context.ts). */
  memories: string[];
  /** The tool results' raw content, parsed only when a template reads one (most turns read none). */
  results: string[];
  /** "script turn 2 of 3", for error messages. */
  turn: string;
}

function scriptError(message: string): ModelCallError {
  return new ModelCallError({ kind: "script", message });
}

function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function validateScript(script: unknown): ScriptTurn[] {
  if (!Array.isArray(script)) throw scriptError("The scripted model has no script: its agent version must define `script` (a list of turns).");
  script.forEach((turn: unknown, index) => {
    const where = `Script turn ${index + 1} of ${script.length}`;
    if (!isPlainObject(turn)) throw scriptError(`${where} is not an object.`);
    const isTool = "tool" in turn;
    if (isTool === "final" in turn) throw scriptError(`${where} must have exactly one of "tool" or "final".`);
    if (isTool && (typeof turn.tool !== "string" || turn.tool === "")) throw scriptError(`${where}: "tool" must be a non-empty tool name.`);
    if (isTool && turn.args !== undefined && !isPlainObject(turn.args)) throw scriptError(`${where}: "args" must be an object.`);
    if (isTool && turn.say !== undefined && typeof turn.say !== "string") throw scriptError(`${where}: "say" must be a string.`);
    if (isTool && turn.alsoCall !== undefined && (!Array.isArray(turn.alsoCall) || !turn.alsoCall.every((c) => isPlainObject(c) && typeof c.tool === "string" && c.tool !== ""))) {
      throw scriptError(`${where}: "alsoCall" must be a list of { tool, args }.`);
    }
    if (isTool && turn.repeatWhile !== undefined && typeof turn.repeatWhile !== "string") throw scriptError(`${where}: "repeatWhile" must be a regular expression.`);
    if (turn.onlyIf !== undefined && typeof turn.onlyIf !== "string") throw scriptError(`${where}: "onlyIf" must be a regular expression.`);
    if (!isTool && typeof turn.final !== "string") throw scriptError(`${where}: "final" must be a string.`);
    if (!isTool && turn.onToolError !== undefined && typeof turn.onToolError !== "string") throw scriptError(`${where}: "onToolError" must be a string.`);
    const delay = turn.delayMs;
    if (delay !== undefined && (typeof delay !== "number" || !Number.isFinite(delay) || delay < 0)) {
      throw scriptError(`${where}: "delayMs" must be a non-negative number.`);
    }
  });
  return script as ScriptTurn[];
}

// The kernel fences tool output as untrusted data (server/domain/guards/untrusted.ts); a script reads the inside.
const UNTRUSTED_BLOCK = /^<tool_output source="[^"]*" trust="untrusted">\n([\s\S]*)\n<\/tool_output>\n[^\n]*$/;

function parseResult(wrapped: string): unknown {
  const content = UNTRUSTED_BLOCK.exec(wrapped)?.[1] ?? wrapped;
  try {
    return JSON.parse(content);
  } catch {
    return content;
  }
}

function walkPath(root: unknown, segments: string[]): { found: true; value: unknown } | { found: false; at: string } {
  let value = root;
  for (const [i, segment] of segments.entries()) {
    if (Array.isArray(value) && /^\d+$/.test(segment) && Number(segment) < value.length) value = value[Number(segment)];
    else if (isPlainObject(value) && Object.hasOwn(value, segment)) value = value[segment];
    else return { found: false, at: segments.slice(0, i + 1).join(".") };
  }
  return { found: true, value };
}

function resolveExpression(expression: string, ctx: TemplateContext, fail: (why: string) => never): unknown {
  const [head, ...rest] = expression.split(".");
  if (rest.some((segment) => segment === "")) fail("the path has an empty segment");
  if (head === "input" && rest.length === 0) {
    if (ctx.input === undefined) fail("there is no user message");
    return ctx.input;
  }
  if ((head === "memories" || head === "citations") && rest.length === 0) {
    if (ctx.memories.length === 0) fail("no memories were recalled into this run");
    return head === "memories" ? ctx.memories.join("\n") : ctx.memories.map((line) => line.split(" ")[0]).join(" ");
  }
  let root: unknown;
  let path: string[];
  if (head === "result") {
    if (ctx.results.length === 0) fail("there is no tool result yet");
    root = parseResult(ctx.results[ctx.results.length - 1]!);
    path = rest;
  } else if (head === "results") {
    const [index, ...tail] = rest;
    if (index === undefined || !/^\d+$/.test(index)) fail("`results` needs a 0-based result number, e.g. results.0.id");
    if (Number(index) >= ctx.results.length) fail(`only ${ctx.results.length} tool result(s) exist so far`);
    root = parseResult(ctx.results[Number(index)]!);
    path = tail;
  } else {
    fail("unknown template; use input, input.match:/regex/:group, result.<path>, results.<n>.<path>, memories or citations");
  }
  const walked = walkPath(root, path);
  if (!walked.found) fail(`the tool result has no "${walked.at}"`);
  return walked.value;
}

function matchInput(source: string, flags: string, group: number, ctx: TemplateContext, fail: (why: string) => never): unknown {
  if (ctx.input === undefined) fail("there is no user message");
  let regex: RegExp;
  try {
    regex = new RegExp(source, flags);
  } catch (error) {
    fail(`invalid regular expression (${error instanceof Error ? error.message : String(error)})`);
  }
  const match = regex.exec(ctx.input);
  if (!match) fail("the regular expression does not match the input");
  const captured = match[group];
  if (captured === undefined) fail(`capture group ${group} did not take part in the match`);
  return captured;
}

function asText(value: unknown): string {
  if (typeof value === "string") return value;
  return JSON.stringify(value) ?? String(value);
}

/** Resolves every template in `text`; returns the raw value when the whole string is a single template. */
function render(text: string, location: string, ctx: TemplateContext, wholeValue: boolean): unknown {
  const values: unknown[] = [];
  for (const match of text.matchAll(TEMPLATE)) {
    const [template, reSource, reFlags, reGroup, reModifier, body] = match;
    const fail = (why: string): never => {
      throw scriptError(`${ctx.turn}: template ${template} in ${location} cannot be resolved: ${why}.`);
    };
    let value: unknown;
    const modifiers = (reSource !== undefined ? (reModifier ?? "").split("|").slice(1) : (body ?? "").split("|").slice(1)).map((m) => m.trim());
    const optional = modifiers.includes("optional");
    try {
      if (reSource !== undefined) value = matchInput(reSource, reFlags ?? "", reGroup === undefined ? 1 : Number(reGroup), ctx, fail);
      else value = resolveExpression((body ?? "").split("|")[0]!.trim(), ctx, fail);
    } catch (error) {
      if (!optional) throw error;
      value = "";
    }
    for (const modifier of modifiers.filter((m) => m !== "optional")) {
      if (modifier !== "number") fail(`unknown modifier "|${modifier}" (use |number or |optional)`);
      const text = typeof value === "number" ? String(value) : typeof value === "string" ? value.trim() : "";
      if (!NUMERIC.test(text)) fail(`${asText(value)} is not a number`);
      value = Number(text);
    }
    values.push(value);
  }
  if (values.length === 0) return text;
  if (wholeValue && values.length === 1 && text.replace(TEMPLATE, "") === "") return values[0];
  let i = 0;
  return text.replace(TEMPLATE, () => asText(values[i++]));
}

function renderArgs(value: unknown, location: string, ctx: TemplateContext): unknown {
  if (typeof value === "string") return render(value, location, ctx, true);
  if (Array.isArray(value)) return value.map((item, i) => renderArgs(item, `${location}.${i}`, ctx));
  if (isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, renderArgs(item, `${location}.${key}`, ctx)]));
  }
  return value;
}

/**
 * The script position after the conversation so far: each assistant message played one turn, and moved on unless
 * that turn's `repeatWhile` matched the tool result that answered it.
 */
function currentTurn(script: readonly ScriptTurn[], messages: readonly ChatMessage[]): number {
  const input = messages.find((m) => m.role === "user")?.content ?? "";
  const skipped = (position: number) => {
    const turn = script[position];
    return turn?.onlyIf !== undefined && !new RegExp(turn.onlyIf, "i").test(input);
  };
  let position = 0;
  while (skipped(position)) position += 1;
  messages.forEach((message, index) => {
    if (message.role !== "assistant") return;
    const turn = script[position];
    if (turn && "tool" in turn && turn.repeatWhile !== undefined) {
      const answer = messages.slice(index + 1).find((m) => m.role === "tool");
      const result = answer ? parseResult(answer.content) : undefined;
      if (answer && new RegExp(turn.repeatWhile).test(typeof result === "string" ? result : JSON.stringify(result))) return;
    }
    position += 1;
    while (skipped(position)) position += 1;
  });
  return position;
}

/** Plays the next turn of `input.script`. `signal` (default `input.signal`) cancels a turn's delay. */
export async function runScript(input: ModelCallInput, signal: AbortSignal | undefined = input.signal): Promise<ModelResponse> {
  const script = validateScript(input.script);
  const messages: ChatMessage[] = input.history ?? input.messages;
  const turnIndex = messages.filter((m) => m.role === "assistant").length;
  const position = currentTurn(script, messages);
  const turn = script[position];

  let content: string;
  const toolCalls: ToolCallRequest[] = [];
  if (turn === undefined) {
    content = `The script has ended: all ${script.length} scripted turn(s) were played, so there is nothing more to do.`;
  } else {
    const ctx: TemplateContext = {
      input: messages.find((m) => m.role === "user")?.content,
      memories: (messages.find((m) => m.role === "system")?.content ?? "").split("\n").filter((line) => /^\[memory:[^\]\s]+\] /.test(line)),
      results: messages.filter((m) => m.role === "tool").map((m) => m.content),
      turn: `Script turn ${position + 1} of ${script.length}`,
    };
    if ("tool" in turn) {
      const args = renderArgs(turn.args ?? {}, "args", ctx) as JsonObject;
      toolCalls.push({ id: `call_${turnIndex}`, name: turn.tool, args });
      (turn.alsoCall ?? []).forEach((extra, k) => {
        toolCalls.push({ id: `call_${turnIndex}_${k + 1}`, name: extra.tool, args: renderArgs(extra.args ?? {}, `alsoCall.${k}.args`, ctx) as JsonObject });
      });
      content = turn.say === undefined ? "" : asText(render(turn.say, "say", ctx, false));
    } else {
      const last = messages[messages.length - 1];
      const toolFailed = last?.role === "tool" && last.content.startsWith("Error:");
      content = toolFailed && turn.onToolError !== undefined ? asText(render(turn.onToolError, "onToolError", ctx, false)) : asText(render(turn.final, "final", ctx, false));
    }
    if (turn.delayMs) await abortableSleep(turn.delayMs, signal);
  }
  signal?.throwIfAborted();

  return {
    content,
    toolCalls,
    usage: {
      inputTokens: estimateInputTokens(input.messages),
      outputTokens: Math.max(1, estimateOutputTokens(content, toolCalls)),
    },
  };
}
