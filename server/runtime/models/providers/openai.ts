import { ChatOpenAI } from "@langchain/openai";
import type { ModelEndpoint } from "../types";
import { SDK_TIMEOUT_SLACK_MS } from "./shared";

/** Any OpenAI-compatible server: OpenAI itself, vLLM, llama.cpp, LM Studio (base URL ends in /v1). */
export function createOpenAIModel(endpoint: ModelEndpoint): ChatOpenAI {
  return new ChatOpenAI({
    model: endpoint.model,
    // Local servers need no key, but the OpenAI SDK refuses to send a request without one.
    apiKey: endpoint.apiKey ?? "not-needed",
    configuration: { baseURL: endpoint.baseUrl ?? undefined },
    maxRetries: 0,
    maxTokens: endpoint.maxOutputTokens ?? undefined,
    timeout: endpoint.timeoutMs + SDK_TIMEOUT_SLACK_MS,
  });
}
