import { AIMessage, type BaseMessage, HumanMessage, SystemMessage, ToolMessage } from "@langchain/core/messages";
import { randomUUID } from "node:crypto";
import type { ChatMessage, JsonObject, ModelCallInput, ModelResponse, ToolCallRequest, ToolSpec } from "../types";
import { estimateInputTokens, estimateOutputTokens } from "../usage";

export function toLangChainMessages(messages: ChatMessage[]): BaseMessage[] {
  return messages.map((message) => {
    switch (message.role) {
      case "system":
        return new SystemMessage(message.content);
      case "user":
        return new HumanMessage(message.content);
      case "assistant":
        return new AIMessage({
          content: message.content,
          tool_calls: message.toolCalls.map((call) => ({ id: call.id, name: call.name, args: call.args, type: "tool_call" as const })),
        });
      case "tool":
        return new ToolMessage({ content: message.content, tool_call_id: message.toolCallId, name: message.name });
    }
  });
}

/** OpenAI function format: every LangChain chat model's bindTools accepts it and converts for its own API. */
export function toOpenAITools(tools: ToolSpec[]) {
  return tools.map((tool) => ({
    type: "function" as const,
    function: {
      name: tool.name,
      description: tool.description,
      // Providers reject a parameters schema without a type; MCP schemas always have one, hand-written ones may not.
      parameters: { type: "object", properties: {}, ...tool.inputSchema },
    },
  }));
}

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Converts the model's reply. Calls whose arguments were not a JSON object (LangChain's `invalid_tool_calls`) are kept
 * with `invalidArgs`, so the loop can tell the model what was wrong rather than drop the call silently.
 */
export function fromLangChainMessage(message: BaseMessage, input: ModelCallInput): ModelResponse {
  const ai = AIMessage.isInstance(message) ? message : undefined;
  const toolCalls: ToolCallRequest[] = [];
  for (const call of ai?.tool_calls ?? []) {
    const id = call.id || `call_${randomUUID()}`;
    if (isJsonObject(call.args)) toolCalls.push({ id, name: call.name, args: call.args });
    else toolCalls.push({ id, name: call.name, args: {}, invalidArgs: JSON.stringify(call.args) });
  }
  for (const call of ai?.invalid_tool_calls ?? []) {
    toolCalls.push({ id: call.id || `call_${randomUUID()}`, name: call.name ?? "", args: {}, invalidArgs: call.args ?? "" });
  }
  // `.text` joins the text blocks only: Anthropic returns tool_use and thinking blocks in `content` as well.
  const content = message.text;
  const reported = ai?.usage_metadata;
  // Some OpenAI-compatible servers omit `usage`, and Ollama reports zeros without eval counts: a real call is never
  // free, so a zero or missing count falls back to the chars/4 estimate (see usage.ts).
  return {
    content,
    toolCalls,
    usage: {
      inputTokens: reported?.input_tokens || estimateInputTokens(input.messages),
      outputTokens: reported?.output_tokens || estimateOutputTokens(content, toolCalls),
    },
  };
}
