import { ChatAnthropic } from "@langchain/anthropic";
import type { ChatMessage, ModelEndpoint } from "../types";
import { SDK_TIMEOUT_SLACK_MS } from "./shared";

export function createAnthropicModel(endpoint: ModelEndpoint): ChatAnthropic {
  return new ChatAnthropic({
    model: endpoint.model,
    // ChatAnthropic throws without a key; a key-less Anthropic-compatible proxy then still works.
    apiKey: endpoint.apiKey ?? "not-needed",
    // The SDK appends /v1/messages itself; people paste base URLs with /v1 because OpenAI's include it.
    anthropicApiUrl: endpoint.baseUrl?.replace(/\/+$/, "").replace(/\/v1$/, "") || undefined,
    maxRetries: 0,
    maxTokens: endpoint.maxOutputTokens ?? undefined,
    // Without an explicit timeout the Anthropic SDK refuses non-streaming calls whose max_tokens suggests > 10 min.
    clientOptions: { timeout: endpoint.timeoutMs + SDK_TIMEOUT_SLACK_MS },
  });
}

/**
 * Anthropic takes the system prompt as a separate field and LangChain only lifts *leading* system messages into it;
 * a later one (e.g. a context summary) would be sent with role "system" and rejected, so all of them move first.
 */
export function systemMessagesFirst(messages: ChatMessage[]): ChatMessage[] {
  return [...messages.filter((m) => m.role === "system"), ...messages.filter((m) => m.role !== "system")];
}
