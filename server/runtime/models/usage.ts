import type { ChatMessage, ModelEndpoint, ModelUsage, ToolCallRequest } from "./types";

/**
 * Token estimate used when a provider reports no usage (and always by the scripted model): one token per four
 * characters, rounded up. It is the usual rule of thumb for English with BPE tokenizers; we deliberately ship no
 * tokenizer, so spend limits on such providers are approximate, never zero.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

function messageText(message: ChatMessage): string {
  return message.role === "assistant" && message.toolCalls.length > 0
    ? message.content + JSON.stringify(message.toolCalls)
    : message.content;
}

/** Estimated prompt size; at least 1, since no real call sends an empty prompt. */
export function estimateInputTokens(messages: ChatMessage[]): number {
  return Math.max(1, estimateTokens(messages.map(messageText).join("")));
}

export function estimateOutputTokens(content: string, toolCalls: ToolCallRequest[]): number {
  return estimateTokens(content + (toolCalls.length > 0 ? JSON.stringify(toolCalls) : ""));
}

/**
 * Integer micro-dollars. Prices are micro-dollars per million tokens, so one division at the end keeps the sum exact
 * (products stay far below 2^53 for any realistic token count and price).
 */
export function costMicros(usage: ModelUsage, endpoint: Pick<ModelEndpoint, "inputPriceMicros" | "outputPriceMicros">): number {
  return Math.round((usage.inputTokens * endpoint.inputPriceMicros + usage.outputTokens * endpoint.outputPriceMicros) / 1_000_000);
}
